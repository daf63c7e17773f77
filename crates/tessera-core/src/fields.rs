//! Inquiry fields: a map `name → {"type", "value"}`. Standard names are typed and checked;
//! other names keep the JSON type they were written with.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, codes};
use crate::inflect::to_kebab;

/// The type of a field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Date,
    Number,
    Boolean,
    Choices,
}

/// One field: its type and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldValue {
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[schema(value_type = Object)]
    pub value: Value,
}

/// An inquiry's fields, ordered by name.
pub type Fields = BTreeMap<String, FieldValue>;

/// Most fields an inquiry may hold.
pub const MAX_FIELDS: usize = 100;
/// Longest field name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest string value.
pub const MAX_STRING_LEN: usize = 1024;

/// The values `identification-class` may take.
pub const IDENTIFICATION_CLASSES: &[&str] = &["dl", "id", "pp", "rp", "visa", "other"];

/// What a standard field name requires of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standard {
    Text,
    Date,
    Country,
    Choices(&'static [&'static str]),
}

const STANDARD: &[(&str, Standard)] = &[
    ("name-first", Standard::Text),
    ("name-middle", Standard::Text),
    ("name-last", Standard::Text),
    ("birthdate", Standard::Date),
    ("address-street-1", Standard::Text),
    ("address-street-2", Standard::Text),
    ("address-city", Standard::Text),
    ("address-subdivision", Standard::Text),
    ("address-postal-code", Standard::Text),
    ("address-country-code", Standard::Country),
    ("email-address", Standard::Text),
    ("phone-number", Standard::Text),
    ("identification-number", Standard::Text),
    (
        "identification-class",
        Standard::Choices(IDENTIFICATION_CLASSES),
    ),
    ("issuing-country", Standard::Country),
    ("expiration-date", Standard::Date),
];

fn standard(name: &str) -> Option<Standard> {
    STANDARD.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The standard field names.
pub fn standard_names() -> impl Iterator<Item = &'static str> {
    STANDARD.iter().map(|(n, _)| *n)
}

/// The name a written field is stored under: a spelling of a standard name in another
/// inflection (`name_first`, `nameFirst`) becomes the standard name; other names stay as sent.
pub fn canonical_name(name: &str) -> String {
    let kebab = to_kebab(name);
    if standard(&kebab).is_some() {
        kebab
    } else {
        name.to_owned()
    }
}

/// Whether `name` can name a field: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `-`, `_`, `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Parses an ISO date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn type_error(pointer: &str, name: &str, what: &str) -> Error {
    Error::invalid(
        codes::INVALID_FIELD_VALUE,
        format!("field {name} must be {what}"),
    )
    .at(pointer)
}

/// Checks one written value. `Ok(None)` means "remove the field" (a JSON null).
pub fn parse_value(name: &str, value: &Value, pointer: &str) -> Result<Option<FieldValue>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    let string = |v: &Value| -> Result<String, Error> {
        let s = v
            .as_str()
            .ok_or_else(|| type_error(pointer, name, "a string"))?;
        if s.chars().count() > MAX_STRING_LEN {
            return Err(type_error(
                pointer,
                name,
                &format!("at most {MAX_STRING_LEN} characters"),
            ));
        }
        Ok(s.to_owned())
    };
    let field = match standard(name) {
        Some(Standard::Text) => FieldValue {
            kind: FieldType::String,
            value: Value::String(string(value)?),
        },
        Some(Standard::Date) => {
            let s = string(value)?;
            if parse_date(&s).is_none() {
                return Err(type_error(pointer, name, "a date written YYYY-MM-DD"));
            }
            FieldValue {
                kind: FieldType::Date,
                value: Value::String(s),
            }
        }
        Some(Standard::Country) => {
            let s = string(value)?;
            if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(type_error(
                    pointer,
                    name,
                    "an ISO 3166-1 alpha-2 country code",
                ));
            }
            FieldValue {
                kind: FieldType::String,
                value: Value::String(s.to_ascii_uppercase()),
            }
        }
        Some(Standard::Choices(choices)) => {
            let s = string(value)?.to_ascii_lowercase();
            if !choices.contains(&s.as_str()) {
                return Err(type_error(
                    pointer,
                    name,
                    &format!("one of {}", choices.join(", ")),
                ));
            }
            FieldValue {
                kind: FieldType::Choices,
                value: Value::String(s),
            }
        }
        None => match value {
            Value::String(_) => FieldValue {
                kind: FieldType::String,
                value: Value::String(string(value)?),
            },
            Value::Number(n) => FieldValue {
                kind: FieldType::Number,
                value: Value::Number(n.clone()),
            },
            Value::Bool(b) => FieldValue {
                kind: FieldType::Boolean,
                value: Value::Bool(*b),
            },
            _ => return Err(type_error(pointer, name, "a string, number or boolean")),
        },
    };
    Ok(Some(field))
}

