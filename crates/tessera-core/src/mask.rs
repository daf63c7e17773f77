//! Masks for `peek-source-data`: enough for the destination to decide whether to redeem, no
//! more. Field names, verification kinds, statuses and (non-birth) dates stay visible; personal
//! values are masked: `J***`, birth year only, last two digits of numbers.

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

/// The peek of one field: `{"visibility": "masked"|"visible", "value": …}`.
pub fn mask_field(name: &str, field: &FieldValue) -> Value {
    let visible = |v: &Value| json!({"visibility": "visible", "value": v});
    let masked = |v: Value| json!({"visibility": "masked", "value": v});
    if VISIBLE.contains(&name) {
        return visible(&field.value);
    }
    match (field.kind, &field.value) {
        (FieldType::Date, Value::String(s)) if name == "birthdate" => {
            masked(json!(s.get(..4).unwrap_or("")))
        }
        (FieldType::Date, v) => visible(v),
        (FieldType::Boolean, v) => visible(v),
        (FieldType::Number, v) => masked(json!(last_two(&v.to_string()))),
        (_, Value::String(s)) if NUMERIC.contains(&name) => masked(json!(last_two(s))),
        (_, Value::String(s)) if name == "email-address" => {
            let domain = s.split_once('@').map(|(_, d)| d).unwrap_or("");
            masked(json!(format!("{}@{}", first_char(s), first_char(domain))))
        }
        (_, Value::String(s)) => masked(json!(first_char(s))),
        (_, v) => masked(json!(first_char(&v.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(kind: FieldType, v: Value) -> FieldValue {
        FieldValue { kind, value: v }
    }

    #[test]
    fn masks_personal_values() {
        assert_eq!(
            mask_field("name-first", &f(FieldType::String, json!("Jane")))["value"],
            "J***"
        );
        assert_eq!(
            mask_field("birthdate", &f(FieldType::Date, json!("1990-04-01")))["value"],
            "1990"
        );
        assert_eq!(
            mask_field(
                "identification-number",
                &f(FieldType::String, json!("A1234567"))
            )["value"],
            "******67"
        );
        assert_eq!(
            mask_field(
                "email-address",
                &f(FieldType::String, json!("jane@example.com"))
            )["value"],
            "j***@e***"
        );
        assert_eq!(
            mask_field("score", &f(FieldType::Number, json!(12345)))["value"],
            "***45"
        );
        let v = mask_field("expiration-date", &f(FieldType::Date, json!("2030-01-01")));
        assert_eq!(
            (v["visibility"].as_str(), v["value"].as_str()),
            (Some("visible"), Some("2030-01-01"))
        );
        assert_eq!(
            mask_field("issuing-country", &f(FieldType::String, json!("US")))["visibility"],
            "visible"
        );
    }

    #[test]
    fn short_values_are_all_stars() {
        assert_eq!(
            mask_field("age", &f(FieldType::Number, json!(42)))["value"],
            "**"
        );
        assert_eq!(
            mask_field("phone-number", &f(FieldType::String, json!("7")))["value"],
            "*"
        );
        assert_eq!(
            mask_field("name-middle", &f(FieldType::String, json!("Q")))["value"],
            "***"
        );
        assert_eq!(
            mask_field("score", &f(FieldType::Number, json!(123)))["value"],
            "*23"
        );
    }

    proptest! {
        #[test]
        fn a_masked_string_never_shows_more_than_its_first_character(name in "[a-z-]{1,20}", value in "[A-Za-z]{2,40}") {
            prop_assume!(!VISIBLE.contains(&name.as_str()) && !NUMERIC.contains(&name.as_str()) && name != "email-address");
            let m = mask_field(&name, &f(FieldType::String, json!(value.clone())));
            prop_assert_eq!(m["visibility"].as_str(), Some("masked"));
            let shown = m["value"].as_str().unwrap_or("").trim_end_matches('*').to_owned();
            prop_assert!(shown.chars().count() <= 1);
            // The masked value, not the whole peek: `"visibility"` itself contains e.g. "ty".
            prop_assert!(!m["value"].as_str().unwrap_or("").contains(&value));
        }

        #[test]
        fn a_masked_number_never_shows_all_its_digits(n in 0_i64..10_000_000) {
            let m = mask_field("some-number", &f(FieldType::Number, json!(n)));
            prop_assert_eq!(m["visibility"].as_str(), Some("masked"));
            let shown = m["value"].as_str().unwrap_or("").trim_start_matches('*').to_owned();
            prop_assert!(shown.len() <= 2 && shown != n.to_string(), "{} shows {}", n, shown);
        }

        #[test]
        fn a_masked_string_never_shows_a_whole_value(value in "[A-Za-z0-9]{1,12}") {
            for name in ["name-first", "identification-number"] {
                let m = mask_field(name, &f(FieldType::String, json!(value.clone())));
                let shown = m["value"].as_str().unwrap_or("").trim_matches('*').to_owned();
                prop_assert!(shown != value, "{} shows {}", name, shown);
            }
        }
    }
}
