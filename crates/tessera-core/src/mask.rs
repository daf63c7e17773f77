//! Peeks (`peek-source-data`): enough for the destination to decide whether to redeem, no more.
//! Each peeked attribute is Persona's `{visibility, value}` wrapper: `full` with the raw value
//! for what is not personal (field names, verification kinds, statuses, non-birth dates,
//! booleans, country codes), `presence` with a boolean (does the source have a non-null value)
//! for personal values. A `presence` entry with a value also carries the Tessera extension
//! `hint`, a partial mask (`J***`, birth year only, last two digits of numbers) that Persona
//! clients ignore.

use serde_json::{Value, json};

use crate::fields::{FieldType, FieldValue};

/// Fields whose values are not personal and stay visible.
const VISIBLE: &[&str] = &[
    "address-country-code",
    "issuing-country",
    "identification-class",
    "expiration-date",
];
/// Fields that are numbers written as strings: only their last two digits show.
const NUMERIC: &[&str] = &["identification-number", "phone-number"];

// A mask never shows a whole value: a one-character string and a number of at most two digits
// are all stars.

fn first_char(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => String::new(),
        (Some(_), None) => String::from("***"),
        (Some(c), Some(_)) => format!("{c}***"),
    }
}

fn last_two(s: &str) -> String {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let keep = if chars.len() > 2 { 2 } else { 0 };
    let shown: String = chars[chars.len() - keep..].iter().collect();
    format!("{}{}", "*".repeat(chars.len() - keep), shown)
}

/// The partial mask of a personal value, or `None` when the value is not personal and shows in
/// full.
fn hint(name: &str, field: &FieldValue) -> Option<Value> {
    if VISIBLE.contains(&name) {
        return None;
    }
    Some(match (field.kind, &field.value) {
        (FieldType::Date, Value::String(s)) if name == "birthdate" => {
            json!(s.get(..4).unwrap_or(""))
        }
        (FieldType::Date, _) | (FieldType::Boolean, _) => return None,
        (FieldType::Number, v) => json!(last_two(&v.to_string())),
        (_, Value::String(s)) if NUMERIC.contains(&name) => json!(last_two(s)),
        (_, Value::String(s)) if name == "email-address" => {
            let domain = s.split_once('@').map(|(_, d)| d).unwrap_or("");
            json!(format!("{}@{}", first_char(s), first_char(domain)))
        }
        (_, Value::String(s)) => json!(first_char(s)),
        (_, v) => json!(first_char(&v.to_string())),
    })
}

/// A `full` wrapper: the raw value.
pub fn full(value: Value) -> Value {
    json!({"visibility": "full", "value": value})
}

/// The peek of one field: `{"visibility": "full", "value": <raw>}` or
/// `{"visibility": "presence", "value": <has a non-null value>, "hint": <partial mask>}` (no
/// `hint` when the value is null).
pub fn peek_field(name: &str, field: &FieldValue) -> Value {
    match hint(name, field) {
        None => full(field.value.clone()),
        Some(_) if field.value.is_null() => json!({"visibility": "presence", "value": false}),
        Some(h) => json!({"visibility": "presence", "value": true, "hint": h}),
    }
}

