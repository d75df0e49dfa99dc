//! TOML text to a [`Node`] tree, using the `toml` crate's spanned document (`DeTable`), which keeps
//! the byte range of every key and value.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::document::{Entry, Node, SyntaxError, Value};

/// Parses a TOML document; a syntax error carries the offset the parser points at.
pub(super) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let document = DeTable::parse(text).map_err(|error| SyntaxError {
        offset: error.span().map_or(0, |span| span.start),
        message: format!("invalid TOML: {}", error.message()),
    })?;
    Ok(Node {
        span: 0..0,
        value: table(document.get_ref()),
    })
}

fn node(value: &Spanned<DeValue<'_>>) -> Node {
    let converted = match value.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(n) => match i128::from_str_radix(n.as_str(), n.radix()) {
            Ok(n) => Value::Integer(n),
            // Only absurdly long literals get here; a float keeps their size for the message.
            Err(_) => Value::Float(n.as_str().parse().unwrap_or(f64::INFINITY)),
        },
        DeValue::Float(x) => Value::Float(x.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(_) => Value::Datetime,
        DeValue::Array(items) => Value::Array(items.iter().map(node).collect()),
        DeValue::Table(entries) => table(entries),
    };
    Node {
        span: value.span(),
        value: converted,
    }
}

fn table(entries: &DeTable<'_>) -> Value {
    let mut entries: Vec<Entry> = entries
        .iter()
        .map(|(key, value)| Entry {
            key: key.get_ref().to_string(),
            key_span: key.span(),
            value: node(value),
        })
        .collect();
    // `DeTable` orders keys alphabetically; the file's order is the one users expect back.
    entries.sort_by_key(|entry| entry.key_span.start);
    Value::Table(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(node: &Node) -> Vec<&str> {
        match &node.value {
            Value::Table(entries) => entries.iter().map(|e| e.key.as_str()).collect(),
            other => panic!("not a table: {other:?}"),
        }
    }

    #[test]
    fn keys_keep_the_files_order_and_their_spans() {
        let text = "zeta = 1\n[alpha]\nb = \"x\"\n";
        let root = parse(text).unwrap();
        assert_eq!(keys(&root), ["zeta", "alpha"]);
        let Value::Table(entries) = &root.value else {
            unreachable!()
        };
        assert_eq!(&text[entries[1].key_span.clone()], "alpha");
        let inner = &entries[1].value;
        let Value::Table(inner) = &inner.value else {
            unreachable!()
        };
        assert_eq!(&text[inner[0].value.span.clone()], "\"x\"");
        assert_eq!(inner[0].value.value, Value::String("x".into()));
    }

    #[test]
    fn numbers_in_every_radix_are_read() {
        let root = parse("a = 0x1F\nb = -3\nc = 1_000\nd = 2.5").unwrap();
        let Value::Table(entries) = root.value else {
            unreachable!()
        };
        let values: Vec<_> = entries.into_iter().map(|e| e.value.value).collect();
        assert_eq!(
            values,
            [
                Value::Integer(31),
                Value::Integer(-3),
                Value::Integer(1000),
                Value::Float(2.5)
            ]
        );
    }

    #[test]
    fn syntax_error_points_at_the_offending_place() {
        let text = "a = 1\nb = \n";
        let error = parse(text).unwrap_err();
        assert_eq!(error.offset, 10);
        assert!(
            error.message.starts_with("invalid TOML: "),
            "{}",
            error.message
        );
    }
}
