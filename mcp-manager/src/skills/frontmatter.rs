//! A `SKILL.md`'s YAML frontmatter, parsed, and compared field by field with a skill entry's.
//!
//! The frontmatter is the block between a first line `---` and the next line `---`. This parser
//! reads the part of YAML that skill frontmatter uses, and refuses the rest with
//! [`FrontmatterProblem::Syntax`]: a frontmatter it cannot read is a verification failure, never a
//! guess. What it reads:
//!
//! ```text
//! mapping   := (key ":" value)*           one key per line, keys unique, indented alike
//! value     := scalar [comment] | "|" or ">" block scalar ("-"/"+" chomping)
//!            | (NEWLINE, deeper) mapping | (NEWLINE) "- " scalar lines
//!            | "[" scalar, ... "]" | "{}"
//! scalar    := plain (may continue on deeper lines, folded) | 'single' | "double" (one line)
//! ```
//!
//! Plain scalars resolve as YAML 1.2's core schema does: `null`/`~`/nothing, `true`/`false`,
//! integers (also `0x`, `0o`), floats; anything else is a string. Anchors, aliases, tags,
//! multi-line quoted scalars, sequences of mappings and tabs in indentation are refused.
//!
//! The comparison ([`compare`]) is by value: a number equals a number of the same value however
//! either side wrote it, and every other value must be equal exactly.

use serde_json::{Map, Number, Value};

use super::error::FrontmatterProblem;

/// The frontmatter of `text` (a whole `SKILL.md`) as a JSON object.
pub(crate) fn parse(text: &str) -> Result<Map<String, Value>, FrontmatterProblem> {
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    if lines.next() != Some("---") {
        return Err(FrontmatterProblem::Missing);
    }
    let mut block = Vec::new();
    let mut closed = false;
    for line in lines {
        if line == "---" {
            closed = true;
            break;
        }
        block.push(line);
    }
    if !closed {
        return Err(FrontmatterProblem::Unclosed);
    }
    let mut parser = Parser {
        lines: &block,
        at: 0,
    };
    parser.skip_blank();
    if parser.at < block.len() && indent_of(block[parser.at]) != 0 {
        return parser.refuse("the first key is indented");
    }
    let mapping = parser.mapping(0)?;
    parser.skip_blank();
    if parser.at < block.len() {
        return parser.refuse("a line is indented less than its mapping");
    }
    Ok(mapping)
}

/// The first top-level field where `file` (the parsed `SKILL.md`) and `entry` (the listing's
/// frontmatter) differ; `Ok` when they agree on every field.
pub(crate) fn compare(
    file: &Map<String, Value>,
    entry: &Map<String, Value>,
) -> Result<(), FrontmatterProblem> {
    let mut fields: Vec<&String> = file.keys().chain(entry.keys()).collect();
    fields.sort();
    fields.dedup();
    for field in fields {
        match (file.get(field), entry.get(field)) {
            (Some(ours), Some(theirs)) if same(ours, theirs) => {}
            (Some(_), Some(_)) => {
                return Err(FrontmatterProblem::FieldDiffers {
                    field: field.clone(),
                });
            }
            (None, _) => {
                return Err(FrontmatterProblem::FieldNotInFile {
                    field: field.clone(),
                });
            }
            (_, None) => {
                return Err(FrontmatterProblem::FieldNotInEntry {
                    field: field.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Deep equality, numbers by value (a server that parsed `1.0` may send `1`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => same_number(a, b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| same(value, other)))
        }
        _ => a == b,
    }
}

fn same_number(a: &Number, b: &Number) -> bool {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return a == b;
    }
    a.as_f64().zip(b.as_f64()).is_some_and(|(a, b)| a == b)
}

/// How many leading spaces `line` has.
fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line with nothing but spaces and perhaps a comment.
fn is_blank(line: &str) -> bool {
    let trimmed = line.trim_start_matches(' ');
    trimmed.is_empty() || trimmed.starts_with('#')
}

struct Parser<'a> {
    lines: &'a [&'a str],
    at: usize,
}

