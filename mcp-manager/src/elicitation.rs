//! Elicitation forms: the schema of a form-mode request as fields to present, and the values a
//! person enters checked against it, for an [`ElicitationHandler`](crate::ElicitationHandler).
//!
//! MCP allows a flat object of primitive properties: text (with an optional length range and a
//! format: email, URI, date, date-time), numbers and integers (with an optional range), booleans,
//! a choice of one (`enum`, `oneOf` with titles, or `enum` with the legacy `enumNames`) and a
//! choice of several (an `array` whose `items` are such a choice). [`ElicitationForm::from_schema`]
//! turns the schema into [`FormField`]s in the server's order; a UI presents each by its
//! [`FieldKind`], parses what was typed with [`FormField::parse`] (or checks a value it built with
//! [`FormField::check`]), and sends what [`ElicitationForm::answer`] accepts.
//!
//! Everything a form holds came from the server: the message, titles, descriptions and choice
//! labels are untrusted text, to be shown through
//! [`terminal_safe`](crate::transport::error::terminal_safe) on a terminal. The errors here never
//! quote them, except a field's name, escaped.
//!
//! ```
//! use mcp_manager::rmcp::model::ElicitationSchema;
//! use mcp_manager::{ElicitationForm, FieldError};
//! use serde_json::json;
//!
//! let schema = ElicitationSchema::builder()
//!     .required_integer("age", 0, 150)
//!     .optional_bool("newsletter", false)
//!     .build()
//!     .expect("a valid schema");
//! let form = ElicitationForm::from_schema("About you", &schema).expect("a supported schema");
//! let age = &form.fields()[0];
//! assert_eq!(age.parse("42"), Ok(Some(json!(42))));
//! assert_eq!(age.parse("200"), Err(FieldError::AboveMaximum { maximum: "150".into() }));
//! assert_eq!(age.parse(""), Err(FieldError::Missing));
//!
//! let mut values = serde_json::Map::new();
//! values.insert("age".into(), json!(42));
//! assert!(form.answer(values).is_ok());
//! ```

use rmcp::model::ElicitationSchema;
use serde_json::{Map, Number, Value};

mod format;

pub use format::TextFormat;

/// A form-mode elicitation request as fields to fill in.
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationForm {
    message: String,
    fields: Vec<FormField>,
}

/// One property of the requested schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    name: String,
    title: Option<String>,
    description: Option<String>,
    required: bool,
    kind: FieldKind,
}

/// What a field holds, with the constraints and default the schema gives it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldKind {
    /// A string.
    Text {
        /// The form it must take, if the schema names one this module knows.
        format: Option<TextFormat>,
        /// The fewest characters.
        min_length: Option<u64>,
        /// The most characters.
        max_length: Option<u64>,
        /// The default.
        default: Option<String>,
    },
    /// A number (a JSON number, integral or not).
    Number {
        /// The smallest value allowed.
        minimum: Option<f64>,
        /// The largest value allowed.
        maximum: Option<f64>,
        /// The default.
        default: Option<f64>,
    },
    /// An integer.
    Integer {
        /// The smallest value allowed.
        minimum: Option<i64>,
        /// The largest value allowed.
        maximum: Option<i64>,
        /// The default.
        default: Option<i64>,
    },
    /// A boolean.
    Boolean {
        /// The default.
        default: Option<bool>,
    },
    /// One string out of a list.
    OneOf {
        /// The choices, in the server's order.
        choices: Vec<Choice>,
        /// The default choice's value.
        default: Option<String>,
    },
    /// Any number of strings out of a list (an array of them, without repeats).
    ManyOf {
        /// The choices, in the server's order.
        choices: Vec<Choice>,
        /// The fewest choices.
        min_items: Option<u64>,
        /// The most choices.
        max_items: Option<u64>,
        /// The default choices' values.
        default: Vec<String>,
    },
}

/// One choice of a [`FieldKind::OneOf`] or [`FieldKind::ManyOf`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What is sent when it is chosen.
    pub value: String,
    /// What to show instead of the value, if the schema gives a title.
    pub label: Option<String>,
}