/// The peek of an untyped scalar (a verification's extracted attribute): typed by its JSON
/// value (a `YYYY-MM-DD` string is a date), then as [`peek_field`].
pub fn peek_value(name: &str, value: &Value) -> Value {
    let kind = match value {
        Value::Number(_) => FieldType::Number,
        Value::Bool(_) => FieldType::Boolean,
        Value::String(s)
            if s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                }) =>
        {
            FieldType::Date
        }
        _ => FieldType::String,
    };
    peek_field(
        name,
        &FieldValue {
            kind,
            value: value.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(kind: FieldType, v: Value) -> FieldValue {
        FieldValue { kind, value: v }
    }

    fn presence(name: &str, kind: FieldType, v: Value) -> Value {
        let p = peek_field(name, &f(kind, v));
        assert_eq!(p["visibility"], "presence", "{p}");
        assert_eq!(p["value"], true, "{p}");
        p["hint"].clone()
    }

    #[test]
    fn masks_personal_values() {
        assert_eq!(
            presence("name-first", FieldType::String, json!("Jane")),
            "J***"
        );
        assert_eq!(
            presence("birthdate", FieldType::Date, json!("1990-04-01")),
            "1990"
        );
        assert_eq!(
            presence(
                "identification-number",
                FieldType::String,
                json!("A1234567")
            ),
            "******67"
        );
        assert_eq!(
            presence(
                "email-address",
                FieldType::String,
                json!("jane@example.com")
            ),
            "j***@e***"
        );
        assert_eq!(presence("score", FieldType::Number, json!(12345)), "***45");
        assert_eq!(
            peek_field("expiration-date", &f(FieldType::Date, json!("2030-01-01"))),
            json!({"visibility": "full", "value": "2030-01-01"})
        );
        assert_eq!(
            peek_field("issuing-country", &f(FieldType::String, json!("US"))),
            json!({"visibility": "full", "value": "US"})
        );
        assert_eq!(
            peek_field("vip", &f(FieldType::Boolean, json!(true))),
            json!({"visibility": "full", "value": true})
        );
    }

    #[test]
    fn a_null_personal_value_is_absent() {
        assert_eq!(
            peek_field("name-first", &f(FieldType::String, Value::Null)),
            json!({"visibility": "presence", "value": false})
        );
        assert_eq!(
            peek_field("issuing-country", &f(FieldType::String, Value::Null)),
            json!({"visibility": "full", "value": null})
        );
    }

    #[test]
    fn untyped_values_are_typed_by_their_json() {
        assert_eq!(
            peek_value("birthdate", &json!("1990-04-01"))["hint"],
            "1990"
        );
        assert_eq!(
            peek_value("issue-date", &json!("2020-04-01"))["visibility"],
            "full"
        );
        assert_eq!(peek_value("name-first", &json!("Jane"))["hint"], "J***");
        assert_eq!(peek_value("age", &json!(42))["hint"], "**");
        assert_eq!(peek_value("matched", &json!(true))["visibility"], "full");
    }

    #[test]
    fn short_values_are_all_stars() {
        assert_eq!(presence("age", FieldType::Number, json!(42)), "**");
        assert_eq!(presence("phone-number", FieldType::String, json!("7")), "*");
        assert_eq!(
            presence("name-middle", FieldType::String, json!("Q")),
            "***"
        );
        assert_eq!(presence("score", FieldType::Number, json!(123)), "*23");
    }

    proptest! {
        #[test]
        fn a_masked_string_never_shows_more_than_its_first_character(name in "[a-z-]{1,20}", value in "[A-Za-z]{2,40}") {
            prop_assume!(!VISIBLE.contains(&name.as_str()) && !NUMERIC.contains(&name.as_str()) && name != "email-address");
            let m = peek_field(&name, &f(FieldType::String, json!(value.clone())));
            prop_assert_eq!(m["visibility"].as_str(), Some("presence"));
            prop_assert_eq!(&m["value"], &json!(true));
            let shown = m["hint"].as_str().unwrap_or("").trim_end_matches('*').to_owned();
            prop_assert!(shown.chars().count() <= 1);
            // The hint, not the whole peek: `"visibility"` itself contains e.g. "ty".
            prop_assert!(!m["hint"].as_str().unwrap_or("").contains(&value));
        }

        #[test]
        fn a_masked_number_never_shows_all_its_digits(n in 0_i64..10_000_000) {
            let m = peek_field("some-number", &f(FieldType::Number, json!(n)));
            prop_assert_eq!(m["visibility"].as_str(), Some("presence"));
            let shown = m["hint"].as_str().unwrap_or("").trim_start_matches('*').to_owned();
            prop_assert!(shown.len() <= 2 && shown != n.to_string(), "{} shows {}", n, shown);
        }

        #[test]
        fn a_masked_string_never_shows_a_whole_value(value in "[A-Za-z0-9]{1,12}") {
            for name in ["name-first", "identification-number"] {
                let m = peek_field(name, &f(FieldType::String, json!(value.clone())));
                let shown = m["hint"].as_str().unwrap_or("").trim_matches('*').to_owned();
                prop_assert!(shown != value, "{} shows {}", name, shown);
            }
        }
    }
}
