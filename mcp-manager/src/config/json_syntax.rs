//! JSON text to a [`Node`] tree.
//!
//! serde_json keeps no positions for values, and a configuration error must name its line, so this
//! small recursive-descent parser finds the structure and the span of every key and value. Decoding
//! stays serde_json's job: each string and number literal is handed to it as written, so escapes,
//! surrogate pairs and number syntax follow serde_json exactly.
//!
//! It also reads what VS Code's `mcp.json` (JSON with comments) allows: `//` and `/* */` comments and
//! trailing commas. Claude Desktop and Cursor files are plain JSON, which is a subset.

use super::document::{Entry, Node, SyntaxError, Value};

/// Deeper nesting than this is refused (as serde_json does) rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// How much of an unexpected word a syntax error quotes.
const MAX_QUOTED: usize = 16;

/// Parses one JSON (or JSON-with-comments) document.
pub(super) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    parser.skip_blank()?;
    let value = parser.value()?;
    parser.skip_blank()?;
    if parser.pos < text.len() {
        return Err(parser.error_here(format!(
            "unexpected {} after the end of the JSON document",
            parser.found()
        )));
    }
    Ok(value)
}

struct Parser<'t> {
    text: &'t str,
    /// Always on a character boundary: it only ever steps over ASCII bytes, or to just after one.
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            offset,
            message: format!("invalid JSON: {}", message.into()),
        }
    }

    fn error_here(&self, message: impl Into<String>) -> SyntaxError {
        self.error(self.pos, message)
    }

    /// What is at the current position, for "expected X, found Y".
    fn found(&self) -> String {
        let rest = self.text.get(self.pos..).unwrap_or("");
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .take(MAX_QUOTED)
            .collect();
        if !word.is_empty() {
            return format!("`{word}`");
        }
        match rest.chars().next() {
            None => "the end of the file".to_owned(),
            Some(c) if c.is_control() => format!("`{}`", c.escape_debug()),
            Some(c) => format!("`{c}`"),
        }
    }

    /// Skips whitespace and comments.
    fn skip_blank(&mut self) -> Result<(), SyntaxError> {
        let bytes = self.text.as_bytes();
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match bytes.get(self.pos + 1) {
                    Some(b'/') => {
                        self.pos = self.text[self.pos..]
                            .find('\n')
                            .map_or(self.text.len(), |at| self.pos + at);
                    }
                    Some(b'*') => {
                        let start = self.pos;
                        let end = self.text[start + 2..].find("*/").ok_or_else(|| {
                            self.error(start, "unterminated comment: `/*` without `*/`")
                        })?;
                        self.pos = start + 2 + end + 2;
                    }
                    _ => {
                        return Err(self.error_here(
                            "unexpected `/` (comments are written `// ...` or `/* ... */`)",
                        ));
                    }
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Node, SyntaxError> {
        let start = self.pos;
        let value = match self.peek() {
            Some(b'{') => self.nested(Self::object)?,
            Some(b'[') => self.nested(Self::array)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            None => return Err(self.error_here("the file ends where a value was expected")),
            Some(_) => return Err(self.unexpected_value()),
        };
        Ok(Node {
            span: start..self.pos,
            value,
        })
    }

    fn unexpected_value(&self) -> SyntaxError {
        let hint = if self.peek() == Some(b'\'') {
            " (strings are written in double quotes)"
        } else {
            ""
        };
        self.error_here(format!("expected a value, found {}{hint}", self.found()))
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Value, SyntaxError>,
    ) -> Result<Value, SyntaxError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error_here(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Value, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_blank()?;
            match self.peek() {
                // An empty object, or a trailing comma (allowed, as in VS Code's files).
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Table(entries));
                }
                Some(b'"') => {}
                None => return Err(self.error(open, "this `{` is never closed")),
                Some(_) => {
                    return Err(self.error_here(format!(
                        "expected a key in double quotes, found {}",
                        self.found()
                    )));
                }
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = key_start..self.pos;
            self.skip_blank()?;
            if self.peek() != Some(b':') {
                return Err(
                    self.error_here(format!("expected `:` after a key, found {}", self.found()))
                );
            }
            self.pos += 1;
            self.skip_blank()?;
            let value = self.value()?;
            entries.push(Entry {
                key,
                key_span,
                value,
            });
            self.skip_blank()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Table(entries));
                }
                None => return Err(self.error(open, "this `{` is never closed")),
                Some(next) => {
                    let hint = if next == b'"' {
                        " (is a comma missing?)"
                    } else {
                        ""
                    };
                    return Err(self.error_here(format!(
                        "expected `,` or `}}` after an object member, found {}{hint}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn array(&mut self) -> Result<Value, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            match self.peek() {
                // An empty array, or a trailing comma.
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error(open, "this `[` is never closed")),
                Some(_) => {}
            }
            items.push(self.value()?);
            self.skip_blank()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error(open, "this `[` is never closed")),
                Some(_) => {
                    return Err(self.error_here(format!(
                        "expected `,` or `]` after an array element, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    /// A string literal, decoded by serde_json.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.error(start, "this string is never closed")),
                Some(b'\n') => {
                    return Err(self.error(start, "this string is not closed on its line"));
                }
                Some(b'"') => break,
                // Skip the escaped byte, so an escaped quote does not end the string; whether the
                // escape is valid is serde_json's to say below.
                Some(b'\\') if bytes.get(self.pos + 1) == Some(&b'\n') => {
                    return Err(self.error(start, "this string is not closed on its line"));
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        let literal = self.text.get(start..self.pos).unwrap_or("");
        serde_json::from_str(literal).map_err(|error| {
            // The literal is one line, so serde_json's column is an offset into it.
            let offset = start + error.column().saturating_sub(1);
            self.error(offset, serde_message(&error))
        })
    }

    /// A number literal, checked and decoded by serde_json.
    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let literal = self.text.get(start..self.pos).unwrap_or("");
        let number: serde_json::Number = serde_json::from_str(literal)
            .map_err(|_| self.error(start, format!("`{literal}` is not a valid number")))?;
        Ok(if let Some(n) = number.as_i64() {
            Value::Integer(n.into())
        } else if let Some(n) = number.as_u64() {
            Value::Integer(n.into())
        } else {
            Value::Float(number.as_f64().unwrap_or(f64::NAN))
        })
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        let rest = self.text.get(self.pos..).unwrap_or("");
        let after = rest.as_bytes().get(word.len());
        if rest.starts_with(word) && !after.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.unexpected_value())
        }
    }
}

/// serde_json's message without its " at line L column C" suffix (we report our own position).
fn serde_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(node: &Node) -> &[Entry] {
        match &node.value {
            Value::Table(entries) => entries,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn spans_cover_keys_and_values_exactly() {
        let text = r#"{ "a" : [1, -2.5e1, true, null], "b": {"c": "x\"y"} }"#;
        let root = parse(text).unwrap();
        assert_eq!(root.span, 0..text.len());
        let top = entries(&root);
        assert_eq!(&text[top[0].key_span.clone()], r#""a""#);
        assert_eq!(&text[top[0].value.span.clone()], "[1, -2.5e1, true, null]");
        assert_eq!(
            top[0].value.value,
            Value::Array(vec![
                Node {
                    span: 9..10,
                    value: Value::Integer(1)
                },
                Node {
                    span: 12..18,
                    value: Value::Float(-25.0)
                },
                Node {
                    span: 20..24,
                    value: Value::Bool(true)
                },
                Node {
                    span: 26..30,
                    value: Value::Null
                },
            ])
        );
        let inner = entries(&top[1].value);
        assert_eq!(&text[inner[0].value.span.clone()], r#""x\"y""#);
        assert_eq!(inner[0].value.value, Value::String("x\"y".into()));
    }

    #[test]
    fn escapes_are_decoded_by_serde_json() {
        let root = parse(r#"["\u00e9\n\ud83d\ude00", "日本"]"#).unwrap();
        let Value::Array(items) = root.value else {
            unreachable!()
        };
        assert_eq!(items[0].value, Value::String("é\n😀".into()));
        assert_eq!(items[1].value, Value::String("日本".into()));
    }

    #[test]
    fn comments_and_trailing_commas_are_accepted() {
        let text = "// VS Code\n{ /* servers */ \"a\": [1, 2,], \"b\": 3, }\n// end";
        let root = parse(text).unwrap();
        assert_eq!(entries(&root).len(), 2);
    }

    #[test]
    fn repeated_keys_are_all_kept_for_the_schema_to_report() {
        let root = parse(r#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(entries(&root).len(), 2);
    }

    #[test]
    fn missing_comma_points_at_the_next_member() {
        let text = "{\n  \"a\": 1\n  \"b\": 2\n}";
        let error = parse(text).unwrap_err();
        assert_eq!(error.offset, text.find("\"b\"").unwrap());
        assert!(
            error.message.contains("is a comma missing?"),
            "{}",
            error.message
        );
    }

    #[test]
    fn invalid_escape_points_into_the_string() {
        let text = r#"{"a": "x\q"}"#;
        let error = parse(text).unwrap_err();
        assert_eq!(error.offset, text.find('q').unwrap());
        assert_eq!(error.message, "invalid JSON: invalid escape");
    }

    #[test]
    fn unclosed_structures_point_at_their_opening() {
        let error = parse("{\"a\": [1, 2").unwrap_err();
        assert_eq!(error.offset, 6);
        assert!(
            error.message.contains("`[` is never closed"),
            "{}",
            error.message
        );
        assert_eq!(parse("  {").unwrap_err().offset, 2);
        assert_eq!(parse("\"abc").unwrap_err().offset, 0);
        assert_eq!(parse("/* x").unwrap_err().offset, 0);
    }

    #[test]
    fn unquoted_words_and_single_quotes_are_named() {
        let error = parse("{name: 1}").unwrap_err();
        assert!(error.message.ends_with("found `name`"), "{}", error.message);
        let error = parse("['x']").unwrap_err();
        assert!(error.message.contains("double quotes"), "{}", error.message);
        let error = parse("[truth]").unwrap_err();
        assert!(error.message.contains("found `truth`"), "{}", error.message);
    }

    #[test]
    fn bad_numbers_and_trailing_text_are_rejected() {
        assert!(parse("[1.2.3]").unwrap_err().message.contains("`1.2.3`"));
        assert!(parse("-").is_err());
        let error = parse("{} x").unwrap_err();
        assert_eq!(error.offset, 3);
        assert!(error.message.contains("after the end"), "{}", error.message);
    }

    #[test]
    fn raw_control_characters_in_strings_are_rejected() {
        assert!(parse("\"a\tb\"").is_err());
        assert!(parse("\"a\nb\"").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = "[".repeat(100_000);
        let error = parse(&text).unwrap_err();
        assert!(
            error.message.contains("nested more than"),
            "{}",
            error.message
        );
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        parse(&ok).expect("nesting up to the limit is accepted");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(
            parse("")
                .unwrap_err()
                .message
                .contains("ends where a value")
        );
        assert!(parse("  // nothing\n").is_err());
    }
}