impl Choice {
    /// The label, or else the value.
    pub fn shown(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.value)
    }
}

/// Why a value does not fit its field. The messages are for the person who typed it, and never
/// quote the server's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A required field was left empty.
    #[error("a value is required")]
    Missing,
    /// The value is of another type.
    #[error("expected {expected}")]
    WrongType {
        /// What was expected: "a number", "an integer", "text", "yes or no", "a list of choices".
        expected: &'static str,
    },
    /// A number below the minimum.
    #[error("must be at least {minimum}")]
    BelowMinimum {
        /// The minimum, as JSON writes it.
        minimum: String,
    },
    /// A number above the maximum.
    #[error("must be at most {maximum}")]
    AboveMaximum {
        /// The maximum, as JSON writes it.
        maximum: String,
    },
    /// Text shorter than the minimum length.
    #[error("must be at least {min_length} characters long")]
    TooShort {
        /// The fewest characters.
        min_length: u64,
    },
    /// Text longer than the maximum length.
    #[error("must be at most {max_length} characters long")]
    TooLong {
        /// The most characters.
        max_length: u64,
    },
    /// Text not in the required format.
    #[error("must be {}", .format.describe())]
    BadFormat {
        /// The format required.
        format: TextFormat,
    },
    /// Not one of the choices.
    #[error("is not one of the choices")]
    NotAChoice,
    /// Too few choices made.
    #[error("choose at least {min_items}")]
    TooFewChoices {
        /// The fewest choices.
        min_items: u64,
    },
    /// Too many choices made.
    #[error("choose at most {max_items}")]
    TooManyChoices {
        /// The most choices.
        max_items: u64,
    },
    /// The same choice made twice.
    #[error("a choice is repeated")]
    RepeatedChoice,
}

/// Why a schema cannot be a form, or an answer does not fit it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A property of a type an elicitation form cannot hold (an object, a free array, ...).
    #[error("field {field:?} is of a type an elicitation form cannot hold ({what})")]
    Unsupported {
        /// The property's name.
        field: String,
        /// Its type, as the schema says it (`object`, `array`, `none`).
        what: String,
    },
    /// A value does not fit its field.
    #[error("field {field:?}: {error}")]
    Field {
        /// The field's name.
        field: String,
        /// What is wrong with it.
        error: FieldError,
    },
    /// A value for a field the form does not have.
    #[error("{field:?} is not a field of the form")]
    UnknownField {
        /// The name given.
        field: String,
    },
}

impl ElicitationForm {
    /// The form `schema` asks for, with the request's `message`; its fields in the order the
    /// server wrote them.
    ///
    /// # Errors
    /// [`FormError::Unsupported`]: a property is not of a type MCP allows in a form.
    pub fn from_schema(
        message: impl Into<String>,
        schema: &ElicitationSchema,
    ) -> Result<Self, FormError> {
        let value = serde_json::to_value(schema).unwrap_or(Value::Null);
        let mut form = Self::from_json(message.into(), &value)?;
        if let Some(order) = &schema.property_order {
            // serde_json's map sorts its keys; the request's own order is kept beside it.
            form.fields.sort_by_key(|field| {
                order
                    .iter()
                    .position(|name| *name == field.name)
                    .unwrap_or(usize::MAX)
            });
        }
        Ok(form)
    }