/// A parsed set of field writes: `None` removes the field.
pub type FieldWrites = Vec<(String, Option<FieldValue>)>;

/// Parses a written `fields` map. `pointer` is where the map sits in the request.
pub fn parse_writes(map: &Map<String, Value>, pointer: &str) -> Result<FieldWrites, Error> {
    if map.len() > MAX_FIELDS {
        return Err(Error::invalid(
            codes::INVALID_FIELD_VALUE,
            format!("an inquiry holds at most {MAX_FIELDS} fields"),
        )
        .at(pointer));
    }
    map.iter()
        .map(|(raw, value)| {
            let field_pointer = format!("{pointer}/{}", escape_pointer(raw));
            if !valid_name(raw) {
                return Err(Error::invalid(
                    codes::INVALID_FIELD_VALUE,
                    format!("field names are 1 to {MAX_NAME_LEN} letters, digits, '-', '_' or '.'"),
                )
                .at(field_pointer));
            }
            let name = canonical_name(raw);
            let parsed = parse_value(&name, value, &field_pointer)?;
            Ok((name, parsed))
        })
        .collect()
}

/// Applies writes to a field map, refusing a result with too many fields.
pub fn apply_writes(fields: &mut Fields, writes: FieldWrites, pointer: &str) -> Result<(), Error> {
    for (name, value) in writes {
        match value {
            Some(v) => {
                fields.insert(name, v);
            }
            None => {
                fields.remove(&name);
            }
        }
    }
    if fields.len() > MAX_FIELDS {
        return Err(Error::invalid(
            codes::INVALID_FIELD_VALUE,
            format!("an inquiry holds at most {MAX_FIELDS} fields"),
        )
        .at(pointer));
    }
    Ok(())
}

