//! The schema as a form, and values checked against it: one behaviour per test.

use rmcp::model::ElicitationSchema;
use serde_json::{Map, Value, json};

use super::{Choice, ElicitationForm, FieldError, FieldKind, FormError, FormField, TextFormat};

/// The schema server-everything's `trigger-elicitation-request` sends (every kind MCP allows),
/// parsed by rmcp as a request's would be.
fn everything_form() -> ElicitationForm {
    // From text, as a request arrives: a `json!` object would sort the properties.
    let schema: ElicitationSchema = serde_json::from_str(
        r#"{
        "type": "object",
        "properties": {
            "name": { "title": "String", "type": "string", "description": "Your full, legal name" },
            "check": { "title": "Boolean", "type": "boolean" },
            "firstLine": { "type": "string", "default": "It was a dark and stormy night." },
            "email": { "type": "string", "format": "email" },
            "birthdate": { "type": "string", "format": "date" },
            "integer": { "type": "integer", "minimum": 1, "maximum": 100, "default": 42 },
            "number": { "type": "number", "minimum": 0, "maximum": 1000, "default": 2.5 },
            "friend": {
                "type": "string",
                "enum": ["Monica", "Rachel", "Joey"],
                "default": "Monica"
            },
            "instruments": {
                "type": "array",
                "minItems": 1,
                "maxItems": 2,
                "items": { "type": "string", "enum": ["Guitar", "Piano", "Drums"] },
                "default": ["Guitar"]
            },
            "hero": {
                "type": "string",
                "oneOf": [
                    { "const": "hero-1", "title": "Superman" },
                    { "const": "hero-2", "title": "Green Lantern" }
                ],
                "default": "hero-1"
            },
            "fish": {
                "type": "array",
                "items": { "anyOf": [
                    { "const": "fish-1", "title": "Tuna" },
                    { "const": "fish-2", "title": "Salmon" }
                ] }
            },
            "pet": {
                "type": "string",
                "enum": ["pet-1", "pet-2"],
                "enumNames": ["Cats", "Dogs"]
            }
        },
        "required": ["name"]
    }"#,
    )
    .expect("rmcp parses the schema");
    ElicitationForm::from_schema("Please provide inputs", &schema).expect("a supported schema")
}

fn field<'a>(form: &'a ElicitationForm, name: &str) -> &'a FormField {
    form.fields()
        .iter()
        .find(|field| field.name() == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// A form of one field, from the JSON of its property.
fn one(property: Value, required: bool) -> FormField {
    let required: Vec<&str> = if required { vec!["x"] } else { vec![] };
    let schema = json!({ "type": "object", "properties": { "x": property }, "required": required });
    let form = ElicitationForm::from_json(String::new(), &schema).expect("a supported schema");
    form.fields()[0].clone()
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

#[test]
fn fields_keep_the_order_the_server_wrote_them_in() {
    let form = everything_form();
    let names: Vec<&str> = form.fields().iter().map(FormField::name).collect();
    assert_eq!(
        names,
        [
            "name",
            "check",
            "firstLine",
            "email",
            "birthdate",
            "integer",
            "number",
            "friend",
            "instruments",
            "hero",
            "fish",
            "pet"
        ]
    );
    assert_eq!(form.message(), "Please provide inputs");
}

#[test]
fn each_property_becomes_the_field_of_its_kind() {
    let form = everything_form();
    let name = field(&form, "name");
    assert!(name.is_required());
    assert_eq!(name.label(), "String");
    assert_eq!(name.description(), Some("Your full, legal name"));
    assert!(!field(&form, "check").is_required());
    assert_eq!(field(&form, "firstLine").label(), "firstLine");
    assert!(matches!(
        field(&form, "email").kind(),
        FieldKind::Text {
            format: Some(TextFormat::Email),
            ..
        }
    ));
    assert_eq!(
        field(&form, "integer").kind(),
        &FieldKind::Integer {
            minimum: Some(1),
            maximum: Some(100),
            default: Some(42)
        }
    );
    assert!(matches!(
        field(&form, "number").kind(),
        FieldKind::Number { default: Some(n), .. } if (*n - 2.5).abs() < 1e-9
    ));
    assert!(matches!(
        field(&form, "check").kind(),
        FieldKind::Boolean { default: None }
    ));
    let FieldKind::ManyOf {
        choices,
        min_items,
        max_items,
        default,
    } = field(&form, "instruments").kind()
    else {
        panic!("instruments is a choice of several");
    };
    assert_eq!(choices.len(), 3);
    assert_eq!((*min_items, *max_items), (Some(1), Some(2)));
    assert_eq!(default, &["Guitar"]);
}

#[test]
fn choices_carry_their_titles_from_one_of_any_of_and_enum_names() {
    let form = everything_form();
    let choices_of = |name: &str| match field(&form, name).kind() {
        FieldKind::OneOf { choices, .. } | FieldKind::ManyOf { choices, .. } => choices.clone(),
        other => panic!("{name} is {other:?}"),
    };
    let titled = |value: &str, label: &str| Choice {
        value: value.into(),
        label: Some(label.into()),
    };
    assert_eq!(
        choices_of("hero"),
        [
            titled("hero-1", "Superman"),
            titled("hero-2", "Green Lantern")
        ]
    );
    assert_eq!(
        choices_of("fish"),
        [titled("fish-1", "Tuna"), titled("fish-2", "Salmon")]
    );
    assert_eq!(
        choices_of("pet"),
        [titled("pet-1", "Cats"), titled("pet-2", "Dogs")]
    );
    assert_eq!(choices_of("friend")[1].shown(), "Rachel");
}

#[test]
fn defaults_are_the_declared_ones_in_their_json_types() {
    let defaults = everything_form().defaults();
    assert_eq!(
        Value::Object(defaults),
        json!({
            "firstLine": "It was a dark and stormy night.",
            "integer": 42,
            "number": 2.5,
            "friend": "Monica",
            "instruments": ["Guitar"],
            "hero": "hero-1"
        })
    );
}

#[test]
fn a_default_that_does_not_fit_its_own_field_is_not_offered() {
    let field = one(
        json!({ "type": "integer", "maximum": 10, "default": 500 }),
        false,
    );
    assert_eq!(field.default(), None);
    let field = one(
        json!({ "type": "string", "enum": ["a"], "default": "b" }),
        false,
    );
    assert_eq!(field.default(), None);
}

#[test]
fn the_defaults_do_not_answer_a_form_with_a_required_field_without_one() {
    // `name` is required and has no default.
    assert_eq!(
        everything_form().answer_defaults(),
        Err(FormError::Field {
            field: "name".to_owned(),
            error: FieldError::Missing,
        })
    );
}

#[test]
fn the_defaults_answer_a_form_whose_required_fields_all_have_one() {
    let schema: ElicitationSchema = serde_json::from_value(json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "default": "Ada" },
            "age": { "type": "integer", "maximum": 10, "default": 500 },
            "note": { "type": "string" }
        },
        "required": ["name"]
    }))
    .expect("a schema");
    let form = ElicitationForm::from_schema("m", &schema).expect("a form");
    // The default that does not fit its field is left out, not sent.
    assert_eq!(
        form.answer_defaults().map(Value::Object),
        Ok(json!({ "name": "Ada" }))
    );
}

