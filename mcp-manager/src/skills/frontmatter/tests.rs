use proptest::prelude::*;
use serde_json::json;

use super::*;

fn parsed(text: &str) -> Value {
    Value::Object(parse(text).expect("parses"))
}

fn refused(text: &str) -> FrontmatterProblem {
    parse(text).expect_err("refused")
}

#[test]
fn plain_fields_are_read_as_the_core_schema_resolves_them() {
    let text = "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n\
                version: 2\nratio: 1.5\nbeta: true\nnothing: ~\nurl: https://example.test/a#b\n---\nbody\n";
    assert_eq!(
        parsed(text),
        json!({
            "name": "pdf-processing",
            "description": "Extract, fill, and assemble PDF documents",
            "version": 2,
            "ratio": 1.5,
            "beta": true,
            "nothing": null,
            "url": "https://example.test/a#b",
        })
    );
}

#[test]
fn quoted_scalars_comments_and_crlf_are_read() {
    let text = "---\r\n# a comment\r\nname: 'it''s'   # trailing\r\ndescription: \"tab\\there \\u00e9\"\r\n---\r\n";
    assert_eq!(
        parsed(text),
        json!({ "name": "it's", "description": "tab\there é" })
    );
}

#[test]
fn nested_mappings_and_sequences_are_read() {
    let text = "---\nname: x\nmetadata:\n  version: \"2.1.0\"\n  author: someone\ntags:\n- a\n- \"b\"\nflow: [one, 2, 'three']\nempty: {}\n---\n";
    assert_eq!(
        parsed(text),
        json!({
            "name": "x",
            "metadata": { "version": "2.1.0", "author": "someone" },
            "tags": ["a", "b"],
            "flow": ["one", 2, "three"],
            "empty": {},
        })
    );
}

#[test]
fn block_scalars_follow_their_chomping() {
    let text = "---\nliteral: |\n  line one\n  line two\n\nfolded: >-\n  folded\n  together\n\n  apart\nkept: |+\n  x\n\n---\n";
    assert_eq!(
        parsed(text),
        json!({
            "literal": "line one\nline two\n",
            "folded": "folded together\napart",
            "kept": "x\n\n",
        })
    );
}

#[test]
fn a_plain_scalar_continues_on_deeper_lines() {
    let text = "---\ndescription: one\n  two\n  three\nname: x\n---\n";
    assert_eq!(
        parsed(text),
        json!({ "description": "one two three", "name": "x" })
    );
}

#[test]
fn a_file_without_frontmatter_is_refused() {
    assert_eq!(refused("# Title\n"), FrontmatterProblem::Missing);
    assert_eq!(refused("---\nname: x\n"), FrontmatterProblem::Unclosed);
}

#[test]
fn yaml_outside_the_subset_is_refused_with_its_line() {
    for (text, line) in [
        ("---\nname: &anchor x\n---\n", 2),
        ("---\nname: x\nname: y\n---\n", 3),
        ("---\nname: \"unterminated\n---\n", 2),
        ("---\nlist:\n- key: value\n---\n", 3),
        ("---\n\tname: x\n---\n", 2),
        ("---\nname: a: b\n---\n", 2),
        ("---\nflow: {a: 1}\n---\n", 2),
        ("---\n  name: x\n---\n", 2),
    ] {
        match refused(text) {
            FrontmatterProblem::Syntax { line: found, .. } => {
                assert_eq!(found, line, "{text:?}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn equal_frontmatter_compares_equal_numbers_by_value() {
    let file = parse("---\nname: x\nversion: 1.0\n---\n").expect("parses");
    let entry = json!({ "name": "x", "version": 1 });
    assert_eq!(compare(&file, entry.as_object().expect("object")), Ok(()));
}

#[test]
fn a_different_value_names_its_field() {
    let file = parse("---\nname: x\ndescription: Exfiltrate credentials\n---\n").expect("parses");
    let entry = json!({ "name": "x", "description": "Extract PDFs" });
    assert_eq!(
        compare(&file, entry.as_object().expect("object")),
        Err(FrontmatterProblem::FieldDiffers {
            field: "description".to_owned()
        })
    );
}

#[test]
fn a_field_on_one_side_only_is_a_mismatch() {
    let file = parse("---\nname: x\nallowed-tools: Bash\n---\n").expect("parses");
    let entry = json!({ "name": "x" });
    assert_eq!(
        compare(&file, entry.as_object().expect("object")),
        Err(FrontmatterProblem::FieldNotInEntry {
            field: "allowed-tools".to_owned()
        })
    );
    let entry = json!({ "name": "x", "allowed-tools": "Bash", "license": "MIT" });
    assert_eq!(
        compare(&file, entry.as_object().expect("object")),
        Err(FrontmatterProblem::FieldNotInFile {
            field: "license".to_owned()
        })
    );
}

#[test]
fn nested_values_must_be_equal_whole() {
    let file = parse("---\nmetadata:\n  version: \"2\"\n---\n").expect("parses");
    let entry = json!({ "metadata": { "version": "2", "extra": "x" } });
    assert!(matches!(
        compare(&file, entry.as_object().expect("object")),
        Err(FrontmatterProblem::FieldDiffers { .. })
    ));
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_yaml_characters(
        body in "[a-z0-9 :|>'\"\\\\\\[\\]{},#~&*!+\n\t\u{e9}-]{0,80}",
    ) {
        let _ = parse(&format!("---\n{body}\n---\n"));
    }
}
