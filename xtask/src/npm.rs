//! Pinned npm packages, installed under `target/` only when an installed version differs.
//!
//! `cargo xtask npm-deps` installs the packages the interop tests run against into `target/npm/`;
//! the tests find them at the same place (`target/npm/node_modules/...`), so the pins here are the
//! one version of each they ever see. Other tasks (`cargo xtask conformance`, `cargo xtask bench`)
//! call [`install`] with their own prefix and pins; the benchmark shares the TypeScript SDK's.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{TaskError, workspace_root};

/// The official MCP reference server, and the one version of it the interop tests are written for.
/// Its counts of tools, resources and prompts are asserted by `tests/tests/it/interop_everything.rs`:
/// change both together.
pub(crate) const SERVER_EVERYTHING: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/server-everything",
    version: "2026.8.31",
};

/// The official filesystem server: `mcpcord --root` is tested against it (it takes the client's roots
/// as its allowed directories, and complains when a client offers none).
const SERVER_FILESYSTEM: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/server-filesystem",
    version: "2026.8.31",
};

/// The official TypeScript SDK. The interop tests' legacy HTTP+SSE server
/// (`tests/node/legacy_sse_server.cjs`, its `SSEServerTransport`) and the benchmark's stock server
/// (`bench/node/stock_server.cjs`) are written against this version.
pub(crate) const TYPESCRIPT_SDK: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/sdk",
    version: "1.32.2",
};

/// The web framework the TypeScript SDK's examples serve with (`createMcpExpressApp`).
pub(crate) const EXPRESS: NpmPackage = NpmPackage {
    name: "express",
    version: "5.3.0",
};

/// The schema library the TypeScript SDK takes tool arguments in (a peer dependency).
pub(crate) const ZOD: NpmPackage = NpmPackage {
    name: "zod",
    version: "4.6.7",
};

/// One package at one exact version.
pub(crate) struct NpmPackage {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
}

impl NpmPackage {
    /// `name@version`, as npm takes it.
    pub(crate) fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Where npm puts its `package.json` under `prefix`.
    fn manifest(&self, prefix: &Path) -> PathBuf {
        prefix
            .join("node_modules")
            .join(self.name)
            .join("package.json")
    }

    /// Whether it is installed under `prefix` at exactly its version.
    fn is_installed(&self, prefix: &Path) -> bool {
        installed_version(&self.manifest(prefix)).as_deref() == Some(self.version)
    }
}

/// `cargo xtask npm-deps`: the interop tests' packages, into `target/npm/`: the reference server,
/// the filesystem server, and the SDK with what `tests/node/legacy_sse_server.cjs` needs beside it.
/// server-everything depends on the SDK and express too; pinned here, the versions the tests run
/// stay these whatever its version ranges would let npm pick.
pub(crate) fn interop_deps() -> Result<(), TaskError> {
    install(
        &workspace_root().join("target").join("npm"),
        &[
            SERVER_EVERYTHING,
            SERVER_FILESYSTEM,
            TYPESCRIPT_SDK,
            EXPRESS,
            ZOD,
        ],
    )
}

/// Installs `packages` into the npm prefix `prefix` with one `npm install`, skipped when every one
/// of them is already there at its version.
pub(crate) fn install(prefix: &Path, packages: &[NpmPackage]) -> Result<(), TaskError> {
    let specs: Vec<String> = packages.iter().map(NpmPackage::spec).collect();
    if packages.iter().all(|package| package.is_installed(prefix)) {
        println!(
            "{} already installed in {}",
            specs.join(", "),
            prefix.display()
        );
        return Ok(());
    }
    std::fs::create_dir_all(prefix).map_err(|error| {
        TaskError::new(format!("could not create {}: {error}", prefix.display()))
    })?;
    npm_install(prefix, &specs)?;
    let wrong: Vec<String> = packages
        .iter()
        .filter(|package| !package.is_installed(prefix))
        .map(|package| {
            let manifest = package.manifest(prefix);
            format!(
                "{} has version {:?}, not {}",
                manifest.display(),
                installed_version(&manifest),
                package.version
            )
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "npm reported success but {}",
            wrong.join("; ")
        )))
    }
}

fn npm_install(prefix: &Path, specs: &[String]) -> Result<(), TaskError> {
    let prefix_arg = prefix.to_string_lossy();
    let mut args = vec![
        "install",
        "--prefix",
        prefix_arg.as_ref(),
        "--no-audit",
        "--no-fund",
        "--save-exact",
    ];
    args.extend(specs.iter().map(String::as_str));
    println!("$ npm {}", args.join(" "));
    let status = Command::new("npm")
        .args(&args)
        .current_dir(workspace_root())
        .status()
        .map_err(|error| match error.kind() {
            ErrorKind::NotFound => TaskError::new(
                "`npm` is not on PATH; install Node.js with npm (e.g. `apt-get install nodejs npm`), \
                 then run the task again",
            ),
            _ => TaskError::new(format!("could not start `npm`: {error}")),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "`npm install {}` failed ({status})",
            specs.join(" ")
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