#[test]
fn nothing_typed_is_missing_when_required_and_left_out_otherwise() {
    let required = one(json!({ "type": "string" }), true);
    assert_eq!(required.parse(""), Err(FieldError::Missing));
    assert_eq!(required.parse("  "), Err(FieldError::Missing));
    let optional = one(json!({ "type": "integer" }), false);
    assert_eq!(optional.parse(""), Ok(None));
}

#[test]
fn numbers_are_read_as_json_numbers_within_their_range() {
    let number = field(&everything_form(), "number").clone();
    assert_eq!(number.parse(" 0.7 "), Ok(Some(json!(0.7))));
    assert_eq!(number.parse("1e3"), Ok(Some(json!(1000.0))));
    assert_eq!(
        number.parse("1000.5"),
        Err(FieldError::AboveMaximum {
            maximum: "1000".into()
        })
    );
    assert_eq!(
        number.parse("-1"),
        Err(FieldError::BelowMinimum {
            minimum: "0".into()
        })
    );
    for not_a_number in ["abc", "NaN", "inf", "1,5"] {
        assert_eq!(
            number.parse(not_a_number),
            Err(FieldError::WrongType {
                expected: "a number"
            }),
            "{not_a_number}"
        );
    }
}

#[test]
fn integers_refuse_fractions_and_values_out_of_range() {
    let integer = field(&everything_form(), "integer").clone();
    assert_eq!(integer.parse("42"), Ok(Some(json!(42))));
    assert_eq!(
        integer.parse("4.2"),
        Err(FieldError::WrongType {
            expected: "an integer"
        })
    );
    assert_eq!(
        integer.parse("0"),
        Err(FieldError::BelowMinimum {
            minimum: "1".into()
        })
    );
    assert_eq!(
        integer.check(&json!(42.5)),
        Err(FieldError::WrongType {
            expected: "an integer"
        })
    );
}

#[test]
fn booleans_take_yes_no_true_and_false_in_any_case() {
    let check = one(json!({ "type": "boolean" }), true);
    for (text, value) in [
        ("yes", true),
        ("Y", true),
        ("TRUE", true),
        ("no", false),
        ("false", false),
    ] {
        assert_eq!(check.parse(text), Ok(Some(json!(value))), "{text}");
    }
    assert_eq!(
        check.parse("maybe"),
        Err(FieldError::WrongType {
            expected: "yes or no"
        })
    );
    assert!(check.check(&json!("true")).is_err());
}

#[test]
fn text_is_taken_as_typed_and_its_length_is_counted_in_characters() {
    let text = one(
        json!({ "type": "string", "minLength": 2, "maxLength": 3 }),
        true,
    );
    assert_eq!(text.parse(" ab"), Ok(Some(json!(" ab"))));
    assert_eq!(text.parse("éé"), Ok(Some(json!("éé"))));
    assert_eq!(text.parse("a"), Err(FieldError::TooShort { min_length: 2 }));
    assert_eq!(
        text.parse("abcd"),
        Err(FieldError::TooLong { max_length: 3 })
    );
    assert_eq!(
        text.check(&json!(12)),
        Err(FieldError::WrongType { expected: "text" })
    );
}

