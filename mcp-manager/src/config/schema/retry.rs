//! The `retry` table: keys and value types checked here, so each problem has its line; the policy
//! itself built by `mcp_retry`'s own deserialiser.

use mcp_retry::{Jitter, RetryPolicy};
use serde::Deserialize;
use serde::de::value::{Error as PlainError, StrDeserializer};

use super::super::document::{Entry, Value};
use super::keys::RETRY_KEYS;
use super::{Schema, join};

impl Schema<'_> {
    /// The retry table: keys and value types checked here, so each problem has its line; the
    /// policy itself built by `mcp_retry`'s own deserialiser, so the file form is exactly the one
    /// that crate documents.
    pub(super) fn retry(&mut self, entry: &Entry, path: &str) -> Option<RetryPolicy> {
        let entries = self.table(&entry.value, path)?;
        let before = self.problems.len();
        for field in self.unique(entries, path) {
            let key_path = join(path, &field.key);
            let node = &field.value;
            match field.key.as_str() {
                "attempts" | "max_attempts" => match node.value {
                    Value::Integer(n) if u32::try_from(n).is_ok() => {}
                    Value::Integer(n) => self.report(
                        &node.span,
                        &key_path,
                        format!("{n} is not a number of attempts (1 or more)"),
                    ),
                    _ => self.expected(node, &key_path, "a whole number of attempts"),
                },
                "base_delay" | "max_delay" | "max_elapsed" => {
                    self.duration(node, &key_path, true);
                }
                "factor" => {
                    if !matches!(node.value, Value::Integer(_) | Value::Float(_)) {
                        self.expected(node, &key_path, "a number, such as 2 or 1.5");
                    }
                }
                "jitter" => {
                    if let Some(text) = self.string(node, &key_path) {
                        let jitter = StrDeserializer::<PlainError>::new(text);
                        if let Err(cause) = Jitter::deserialize(jitter) {
                            self.report(&node.span, &key_path, cause.to_string());
                        }
                    }
                }
                _ => self.unknown_key(field, path, RETRY_KEYS),
            }
        }
        if self.problems.len() > before {
            return None;
        }
        match RetryPolicy::deserialize(entry.value.value.to_json()) {
            Ok(policy) => Some(policy),
            Err(cause) => {
                // What is left is the policy's own rule (`PolicyError`), about the table as a whole.
                self.report(&entry.key_span, path, cause.to_string());
                None
            }
        }
    }
}