/// Escapes a JSON pointer segment (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn writes(v: Value) -> Result<FieldWrites, Error> {
        parse_writes(v.as_object().unwrap_or(&Map::new()), "fields")
    }

    #[test]
    fn standard_names_are_typed() {
        let w = writes(json!({"name_first": "Jane", "birthdate": "1990-04-01", "issuingCountry": "us", "identification-class": "PP"}))
            .unwrap_or_default();
        let m: Fields = w
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .collect();
        assert_eq!(m["name-first"].value, json!("Jane"));
        assert_eq!(m["birthdate"].kind, FieldType::Date);
        assert_eq!(m["issuing-country"].value, json!("US"));
        assert_eq!(m["identification-class"].kind, FieldType::Choices);
    }

    #[test]
    fn bad_values_point_at_the_field() {
        let e = writes(json!({"birthdate": "1990-02-30"})).err();
        assert_eq!(
            e.and_then(|e| e.location),
            Some(crate::error::Source::Attribute("fields/birthdate".into()))
        );
        assert!(writes(json!({"birthdate": 19900401})).is_err());
        assert!(writes(json!({"custom": {"nested": 1}})).is_err());
        assert!(writes(json!({"": "x"})).is_err());
        assert!(writes(json!({"address-country-code": "USA"})).is_err());
    }

    #[test]
    fn other_names_keep_their_json_type() {
        let w = writes(json!({"score": 7, "vip": true, "Custom_Name": "x", "gone": null}))
            .unwrap_or_default();
        assert!(w.contains(&(
            "score".into(),
            Some(FieldValue {
                kind: FieldType::Number,
                value: json!(7)
            })
        )));
        assert!(w.contains(&(
            "vip".into(),
            Some(FieldValue {
                kind: FieldType::Boolean,
                value: json!(true)
            })
        )));
        assert!(w.contains(&(
            "Custom_Name".into(),
            Some(FieldValue {
                kind: FieldType::String,
                value: json!("x")
            })
        )));
        assert!(w.contains(&("gone".into(), None)));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Any JSON value, a few levels deep.
        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                ".{0,40}".prop_map(Value::String),
                "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
                "[a-zA-Z]{1,3}".prop_map(Value::String),
                proptest::sample::select(IDENTIFICATION_CLASSES)
                    .prop_map(|c| Value::from(c.to_uppercase())),
                (1usize..1100).prop_map(|n| Value::String("é".repeat(n))),
            ];
            leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    proptest::collection::btree_map(".{0,8}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Standard names in every inflection, and arbitrary ones.
        fn field_name() -> impl Strategy<Value = String> {
            let standard: Vec<&'static str> = standard_names().collect();
            prop_oneof![
                proptest::sample::select(standard.clone()).prop_map(str::to_owned),
                proptest::sample::select(standard.clone()).prop_map(|n| n.replace('-', "_")),
                proptest::sample::select(standard).prop_map(|n| {
                    crate::inflect::from_kebab(n, crate::inflect::Inflection::Camel)
                }),
                "[a-zA-Z0-9._-]{1,70}",
                ".{0,20}",
            ]
        }

        proptest! {
            /// Untrusted field maps never panic; whatever is accepted is stored under a valid
            /// name, typed as its standard requires, and reads back unchanged (parsing a stored
            /// value again is the identity); whatever is refused points into the map.
            #[test]
            fn field_writes_are_total_and_stable(
                entries in proptest::collection::vec((field_name(), json_value()), 0..8)
            ) {
                let map: Map<String, Value> = entries.into_iter().collect();
                match parse_writes(&map, "fields") {
                    Ok(writes) => {
                        prop_assert_eq!(writes.len(), map.len());
                        for (name, value) in writes {
                            prop_assert!(valid_name(&name), "{name}");
                            let Some(v) = value else { continue };
                            let again = parse_value(&name, &v.value, "/x").ok().flatten();
                            prop_assert_eq!(again.as_ref(), Some(&v));
                            match standard(&name) {
                                Some(Standard::Date) => {
                                    prop_assert_eq!(v.kind, FieldType::Date);
                                    prop_assert!(parse_date(v.value.as_str().unwrap_or("")).is_some());
                                }
                                Some(Standard::Country) => {
                                    let s = v.value.as_str().unwrap_or("");
                                    prop_assert!(s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()));
                                }
                                Some(Standard::Choices(c)) => {
                                    prop_assert!(c.contains(&v.value.as_str().unwrap_or("")));
                                }
                                Some(Standard::Text) => prop_assert_eq!(v.kind, FieldType::String),
                                None => prop_assert!(!v.value.is_array() && !v.value.is_object()),
                            }
                            if let Value::String(s) = &v.value {
                                prop_assert!(s.chars().count() <= MAX_STRING_LEN);
                            }
                        }
                    }
                    Err(e) => {
                        let pointer = match e.location {
                            Some(crate::error::Source::Attribute(p)) => p,
                            other => return Err(TestCaseError::fail(format!("no pointer: {other:?}"))),
                        };
                        prop_assert!(pointer.starts_with("fields"), "{pointer}");
                        prop_assert_eq!(e.status.code(), 422);
                    }
                }
            }

            /// Dates: never a panic, and only real `YYYY-MM-DD` dates.
            #[test]
            fn dates_are_exactly_iso(s in ".{0,12}", y in 0i32..10000, m in 1u32..13, d in 1u32..32) {
                if let Some(date) = parse_date(&s) {
                    prop_assert_eq!(date.format("%Y-%m-%d").to_string(), s);
                }
                let written = format!("{y:04}-{m:02}-{d:02}");
                prop_assert_eq!(
                    parse_date(&written).is_some(),
                    NaiveDate::from_ymd_opt(y, m, d).is_some()
                );
            }

            /// Pointer escaping is reversible (RFC 6901).
            #[test]
            fn pointer_segments_round_trip(s in ".{0,20}") {
                let escaped = escape_pointer(&s);
                prop_assert!(!escaped.contains('/'));
                prop_assert_eq!(escaped.replace("~1", "/").replace("~0", "~"), s);
            }
        }
    }
}
