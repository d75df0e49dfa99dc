//! `cargo xtask npm-deps`: the npm packages the interop tests run against, installed under
//! `target/npm/` at pinned versions, and only when the installed version differs.
//!
//! The tests find the packages at the same place (`target/npm/node_modules/...`), so the pin here is
//! the one version they ever see.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{TaskError, workspace_root};

/// The official MCP reference server, and the one version of it the interop tests are written for.
/// Its counts of tools, resources and prompts are asserted by `tests/tests/interop_everything.rs`:
/// change both together.
const SERVER_EVERYTHING: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/server-everything",
    version: "2026.8.31",
};

/// One package at one exact version.
struct NpmPackage {
    name: &'static str,
    version: &'static str,
}

impl NpmPackage {
    /// `name@version`, as npm takes it.
    fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Where npm puts its `package.json` under `prefix`.
    fn manifest(&self, prefix: &Path) -> PathBuf {
        prefix
            .join("node_modules")
            .join(self.name)
            .join("package.json")
    }
}

/// Installs the pinned packages into `target/npm/`, skipping any already there at its version.
pub(crate) fn install() -> Result<(), TaskError> {
    let prefix = workspace_root().join("target").join("npm");
    let package = &SERVER_EVERYTHING;
    let manifest = package.manifest(&prefix);
    if installed_version(&manifest).as_deref() == Some(package.version) {
        println!(
            "{} already installed in {}",
            package.spec(),
            prefix.display()
        );
        return Ok(());
    }
    std::fs::create_dir_all(&prefix).map_err(|error| {
        TaskError::new(format!("could not create {}: {error}", prefix.display()))
    })?;
    npm_install(&prefix, &package.spec())?;
    match installed_version(&manifest) {
        Some(version) if version == package.version => Ok(()),
        found => Err(TaskError::new(format!(
            "npm reported success but {} has version {found:?}, not {}",
            manifest.display(),
            package.version
        ))),
    }
}

fn npm_install(prefix: &Path, spec: &str) -> Result<(), TaskError> {
    let prefix_arg = prefix.to_string_lossy();
    let args = [
        "install",
        "--prefix",
        prefix_arg.as_ref(),
        "--no-audit",
        "--no-fund",
        "--save-exact",
        spec,
    ];
    println!("$ npm {}", args.join(" "));
    let status = Command::new("npm")
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|error| match error.kind() {
            ErrorKind::NotFound => TaskError::new(
                "`npm` is not on PATH; install Node.js with npm (e.g. `apt-get install nodejs npm`), \
                 then run `cargo xtask npm-deps` again",
            ),
            _ => TaskError::new(format!("could not start `npm`: {error}")),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "`npm install {spec}` failed ({status})"
        )))
    }
}

/// The `version` of an installed package, or `None` if it is missing or unreadable (then npm runs).
fn installed_version(manifest: &Path) -> Option<String> {
    top_level_version(&std::fs::read_to_string(manifest).ok()?)
}

/// The value of the top-level `"version"` key of a `package.json`, found by a scan that tracks
/// nesting and strings (xtask stays std-only, so there is no JSON parser to hand).
fn top_level_version(json: &str) -> Option<String> {
    let bytes = json.as_bytes();
    let mut depth = 0_usize;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b'"' => {
                let end = closing_quote(bytes, at + 1)?;
                let rest = json[end + 1..].trim_start();
                if depth == 1 && &json[at + 1..end] == "version" {
                    let value = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
                    return Some(value[..closing_quote(value.as_bytes(), 0)?].to_owned());
                }
                at = end;
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The index of the quote that ends a JSON string whose contents start at `from`.
fn closing_quote(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        match bytes.get(at)? {
            b'"' => return Some(at),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::top_level_version;

    #[test]
    fn version_is_read_from_a_package_manifest() {
        let json =
            "{\n  \"name\": \"x\",\n  \"version\" : \"2026.8.31\",\n  \"dependencies\": {}\n}";
        assert_eq!(top_level_version(json).as_deref(), Some("2026.8.31"));
    }

    #[test]
    fn nested_versions_are_not_the_package_version() {
        let json = r#"{"name": "a\"version", "engines": {"version": "1"}, "version": "2.0.0"}"#;
        assert_eq!(top_level_version(json).as_deref(), Some("2.0.0"));
    }

    #[test]
    fn a_manifest_without_a_version_has_none() {
        assert_eq!(top_level_version("{\"name\": \"x\"}"), None);
        assert_eq!(top_level_version("{\"version\": 3}"), None);
    }
}
