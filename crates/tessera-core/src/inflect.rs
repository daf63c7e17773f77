//! Key inflection: documents are kebab-case inside Tessera; clients may read them in camelCase or
//! snake_case (`Key-Inflection` header) and write them in any of the three.
//!
//! Free-form maps keep their keys as stored: the names of an inquiry's `fields`, a verification's
//! extracted `attributes`, and a check's `metadata`.

use serde_json::{Map, Value};

/// A key inflection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inflection {
    #[default]
    Kebab,
    Camel,
    Snake,
}

impl Inflection {
    /// Parses a `Key-Inflection` header value or a webhook setting.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kebab" | "kebab-case" | "dash" => Some(Self::Kebab),
            "camel" | "camelcase" | "lower_camel" => Some(Self::Camel),
            "snake" | "snake_case" | "underscore" => Some(Self::Snake),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kebab => "kebab",
            Self::Camel => "camel",
            Self::Snake => "snake",
        }
    }
}

/// Words that keep their digits attached when camelCase is turned back into kebab-case.
const DIGIT_WORDS: &[&str] = &["sha256"];

/// Converts a kebab-case key to the given inflection.
pub fn from_kebab(key: &str, to: Inflection) -> String {
    match to {
        Inflection::Kebab => key.to_owned(),
        Inflection::Snake => key.replace('-', "_"),
        Inflection::Camel => {
            let mut out = String::with_capacity(key.len());
            let mut upper = false;
            for c in key.chars() {
                if c == '-' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// Converts a key written in any of the three inflections to kebab-case.
pub fn to_kebab(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        if c == '_' {
            out.push('-');
        } else if c.is_ascii_uppercase() {
            if prev.is_some_and(|p| p != '-' && p != '_') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_digit() && prev.is_some_and(|p| p.is_ascii_alphabetic()) {
            out.push('-');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    if !out.bytes().any(|b| b.is_ascii_digit()) {
        return out;
    }
    // Re-join the words whose digits belong to them ("sha-256" → "sha256").
    let mut words: Vec<String> = Vec::new();
    for w in out.split('-') {
        if let Some(last) = words.last_mut()
            && w.bytes().all(|b| b.is_ascii_digit())
            && DIGIT_WORDS.contains(&format!("{last}{w}").as_str())
        {
            last.push_str(w);
            continue;
        }
        words.push(w.to_owned());
    }
    words.join("-")
}

fn is_free_form(kebab_key: &str, parent_is_attributes: bool) -> bool {
    // `custom-http-headers`: HTTP header names (`X-API-Key`), which no inflection may rewrite.
    matches!(kebab_key, "fields" | "metadata" | "custom-http-headers")
        || (parent_is_attributes && kebab_key == "attributes")
}

fn walk(value: Value, convert: &dyn Fn(&str) -> String, parent_is_attributes: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let new_key = convert(&k);
                let kebab = to_kebab(&k);
                let v = if is_free_form(&kebab, parent_is_attributes) {
                    v
                } else {
                    walk(v, convert, kebab == "attributes")
                };
                out.insert(new_key, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| walk(v, convert, false)).collect())
        }
        other => other,
    }
}

/// Rewrites the keys of a kebab-case document into `to`.
pub fn inflect_document(value: Value, to: Inflection) -> Value {
    if to == Inflection::Kebab {
        return value;
    }
    walk(value, &|k| from_kebab(k, to), false)
}

/// Rewrites the keys of a request document written in any inflection into kebab-case.
pub fn normalize_document(value: Value) -> Value {
    walk(value, &to_kebab, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn converts_keys_both_ways() {
        assert_eq!(from_kebab("name-first", Inflection::Camel), "nameFirst");
        assert_eq!(from_kebab("name-first", Inflection::Snake), "name_first");
        assert_eq!(
            from_kebab("address-street-1", Inflection::Camel),
            "addressStreet1"
        );
        assert_eq!(to_kebab("addressStreet1"), "address-street-1");
        assert_eq!(to_kebab("address_street_1"), "address-street-1");
        assert_eq!(to_kebab("sha256"), "sha256");
        assert_eq!(to_kebab("expiresInSeconds"), "expires-in-seconds");
        assert_eq!(to_kebab("expires-in-seconds"), "expires-in-seconds");
        assert_eq!(to_kebab("expires_in_seconds"), "expires-in-seconds");
    }

    #[test]
    fn free_form_maps_keep_their_keys() {
        let doc = json!({"data": {"type": "inquiry", "attributes": {
            "reference-id": "r", "fields": {"name-first": {"type": "string", "value": "J"}},
            "attributes": {"name-first": "J"},
            "checks": [{"name": "x", "metadata": {"some-key": 1}}]
        }}});
        let camel = inflect_document(doc.clone(), Inflection::Camel);
        let a = &camel["data"]["attributes"];
        assert!(a.get("referenceId").is_some());
        assert!(a["fields"].get("name-first").is_some());
        assert!(a["attributes"].get("name-first").is_some());
        assert!(a["checks"][0]["metadata"].get("some-key").is_some());
        assert_eq!(normalize_document(camel), doc);
    }

    proptest! {
        #[test]
        fn kebab_round_trips(words in proptest::collection::vec("[a-z]{1,8}", 1..5), digit in proptest::option::of(1u8..3)) {
            let mut key = words.join("-");
            if let Some(d) = digit { key.push_str(&format!("-{d}")); }
            for inflection in [Inflection::Kebab, Inflection::Camel, Inflection::Snake] {
                prop_assert_eq!(to_kebab(&from_kebab(&key, inflection)), key.clone());
            }
        }
    }

    /// A kebab-case key as Tessera writes them: words, optionally ending in a number.
    fn kebab_key() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec("[a-z]{1,8}", 1..4),
            proptest::option::of(1u8..10),
        )
            .prop_map(|(words, digit)| {
                let mut key = words.join("-");
                if let Some(d) = digit {
                    key.push_str(&format!("-{d}"));
                }
                key
            })
    }

    /// A kebab-case document: nested objects and arrays, with some free-form maps whose keys are
    /// anything at all.
    fn kebab_document() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,10}".prop_map(Value::String),
            proptest::collection::btree_map(".{0,10}", ".{0,5}", 0..3).prop_map(|m| {
                // A free-form map (`fields`) holding keys of any shape.
                let inner: Map<String, Value> =
                    m.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
                json!({"fields": inner, "metadata": inner.clone()})
            }),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                proptest::collection::btree_map(kebab_key(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any key, however odd, converts without a panic, and converting twice changes
        /// nothing more.
        #[test]
        fn to_kebab_is_total_and_idempotent(key in ".{0,30}") {
            let once = to_kebab(&key);
            prop_assert_eq!(to_kebab(&once), once.clone());
            for inflection in [Inflection::Kebab, Inflection::Camel, Inflection::Snake] {
                let _ = from_kebab(&key, inflection);
            }
        }

        /// A response document in any inflection, read back as a request, is the document
        /// Tessera wrote: free-form maps keep their keys both ways.
        #[test]
        fn documents_round_trip_through_every_inflection(doc in kebab_document()) {
            let doc = json!({"data": {"attributes": doc}});
            for inflection in [Inflection::Kebab, Inflection::Camel, Inflection::Snake] {
                let shown = inflect_document(doc.clone(), inflection);
                prop_assert_eq!(normalize_document(shown), doc.clone());
            }
        }

        /// Normalising an arbitrary (hostile) request document never panics and keeps its shape:
        /// the same number of members at the top level, every value kind in place.
        #[test]
        fn normalising_any_document_is_total(
            entries in proptest::collection::btree_map(".{0,12}", ".{0,5}", 0..6)
        ) {
            let doc = Value::Object(entries.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
            let normal = normalize_document(doc.clone());
            let n = normal.as_object().map_or(0, Map::len);
            // Two spellings of one key collapse into one member; never more members than sent.
            prop_assert!(n <= doc.as_object().map_or(0, Map::len));
        }
    }
}
