//! Environment variables: the names of variables that hold secrets (never the secrets),
//! placeholder expansion in values, and a stdio server's `env` table, `envFile` and working
//! directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::super::document::Node;
use super::super::placeholder::{expand, expand_paths, is_env_name};
use super::{Schema, join};

/// The most an `envFile` may hold: 64 KiB, far more than any real one.
const MAX_ENV_FILE_BYTES: u64 = 64 * 1024;

impl Schema<'_> {
    /// A variable name for a secret: checked, never quoted back (it may be the secret itself).
    pub(super) fn env_name(&mut self, node: &Node, path: &str, holds: &str) -> Option<String> {
        let name = self.string(node, path)?;
        if is_env_name(name) {
            Some(name.to_owned())
        } else {
            self.report(
                &node.span,
                path,
                format!(
                    "must be the name of the environment variable that holds {holds} \
                     (letters, digits and \"_\", not starting with a digit), not {holds} itself"
                ),
            );
            None
        }
    }

    /// A string with its `${env:NAME}` placeholders expanded.
    pub(super) fn expanded(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.string(node, path)?;
        match expand(text, self.placeholders) {
            Ok(value) => Some(value),
            Err(problems) => {
                for problem in problems {
                    self.report(&node.span, path, problem);
                }
                None
            }
        }
    }

    pub(super) fn env_vars(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        let entries = self.table(node, path)?;
        let mut vars = BTreeMap::new();
        let mut ok = true;
        for entry in self.unique(entries, path) {
            let var_path = join(path, &entry.key);
            if entry.key.is_empty() || entry.key.contains(['=', '\0']) {
                self.report(
                    &entry.key_span,
                    &var_path,
                    "is not a valid environment variable name (it must be non-empty, without \"=\")",
                );
                ok = false;
            }
            let Some(value) = self.expanded(&entry.value, &var_path) else {
                ok = false;
                continue;
            };
            if value.contains('\0') {
                self.report(&entry.value.span, &var_path, "contains a NUL character");
                ok = false;
            }
            vars.insert(entry.key.clone(), value);
        }
        ok.then_some(vars)
    }

    /// `text` (the value of `node`) with `${workspaceFolder}` and `${userHome}` expanded.
    pub(super) fn paths_expanded(&mut self, node: &Node, path: &str, text: &str) -> Option<String> {
        match expand_paths(text, self.placeholders) {
            Ok(expanded) => Some(expanded),
            Err(problem) => {
                self.report(&node.span, path, problem);
                None
            }
        }
    }

    /// The working directory, relative to the config file's directory unless absolute.
    pub(super) fn cwd(&mut self, node: &Node, path: &str) -> Option<PathBuf> {
        let dir = self.non_empty_string(node, path)?;
        let dir = self.paths_expanded(node, path, dir)?;
        // `components()` drops the `.` segments that `cwd = "."` would otherwise leave behind.
        Some(self.base_dir.join(dir).components().collect())
    }

    /// VS Code's `envFile`: the variables of a dotenv file, relative to the config file's
    /// directory. Its values are taken as written (no placeholders), and never quoted back.
    pub(super) fn env_file(&mut self, node: &Node, path: &str) -> Option<BTreeMap<String, String>> {
        use std::io::Read as _;

        let name = self.non_empty_string(node, path)?;
        let name = self.paths_expanded(node, path, name)?;
        let file = self.base_dir.join(name);
        let mut bytes = Vec::new();
        let read = std::fs::File::open(&file)
            .and_then(|f| f.take(MAX_ENV_FILE_BYTES + 1).read_to_end(&mut bytes));
        if let Err(error) = read {
            self.report(
                &node.span,
                path,
                format!("cannot read {}: {error}", file.display()),
            );
            return None;
        }
        if bytes.len() as u64 > MAX_ENV_FILE_BYTES {
            self.report(
                &node.span,
                path,
                format!(
                    "{} is larger than the limit of {} KiB for an env file",
                    file.display(),
                    MAX_ENV_FILE_BYTES / 1024
                ),
            );
            return None;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            self.report(
                &node.span,
                path,
                format!("{} is not UTF-8 text", file.display()),
            );
            return None;
        };
        match parse_dotenv(&text) {
            Ok(vars) => Some(vars),
            Err(line) => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "{} line {line}: expected NAME=VALUE (a name of letters, digits and \"_\")",
                        file.display()
                    ),
                );
                None
            }
        }
    }
}

/// The variables of a dotenv file: `NAME=VALUE` lines, optionally after `export `, with blank lines
/// and `#` comments skipped and one pair of matching quotes around a value removed. The number of
/// the first line that is none of these, if any.
fn parse_dotenv(text: &str) -> Result<BTreeMap<String, String>, usize> {
    let mut vars = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(i + 1);
        };
        let name = name.trim();
        if !is_env_name(name) {
            return Err(i + 1);
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|&q| value.strip_prefix(q).and_then(|v| v.strip_suffix(q)))
            .unwrap_or(value);
        vars.insert(name.to_owned(), unquoted.to_owned());
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::parse_dotenv;

    #[test]
    fn dotenv_lines_are_names_and_values_with_comments_exports_and_quotes() {
        let vars = parse_dotenv(
            "# comment\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\nD='x'\nE=\nF=a=b\n",
        )
        .unwrap();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            vars,
            [
                ("A", "1"),
                ("B", "two words"),
                ("C", "quoted # not a comment"),
                ("D", "x"),
                ("E", ""),
                ("F", "a=b"),
            ]
        );
    }

    #[test]
    fn a_line_that_is_not_name_equals_value_is_named_by_number() {
        assert_eq!(parse_dotenv("A=1\njust text\n"), Err(2));
        assert_eq!(parse_dotenv("A=1\n1X=2\n"), Err(2));
    }
}
