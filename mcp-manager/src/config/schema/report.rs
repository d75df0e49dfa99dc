//! How a problem is worded: where it is, "expected X, found Y", unknown keys with a "did you mean"
//! (also for what other clients call our keys), and keys written twice.

use super::super::document::{Entry, Format, Node, Span, Value};
use super::super::suggest::did_you_mean;
use super::{RawProblem, Schema};

/// What other clients call our keys, for "did you mean".
const OTHER_CLIENTS_NAMES: &[(&str, &str)] = &[
    ("serverUrl", "url"),
    ("httpUrl", "url"),
    ("workingDirectory", "cwd"),
];

impl Schema<'_> {
    pub(super) fn report(&mut self, span: &Span, key: &str, message: impl Into<String>) {
        self.problems.push(RawProblem {
            offset: span.start,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    /// "expected X, found Y" at `node`.
    pub(super) fn expected(&mut self, node: &Node, path: &str, what: &str) {
        let found = node.value.describe(self.format);
        let hint = match &node.value {
            Value::Integer(_) | Value::Float(_) | Value::Bool(_) if what.contains("string") => {
                format!(" (in quotes: \"{}\")", scalar_text(&node.value))
            }
            Value::String(_) if what.contains("array") => {
                " (write a list, such as [\"a\", \"b\"])".to_owned()
            }
            _ => String::new(),
        };
        self.report(
            &node.span,
            path,
            format!("expected {what}, found {found}{hint}"),
        );
    }

    /// Something read but not used: a warning, which never fails the file.
    pub(super) fn warn(&mut self, span: &Span, key: &str, message: impl Into<String>) {
        self.found.warnings.push(RawProblem {
            offset: span.start,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    /// A server key we do not use: an error in TOML, our own format; a warning in another
    /// client's JSON file, which may hold keys of that client's that we have no use for.
    pub(super) fn unknown_server_key(&mut self, entry: &Entry, path: &str, known: &[&str]) {
        match self.format {
            Format::Toml => self.unknown_key(entry, path, known),
            Format::Json => {
                // Without the list of our keys: another client's key is not a misspelling of one.
                let message = match suggestion(entry, known) {
                    Some(key) => {
                        format!(
                            "unknown key {:?} (did you mean {key:?}?); ignored",
                            entry.key
                        )
                    }
                    None => format!("unknown key {:?}; ignored", entry.key),
                };
                self.warn(&entry.key_span, path, message);
            }
        }
    }

    pub(super) fn unknown_key(&mut self, entry: &Entry, path: &str, known: &[&str]) {
        let message = unknown_key_message(entry, known);
        self.report(&entry.key_span, path, message);
    }

    /// The entries of a table with repeated keys reported and dropped (JSON allows writing a key
    /// twice; which one wins is not something a user should have to guess).
    pub(super) fn unique<'n>(&mut self, entries: &'n [Entry], path: &str) -> Vec<&'n Entry> {
        let mut seen: Vec<&'n Entry> = Vec::with_capacity(entries.len());
        for entry in entries {
            if seen.iter().any(|earlier| earlier.key == entry.key) {
                self.report(
                    &entry.key_span,
                    path,
                    format!("key {:?} is written twice; keep one", entry.key),
                );
            } else {
                seen.push(entry);
            }
        }
        seen
    }
}

/// Which of `known` the user probably meant by `entry`'s key.
fn suggestion<'k>(entry: &Entry, known: &[&'k str]) -> Option<&'k str> {
    did_you_mean(&entry.key, known).or_else(|| {
        OTHER_CLIENTS_NAMES
            .iter()
            .find(|(theirs, ours)| *theirs == entry.key && known.contains(ours))
            .and_then(|(_, ours)| known.iter().copied().find(|key| key == ours))
    })
}

fn unknown_key_message(entry: &Entry, known: &[&str]) -> String {
    match suggestion(entry, known) {
        Some(key) => format!("unknown key {:?} (did you mean {key:?}?)", entry.key),
        None => format!(
            "unknown key {:?} (known keys: {})",
            entry.key,
            known.join(", ")
        ),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}