    /// The form a JSON schema object describes (`properties`, `required`).
    pub(crate) fn from_json(message: String, schema: &Value) -> Result<Self, FormError> {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let fields = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, property)| {
                Ok(FormField {
                    name: name.clone(),
                    title: text_of(property, "title"),
                    description: text_of(property, "description"),
                    required: required.contains(&name.as_str()),
                    kind: FieldKind::from_json(name, property)?,
                })
            })
            .collect::<Result<_, FormError>>()?;
        Ok(Self { message, fields })
    }

    /// What the server says it needs the input for.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The fields, in the server's order.
    pub fn fields(&self) -> &[FormField] {
        &self.fields
    }

    /// The defaults the schema declares, each only if it fits its own field: the content of an
    /// answer that takes every default.
    pub fn defaults(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .filter_map(|field| Some((field.name.clone(), field.default()?)))
            .collect()
    }

    /// The content of an answer that takes every default, if that answers the form: each
    /// default fits its field and every required field has one. What automation sends without a
    /// person ([`ElicitationPolicy::AcceptDefaults`](crate::ElicitationPolicy::AcceptDefaults)).
    ///
    /// # Errors
    /// As [`answer`](Self::answer): a required field without a default is
    /// [`FieldError::Missing`].
    pub fn answer_defaults(&self) -> Result<Map<String, Value>, FormError> {
        self.answer(self.defaults())
    }

    /// `values` as the content of an accepting answer, if they fit the form: every key a field,
    /// every value of its field's type and within its constraints, every required field present.
    ///
    /// # Errors
    /// The first problem found: [`FormError::UnknownField`], or [`FormError::Field`] (with
    /// [`FieldError::Missing`] for a required field left out).
    pub fn answer(&self, values: Map<String, Value>) -> Result<Map<String, Value>, FormError> {
        for (name, value) in &values {
            let field = self
                .fields
                .iter()
                .find(|field| field.name == *name)
                .ok_or_else(|| FormError::UnknownField {
                    field: name.clone(),
                })?;
            field.check(value).map_err(|error| FormError::Field {
                field: name.clone(),
                error,
            })?;
        }
        if let Some(missing) = self
            .fields
            .iter()
            .find(|field| field.required && !values.contains_key(&field.name))
        {
            return Err(FormError::Field {
                field: missing.name.clone(),
                error: FieldError::Missing,
            });
        }
        Ok(values)
    }
}

impl FormField {
    /// The property's name: the key of its value in the answer.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema's title for it.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The schema's description of it.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// What to call it: the title, or else the name.
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// Whether the answer must hold it.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// What it holds.
    pub fn kind(&self) -> &FieldKind {
        &self.kind
    }

    /// The schema's default, as a JSON value, if there is one and it fits the field.
    pub fn default(&self) -> Option<Value> {
        let value = match &self.kind {
            FieldKind::Text { default, .. } => Value::String(default.clone()?),
            FieldKind::Number { default, .. } => Value::Number(Number::from_f64((*default)?)?),
            FieldKind::Integer { default, .. } => Value::from((*default)?),
            FieldKind::Boolean { default } => Value::Bool((*default)?),
            FieldKind::OneOf { default, .. } => Value::String(default.clone()?),
            FieldKind::ManyOf { default, .. } if default.is_empty() => return None,
            FieldKind::ManyOf { default, .. } => {
                Value::Array(default.iter().cloned().map(Value::String).collect())
            }
        };
        self.check(&value).ok().map(|()| value)
    }