impl Parser<'_> {
    fn refuse<T>(&self, reason: &'static str) -> Result<T, FrontmatterProblem> {
        Err(FrontmatterProblem::Syntax {
            // The frontmatter's own line number: the `---` is line 1.
            line: self.at + 2,
            reason,
        })
    }

    fn skip_blank(&mut self) {
        while self.at < self.lines.len() && is_blank(self.lines[self.at]) {
            self.at += 1;
        }
    }

    /// The indentation of the next non-blank line, if any.
    fn next_indent(&mut self) -> Option<usize> {
        self.skip_blank();
        self.lines.get(self.at).map(|line| indent_of(line))
    }

    /// A block mapping whose keys sit at `indent`.
    fn mapping(&mut self, indent: usize) -> Result<Map<String, Value>, FrontmatterProblem> {
        let mut mapping = Map::new();
        while let Some(found) = self.next_indent() {
            if found < indent {
                break;
            }
            if found > indent {
                return self.refuse("a line is indented deeper than its mapping's keys");
            }
            let line = self.lines[self.at];
            if line.contains('\t') {
                return self.refuse("a tab in a line (YAML indents with spaces only)");
            }
            let content = &line[indent..];
            let Some((key, rest)) = split_key(content) else {
                return self.refuse("a line that is not `key: value`");
            };
            if mapping.contains_key(key) {
                return self.refuse("a key appears twice");
            }
            let value = self.value(indent, rest)?;
            mapping.insert(key.to_owned(), value);
        }
        Ok(mapping)
    }

    /// The value of a key at `indent` whose line (the current one) continues with `rest`; on
    /// return the current line is the first after the value.
    fn value(&mut self, indent: usize, rest: &str) -> Result<Value, FrontmatterProblem> {
        let rest = rest.trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            self.at += 1;
            return self.nested(indent);
        }
        let value = match rest.as_bytes()[0] {
            b'|' | b'>' => return self.block_scalar(indent, rest),
            b'[' => self.flow_sequence(rest)?,
            b'{' if strip_comment(rest).trim_end() == "{}" => Value::Object(Map::new()),
            b'{' => return self.refuse("a flow mapping other than {}"),
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => {
                return self.refuse("an anchor, alias, tag or reserved indicator");
            }
            b'"' | b'\'' => Value::String(self.quoted_line(rest)?),
            _ => return self.plain(indent, rest),
        };
        self.at += 1;
        Ok(value)
    }

    /// What follows a key with no value on its line: a deeper mapping, a sequence, or null.
    fn nested(&mut self, indent: usize) -> Result<Value, FrontmatterProblem> {
        let Some(found) = self.next_indent() else {
            return Ok(Value::Null);
        };
        let line = self.lines[self.at];
        let starts_item = {
            let content = &line[found..];
            content == "-" || content.starts_with("- ")
        };
        // A sequence may sit at its key's own indentation; a mapping must go deeper.
        if starts_item && found >= indent {
            return self.sequence(found);
        }
        if found > indent {
            return self.mapping(found).map(Value::Object);
        }
        Ok(Value::Null)
    }

    /// A block sequence of scalars whose `- ` sits at `indent`.
    fn sequence(&mut self, indent: usize) -> Result<Value, FrontmatterProblem> {
        let mut items = Vec::new();
        while self.next_indent() == Some(indent) {
            let content = &self.lines[self.at][indent..];
            let Some(item) = content.strip_prefix("- ") else {
                if content == "-" {
                    return self.refuse("a sequence item that is not a scalar on its line");
                }
                break;
            };
            let item = item.trim_start_matches(' ');
            if item.is_empty() || split_key(item).is_some() {
                return self.refuse("a sequence item that is not a scalar on its line");
            }
            let value = match item.as_bytes()[0] {
                b'"' | b'\'' => Value::String(self.quoted_line(item)?),
                b'[' | b'{' | b'|' | b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => {
                    return self.refuse("a sequence item that is not a scalar on its line");
                }
                _ => resolve(strip_comment(item).trim_end()),
            };
            self.at += 1;
            items.push(value);
        }
        Ok(Value::Array(items))
    }

    /// A plain scalar starting with `first` on the current line, folding deeper continuation
    /// lines into it.
    fn plain(&mut self, indent: usize, first: &str) -> Result<Value, FrontmatterProblem> {
        let first = strip_comment(first).trim_end();
        if first.contains(": ") || first.ends_with(':') {
            return self.refuse("a plain scalar that contains `: `");
        }
        self.at += 1;
        let mut text = first.to_owned();
        let mut continued = false;
        let mut pending_breaks = 0usize;
        while let Some(line) = self.lines.get(self.at) {
            let trimmed = line.trim_matches(' ');
            if trimmed.is_empty() {
                pending_breaks += 1;
                self.at += 1;
                continue;
            }
            if indent_of(line) <= indent || trimmed.starts_with('#') {
                break;
            }
            let piece = strip_comment(trimmed).trim_end();
            if piece.contains(": ") || piece.ends_with(':') || line.contains('\t') {
                return self.refuse("a continuation line that is not plain text");
            }
            fold(&mut text, pending_breaks, piece);
            pending_breaks = 0;
            continued = true;
            self.at += 1;
        }
        if pending_breaks > 0 {
            // Blank lines after the scalar belong to no value: step back onto them.
            self.at -= pending_breaks;
        }
        Ok(if continued {
            Value::String(text)
        } else {
            resolve(&text)
        })
    }

    /// A `'...'` or `"..."` scalar that ends on its line, perhaps followed by a comment.
    fn quoted_line(&self, text: &str) -> Result<String, FrontmatterProblem> {
        let (value, after) = if text.starts_with('\'') {
            single_quoted(text)
        } else {
            double_quoted(text)
        }
        .ok_or(())
        .or_else(|()| {
            self.refuse("a quoted scalar that does not end on its line, or a bad escape")
        })?;
        let after = after.trim_start_matches(' ');
        if !(after.is_empty() || after.starts_with('#')) {
            return self.refuse("text after a quoted scalar");
        }
        Ok(value)
    }

    /// A `[a, "b", 3]` sequence of scalars, on one line.
    fn flow_sequence(&mut self, text: &str) -> Result<Value, FrontmatterProblem> {
        let inner = strip_comment(text).trim_end();
        let Some(inner) = inner
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
        else {
            return self.refuse("a flow sequence that does not end on its line");
        };
        let mut items = Vec::new();
        let mut rest = inner.trim_start_matches(' ');
        while !rest.is_empty() {
            let (value, after) = match rest.as_bytes()[0] {
                b'\'' | b'"' => {
                    let parsed = if rest.starts_with('\'') {
                        single_quoted(rest)
                    } else {
                        double_quoted(rest)
                    };
                    let Some((value, after)) = parsed else {
                        return self.refuse("a bad quoted scalar in a flow sequence");
                    };
                    (Value::String(value), after)
                }
                b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' => {
                    return self.refuse("a flow sequence of something other than scalars");
                }
                _ => {
                    let end = rest.find(',').unwrap_or(rest.len());
                    let item = rest[..end].trim_end();
                    if item.contains(": ") || item.contains(['[', ']', '{', '}']) {
                        return self.refuse("a flow sequence of something other than scalars");
                    }
                    (resolve(item), &rest[end..])
                }
            };
            items.push(value);
            let after = after.trim_start_matches(' ');
            rest = match after.strip_prefix(',') {
                Some(next) => next.trim_start_matches(' '),
                None if after.is_empty() => after,
                None => return self.refuse("a flow sequence item followed by text"),
            };
        }
        Ok(Value::Array(items))
    }

    /// A `|` (literal) or `>` (folded) block scalar under a key at `indent`, its header on the
    /// current line.
    fn block_scalar(&mut self, indent: usize, header: &str) -> Result<Value, FrontmatterProblem> {
        let header = strip_comment(header).trim_end();
        let folded = header.starts_with('>');
        let chomp = match &header[1..] {
            "" => Chomp::Clip,
            "-" => Chomp::Strip,
            "+" => Chomp::Keep,
            _ => return self.refuse("a block scalar header other than |, |-, |+, >, >-, >+"),
        };
        self.at += 1;
        let mut raw: Vec<&str> = Vec::new();
        let mut content_indent = None;
        while let Some(line) = self.lines.get(self.at) {
            if line.trim_matches(' ').is_empty() {
                raw.push("");
                self.at += 1;
                continue;
            }
            let found = indent_of(line);
            if found <= indent {
                break;
            }
            let base = *content_indent.get_or_insert(found);
            if found < base {
                return self.refuse("a block scalar line indented less than its first line");
            }
            if line.contains('\t') {
                return self.refuse("a tab in a block scalar's indentation");
            }
            raw.push(&line[base..]);
            self.at += 1;
        }
        let trailing = raw.iter().rev().take_while(|line| line.is_empty()).count();
        let body = &raw[..raw.len() - trailing];
        let mut text = String::new();
        if folded {
            let mut breaks = 0usize;
            for (index, line) in body.iter().enumerate() {
                if line.is_empty() {
                    breaks += 1;
                    continue;
                }
                if line.starts_with(' ') {
                    return self.refuse("a more-indented line in a folded block scalar");
                }
                if index > 0 {
                    fold(&mut text, breaks, line);
                } else {
                    text.push_str(line);
                }
                breaks = 0;
            }
        } else {
            text = body.join("\n");
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip if !body.is_empty() => text.push('\n'),
            Chomp::Clip => {}
            Chomp::Keep => {
                if !body.is_empty() {
                    text.push('\n');
                }
                text.extend(std::iter::repeat_n('\n', trailing));
            }
        }
        Ok(Value::String(text))
    }
}

