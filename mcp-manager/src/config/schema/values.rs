//! Plain value types, each read or reported: tables, strings, booleans, lists of strings,
//! durations with a unit, and URLs (with any credentials masked in messages).

use std::time::Duration;

use super::super::document::{Entry, Node, Value, table_word};
use super::Schema;

impl Schema<'_> {
    pub(super) fn table<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Entry]> {
        match &node.value {
            Value::Table(entries) => Some(entries),
            _ => {
                self.expected(node, path, table_word(self.format));
                None
            }
        }
    }

    pub(super) fn string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        match &node.value {
            Value::String(s) => Some(s),
            _ => {
                self.expected(node, path, "a string");
                None
            }
        }
    }

    pub(super) fn non_empty_string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        let s = self.string(node, path)?;
        if s.trim().is_empty() {
            self.report(&node.span, path, "is empty");
            return None;
        }
        Some(s)
    }

    pub(super) fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.expected(node, path, "true or false");
                None
            }
        }
    }

    pub(super) fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let Value::Array(items) = &node.value else {
            self.expected(node, path, "an array of strings");
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.string(item, &format!("{path}[{i}]")) {
                Some(s) => strings.push(s.to_owned()),
                None => ok = false,
            }
        }
        ok.then_some(strings)
    }

    pub(super) fn duration(
        &mut self,
        node: &Node,
        path: &str,
        zero_allowed: bool,
    ) -> Option<Duration> {
        match &node.value {
            Value::String(text) => match humantime::parse_duration(text) {
                Ok(duration) if duration.is_zero() && !zero_allowed => {
                    self.report(&node.span, path, "must be longer than zero");
                    None
                }
                Ok(duration) => Some(duration),
                Err(cause) => {
                    self.report(
                        &node.span,
                        path,
                        format!(
                            "invalid duration {text:?} ({cause}); write a number and a unit, \
                             such as \"250ms\", \"30s\" or \"2m\""
                        ),
                    );
                    None
                }
            },
            Value::Integer(n) => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "expected a duration with a unit, found the number {n} \
                         (write \"{n}s\" for seconds or \"{n}ms\" for milliseconds)"
                    ),
                );
                None
            }
            _ => {
                self.expected(node, path, "a duration such as \"30s\"");
                None
            }
        }
    }

    pub(super) fn url(&mut self, node: &Node, path: &str, text: &str) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(url) => Some(url),
            Err(cause) => {
                self.report(
                    &node.span,
                    path,
                    format!(
                        "{text:?} is not a URL ({cause}); write it in full, such as \
                         \"https://example.com/mcp\""
                    ),
                );
                None
            }
        }
    }
}

/// A URL for a message, quoted, with any credentials in it masked.
pub(super) fn shown_url(text: &str, url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return format!("{text:?}");
    }
    let mut masked = url.clone();
    // Only fails for URLs that cannot have credentials, which these have.
    let _ = masked.set_username("***");
    if masked.password().is_some() {
        let _ = masked.set_password(Some("***"));
    }
    format!("{:?}", masked.as_str())
}

/// `"a", "b" or "c"`, for messages listing the valid values.
pub(super) fn quoted_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|value| format!("{value:?}")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