#[test]
fn formats_are_checked_by_their_grammar() {
    let cases = [
        ("email", "ada@example.com", true),
        ("email", "ada@localhost", false),
        ("email", "ada example.com", false),
        ("email", "@example.com", false),
        ("uri", "https://example.com/x", true),
        ("uri", "example.com", false),
        ("date", "2024-02-29", true),
        ("date", "2023-02-29", false),
        ("date", "2026-13-01", false),
        ("date", "2026-1é-01", false),
        ("date", "26-12-05", false),
        ("date-time", "2026-12-05T21:15:00Z", true),
        ("date-time", "2026-12-05t21:15:00.123+01:00", true),
        ("date-time", "2026-12-05T25:15:00Z", false),
        ("date-time", "2026-12-05T21:15:00", false),
        ("date-time", "2026-12-05", false),
    ];
    for (format, text, valid) in cases {
        let field = one(json!({ "type": "string", "format": format }), true);
        let parsed = field.parse(text);
        assert_eq!(parsed.is_ok(), valid, "{format} {text:?}: {parsed:?}");
        if !valid {
            assert!(
                matches!(parsed, Err(FieldError::BadFormat { .. })),
                "{parsed:?}"
            );
        }
    }
}

#[test]
fn a_choice_is_named_by_its_value_or_its_label_in_any_case() {
    let hero = field(&everything_form(), "hero").clone();
    assert_eq!(hero.parse("hero-2"), Ok(Some(json!("hero-2"))));
    assert_eq!(hero.parse("green lantern"), Ok(Some(json!("hero-2"))));
    assert_eq!(hero.parse("Batman"), Err(FieldError::NotAChoice));
    assert_eq!(hero.check(&json!("Superman")), Err(FieldError::NotAChoice));
}

#[test]
fn several_choices_are_a_comma_separated_list_within_their_counts() {
    let instruments = field(&everything_form(), "instruments").clone();
    assert_eq!(
        instruments.parse("Guitar, Piano"),
        Ok(Some(json!(["Guitar", "Piano"])))
    );
    assert_eq!(
        instruments.parse("Guitar, Piano, Drums"),
        Err(FieldError::TooManyChoices { max_items: 2 })
    );
    assert_eq!(
        instruments.parse("Guitar,Guitar"),
        Err(FieldError::RepeatedChoice)
    );
    assert_eq!(instruments.parse("Banjo"), Err(FieldError::NotAChoice));
    assert_eq!(
        instruments.check(&json!([])),
        Err(FieldError::TooFewChoices { min_items: 1 })
    );
}

#[test]
fn an_answer_holds_only_fields_of_the_form_with_fitting_values() {
    let form = everything_form();
    let good = map(json!({ "name": "Ada", "integer": 7, "instruments": ["Drums"] }));
    assert_eq!(form.answer(good.clone()), Ok(good));
    assert_eq!(
        form.answer(map(json!({ "name": "Ada", "age": 3 }))),
        Err(FormError::UnknownField {
            field: "age".into()
        })
    );
    assert_eq!(
        form.answer(map(json!({ "name": "Ada", "integer": "7" }))),
        Err(FormError::Field {
            field: "integer".into(),
            error: FieldError::WrongType {
                expected: "an integer"
            }
        })
    );
}

#[test]
fn an_answer_without_a_required_field_is_refused() {
    let form = everything_form();
    assert_eq!(
        form.answer(form.defaults()),
        Err(FormError::Field {
            field: "name".into(),
            error: FieldError::Missing
        })
    );
}

#[test]
fn a_property_no_form_can_hold_is_named_in_the_error() {
    let schema = json!({ "type": "object", "properties": {
        "where": { "type": "object", "properties": {} }
    } });
    let error = ElicitationForm::from_json(String::new(), &schema).expect_err("unsupported");
    assert_eq!(
        error,
        FormError::Unsupported {
            field: "where".into(),
            what: "type \"object\"".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "field \"where\" is of a type an elicitation form cannot hold (type \"object\")"
    );
    let free_array = json!({ "type": "object", "properties": {
        "tags": { "type": "array", "items": { "type": "string" } }
    } });
    assert!(ElicitationForm::from_json(String::new(), &free_array).is_err());
}

#[test]
fn errors_read_as_sentences_for_the_person_who_typed() {
    let cases = [
        (FieldError::Missing, "a value is required"),
        (
            FieldError::BadFormat {
                format: TextFormat::Date,
            },
            "must be a date (YYYY-MM-DD)",
        ),
        (
            FieldError::AboveMaximum {
                maximum: "0.5".into(),
            },
            "must be at most 0.5",
        ),
        (
            FieldError::TooFewChoices { min_items: 1 },
            "choose at least 1",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
    }
}
