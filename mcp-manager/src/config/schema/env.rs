//! Environment variables: the names of variables that hold secrets (never the secrets),
//! `${env:NAME}` expansion in values, and a stdio server's `env` table and working directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::super::document::Node;
use super::super::placeholder::{expand, is_env_name};
use super::{Schema, join};

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
        match expand(text, self.env) {
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

    /// The working directory, relative to the config file's directory unless absolute.
    pub(super) fn cwd(&mut self, node: &Node, path: &str) -> Option<PathBuf> {
        let dir = self.non_empty_string(node, path)?;
        // `components()` drops the `.` segments that `cwd = "."` would otherwise leave behind.
        Some(self.base_dir.join(dir).components().collect())
    }
}