#[derive(Clone, Copy)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// Appends `line` to folded `text` (YAML 1.2 §6.5): after no empty line, the line break between
/// them becomes a space; after `breaks` empty lines, that many newlines.
fn fold(text: &mut String, breaks: usize, line: &str) {
    if breaks == 0 {
        text.push(' ');
    } else {
        text.extend(std::iter::repeat_n('\n', breaks));
    }
    text.push_str(line);
}

/// `key` and what follows its `:` when `content` is `key: ...` or `key:`.
fn split_key(content: &str) -> Option<(&str, &str)> {
    if content.starts_with([
        '-', '?', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ',',
    ]) {
        // Only `-` followed by something else (`-key`) is a plain key; `- ` is an item.
        if !(content.starts_with('-') && !content.starts_with("- ") && content != "-") {
            return None;
        }
    }
    let colon = content
        .match_indices(':')
        .map(|(at, _)| at)
        .find(|&at| matches!(content.as_bytes().get(at + 1), None | Some(b' ')))?;
    let key = content[..colon].trim_end_matches(' ');
    if key.is_empty() || key.contains(" #") {
        return None;
    }
    Some((key, &content[colon + 1..]))
}

/// `text` without a trailing ` # comment`.
fn strip_comment(text: &str) -> &str {
    match text.find(" #") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// A plain scalar as YAML 1.2's core schema reads it.
fn resolve(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = integer(text) {
        return Value::Number(number);
    }
    if is_float(text)
        && let Ok(float) = text.parse::<f64>()
        && let Some(number) = Number::from_f64(float)
    {
        return Value::Number(number);
    }
    Value::String(text.to_owned())
}

fn integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if let Some(hex) = text.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()?
    } else if let Some(octal) = text.strip_prefix("0o") {
        u64::from_str_radix(octal, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<u64>().ok()?
    } else {
        return None;
    };
    if negative {
        let signed = i64::try_from(magnitude).ok()?.checked_neg()?;
        Some(Number::from(signed))
    } else {
        Some(Number::from(magnitude))
    }
}

/// `[-+]? ( . digits | digits [ . digits* ] ) ( [eE] [-+]? digits )?`
fn is_float(text: &str) -> bool {
    let text = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent
        .is_none_or(|exponent| digits(exponent.strip_prefix(['-', '+']).unwrap_or(exponent)));
    mantissa_ok && exponent_ok
}

/// A `'...'` scalar at the start of `text` (`''` is a quote) and what follows it.
fn single_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text[1..].char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|&(_, next)| next == '\'') {
                chars.next();
                value.push('\'');
                continue;
            }
            return Some((value, &text[1 + at + 1..]));
        }
        value.push(c);
    }
    None
}

/// A `"..."` scalar at the start of `text`, escapes decoded, and what follows it.
fn double_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text[1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[1 + at + 1..])),
            '\\' => {
                let (_, escape) = chars.next()?;
                let decoded = match escape {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' | 'u' | 'U' => {
                        let width = match escape {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..width {
                            let (_, digit) = chars.next()?;
                            code = code * 16 + digit.to_digit(16)?;
                        }
                        char::from_u32(code)?
                    }
                    _ => return None,
                };
                value.push(decoded);
            }
            _ => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests;
