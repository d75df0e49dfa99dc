//! A parsed configuration file as one tree, whatever its format, in which every value and key
//! remembers where it was written, so that a problem can name its line.

use std::ops::Range;

/// Byte offsets into the configuration text.
pub(super) type Span = Range<usize>;

/// The file formats we read; they differ in syntax and in the words messages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Toml,
    Json,
}

/// Text that is not well-formed TOML or JSON: where, and what the parser expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub(super) offset: usize,
    pub(super) message: String,
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub(super) span: Span,
    pub(super) value: Value,
}

/// The kinds of value both formats share (plus TOML's date-times and JSON's null, which our schema
/// never accepts but must still describe).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    String(String),
    Integer(i128),
    Float(f64),
    Bool(bool),
    Null,
    Datetime,
    Array(Vec<Node>),
    /// Entries in the order the file writes them; JSON may repeat a key, TOML never does.
    Table(Vec<Entry>),
}

/// One `key = value` (or `"key": value`) of a table.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) key_span: Span,
    pub(super) value: Node,
}

impl Value {
    /// How a message names what was found: "a string", "the number 30", "true", "an object".
    ///
    /// Strings are never quoted here: a string in the wrong place may be a pasted secret.
    pub(super) fn describe(&self, format: Format) -> String {
        match self {
            Value::String(_) => "a string".to_owned(),
            Value::Integer(n) => format!("the number {n}"),
            Value::Float(x) => format!("the number {x}"),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_owned(),
            Value::Datetime => "a date-time".to_owned(),
            Value::Array(_) => "an array".to_owned(),
            Value::Table(_) => table_word(format).to_owned(),
        }
    }

    /// The value as JSON, for handing a table to a type's own `Deserialize` (the retry policy).
    pub(super) fn to_json(&self) -> serde_json::Value {
        match self {
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Integer(n) => {
                if let Ok(n) = i64::try_from(*n) {
                    n.into()
                } else if let Ok(n) = u64::try_from(*n) {
                    n.into()
                } else {
                    // Precision is lost only for numbers no setting accepts anyway.
                    let n = *n as f64;
                    serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into)
                }
            }
            Value::Float(x) => {
                serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Null | Value::Datetime => serde_json::Value::Null,
            Value::Array(items) => items.iter().map(|item| item.value.to_json()).collect(),
            Value::Table(entries) => entries
                .iter()
                .map(|entry| (entry.key.clone(), entry.value.value.to_json()))
                .collect(),
        }
    }
}

/// "a table" in TOML, "an object" in JSON.
pub(super) fn table_word(format: Format) -> &'static str {
    match format {
        Format::Toml => "a table",
        Format::Json => "an object",
    }
}

/// Turns byte offsets into 1-based line and column numbers. Columns count characters, not bytes,
/// so a line with `é` or `日本` before the problem still points at the right place.
pub(super) struct LineIndex<'t> {
    text: &'t str,
    /// The byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self { text, starts }
    }

    /// The line and column of `offset`; past the end means the end, inside a character means the
    /// character.
    pub(super) fn locate(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_columns() {
        let index = LineIndex::new("ab\ncd\n\nef");
        assert_eq!(index.locate(0), (1, 1));
        assert_eq!(index.locate(1), (1, 2));
        assert_eq!(index.locate(2), (1, 3));
        assert_eq!(index.locate(3), (2, 1));
        assert_eq!(index.locate(6), (3, 1));
        assert_eq!(index.locate(7), (4, 1));
        assert_eq!(index.locate(99), (4, 3));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "x = \"日本é\" y";
        let index = LineIndex::new(text);
        let y = text.find('y').unwrap();
        assert_eq!(index.locate(y), (1, 11));
        // An offset inside a multibyte character points at that character.
        assert_eq!(index.locate(text.find('本').unwrap() + 1), (1, 7));
    }

    #[test]
    fn crlf_line_endings_count_once() {
        let index = LineIndex::new("a\r\nb");
        assert_eq!(index.locate(3), (2, 1));
    }
}