    /// What a person typed, as this field's value: `None` for nothing typed in an optional field
    /// (leave it out of the answer). Numbers, integers and booleans (`yes`, `no`, `true`, `false`)
    /// are read around surrounding spaces; a choice by its value or (ignoring case) its label; a
    /// choice of several as a comma-separated list. Text is taken as typed.
    ///
    /// # Errors
    /// What is wrong with it: [`FieldError::Missing`] for nothing typed in a required field, else
    /// as [`check`](Self::check).
    pub fn parse(&self, text: &str) -> Result<Option<Value>, FieldError> {
        if text.trim().is_empty() {
            return if self.required {
                Err(FieldError::Missing)
            } else {
                Ok(None)
            };
        }
        let trimmed = text.trim();
        let value = match &self.kind {
            FieldKind::Text { .. } => Value::String(text.to_owned()),
            FieldKind::Number { .. } => trimmed
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or(FieldError::WrongType {
                    expected: "a number",
                })?,
            FieldKind::Integer { .. } => {
                Value::from(trimmed.parse::<i64>().map_err(|_| FieldError::WrongType {
                    expected: "an integer",
                })?)
            }
            FieldKind::Boolean { .. } => Value::Bool(parse_bool(trimmed)?),
            FieldKind::OneOf { choices, .. } => Value::String(pick(choices, trimmed)?),
            FieldKind::ManyOf { choices, .. } => Value::Array(
                trimmed
                    .split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| pick(choices, part).map(Value::String))
                    .collect::<Result<_, _>>()?,
            ),
        };
        self.check(&value)?;
        Ok(Some(value))
    }

    /// Whether `value` fits this field: its type, range, length, format or choices.
    ///
    /// # Errors
    /// The first thing that does not fit.
    pub fn check(&self, value: &Value) -> Result<(), FieldError> {
        match &self.kind {
            FieldKind::Text {
                format,
                min_length,
                max_length,
                ..
            } => {
                let text = value
                    .as_str()
                    .ok_or(FieldError::WrongType { expected: "text" })?;
                let length = text.chars().count() as u64;
                if let Some(min_length) = *min_length
                    && length < min_length
                {
                    return Err(FieldError::TooShort { min_length });
                }
                if let Some(max_length) = *max_length
                    && length > max_length
                {
                    return Err(FieldError::TooLong { max_length });
                }
                match format {
                    Some(format) if !format.accepts(text) => {
                        Err(FieldError::BadFormat { format: *format })
                    }
                    _ => Ok(()),
                }
            }
            FieldKind::Number {
                minimum, maximum, ..
            } => {
                let number = value.as_f64().ok_or(FieldError::WrongType {
                    expected: "a number",
                })?;
                in_range(number, *minimum, *maximum, json_number)
            }
            FieldKind::Integer {
                minimum, maximum, ..
            } => {
                let integer = value.as_i64().ok_or(FieldError::WrongType {
                    expected: "an integer",
                })?;
                in_range(integer, *minimum, *maximum, |bound| bound.to_string())
            }
            FieldKind::Boolean { .. } => match value {
                Value::Bool(_) => Ok(()),
                _ => Err(FieldError::WrongType {
                    expected: "yes or no",
                }),
            },
            FieldKind::OneOf { choices, .. } => match value.as_str() {
                Some(chosen) if choices.iter().any(|choice| choice.value == chosen) => Ok(()),
                Some(_) => Err(FieldError::NotAChoice),
                None => Err(FieldError::WrongType {
                    expected: "one of the choices",
                }),
            },
            FieldKind::ManyOf {
                choices,
                min_items,
                max_items,
                ..
            } => {
                let chosen = value.as_array().ok_or(FieldError::WrongType {
                    expected: "a list of choices",
                })?;
                for (at, item) in chosen.iter().enumerate() {
                    let item = item.as_str().ok_or(FieldError::NotAChoice)?;
                    if !choices.iter().any(|choice| choice.value == item) {
                        return Err(FieldError::NotAChoice);
                    }
                    if chosen[..at]
                        .iter()
                        .any(|earlier| earlier.as_str() == Some(item))
                    {
                        return Err(FieldError::RepeatedChoice);
                    }
                }
                let count = chosen.len() as u64;
                if let Some(min_items) = *min_items
                    && count < min_items
                {
                    return Err(FieldError::TooFewChoices { min_items });
                }
                if let Some(max_items) = *max_items
                    && count > max_items
                {
                    return Err(FieldError::TooManyChoices { max_items });
                }
                Ok(())
            }
        }
    }
}

impl FieldKind {
    /// The kind of one property of the schema, by its JSON.
    fn from_json(name: &str, property: &Value) -> Result<Self, FormError> {
        let unsupported = |what: &str| FormError::Unsupported {
            field: name.to_owned(),
            what: what.to_owned(),
        };
        let kind = match property.get("type").and_then(Value::as_str) {
            Some("string") => match choices_of(property) {
                Some(choices) => {
                    let default = text_of(property, "default")
                        .filter(|value| choices.iter().any(|choice| choice.value == *value));
                    Self::OneOf { choices, default }
                }
                None => Self::Text {
                    format: property
                        .get("format")
                        .and_then(Value::as_str)
                        .and_then(TextFormat::from_schema),
                    min_length: property.get("minLength").and_then(Value::as_u64),
                    max_length: property.get("maxLength").and_then(Value::as_u64),
                    default: text_of(property, "default"),
                },
            },
            Some("number") => Self::Number {
                minimum: property.get("minimum").and_then(Value::as_f64),
                maximum: property.get("maximum").and_then(Value::as_f64),
                default: property.get("default").and_then(Value::as_f64),
            },
            Some("integer") => Self::Integer {
                minimum: property.get("minimum").and_then(Value::as_i64),
                maximum: property.get("maximum").and_then(Value::as_i64),
                default: property.get("default").and_then(Value::as_i64),
            },
            Some("boolean") => Self::Boolean {
                default: property.get("default").and_then(Value::as_bool),
            },
            Some("array") => {
                let choices = property
                    .get("items")
                    .and_then(choices_of)
                    .ok_or_else(|| unsupported("an array of other than choices"))?;
                let default = property
                    .get("default")
                    .and_then(Value::as_array)
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                Self::ManyOf {
                    choices,
                    min_items: property.get("minItems").and_then(Value::as_u64),
                    max_items: property.get("maxItems").and_then(Value::as_u64),
                    default,
                }
            }
            Some(other) => return Err(unsupported(&format!("type {other:?}"))),
            None => return Err(unsupported("no type")),
        };
        Ok(kind)
    }
}

/// A string member of a JSON object.
fn text_of(object: &Value, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The choices a string property (or an array's `items`) offers: `enum` (labelled by the legacy
/// `enumNames` when it has one per value), or `oneOf` / `anyOf` of `{const, title}`.
fn choices_of(property: &Value) -> Option<Vec<Choice>> {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        let names = property
            .get("enumNames")
            .and_then(Value::as_array)
            .filter(|names| names.len() == values.len());
        let choices = values
            .iter()
            .enumerate()
            .filter_map(|(at, value)| {
                Some(Choice {
                    value: value.as_str()?.to_owned(),
                    label: names
                        .and_then(|names| names.get(at)?.as_str())
                        .map(str::to_owned),
                })
            })
            .collect();
        return Some(choices);
    }
    let options = property
        .get("oneOf")
        .or_else(|| property.get("anyOf"))?
        .as_array()?;
    Some(
        options
            .iter()
            .filter_map(|option| {
                Some(Choice {
                    value: option.get("const")?.as_str()?.to_owned(),
                    label: text_of(option, "title"),
                })
            })
            .collect(),
    )
}

/// The choice `text` names: by its value, else by its label ignoring case.
fn pick(choices: &[Choice], text: &str) -> Result<String, FieldError> {
    choices
        .iter()
        .find(|choice| choice.value == text)
        .or_else(|| {
            choices.iter().find(|choice| {
                choice
                    .label
                    .as_deref()
                    .is_some_and(|label| label.eq_ignore_ascii_case(text))
            })
        })
        .map(|choice| choice.value.clone())
        .ok_or(FieldError::NotAChoice)
}

fn parse_bool(text: &str) -> Result<bool, FieldError> {
    match text.to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" => Ok(true),
        "n" | "no" | "false" => Ok(false),
        _ => Err(FieldError::WrongType {
            expected: "yes or no",
        }),
    }
}

/// `value` within `[minimum, maximum]`; `show` writes a bound for the error.
fn in_range<T: PartialOrd + Copy>(
    value: T,
    minimum: Option<T>,
    maximum: Option<T>,
    show: impl Fn(T) -> String,
) -> Result<(), FieldError> {
    if let Some(minimum) = minimum
        && value < minimum
    {
        return Err(FieldError::BelowMinimum {
            minimum: show(minimum),
        });
    }
    if let Some(maximum) = maximum
        && value > maximum
    {
        return Err(FieldError::AboveMaximum {
            maximum: show(maximum),
        });
    }
    Ok(())
}

/// A bound for a message: `1000`, not `1000.0`; `0.7`.
fn json_number(number: f64) -> String {
    // Rust writes a float as the shortest text that reads back as it, without a `.0`.
    number.to_string()
}

#[cfg(test)]
mod tests;
