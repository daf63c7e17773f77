//! What a webhook's settings do to an event payload: the `payload-filter` that decides whether
//! it is delivered, and the relationship allowlist and attribute blocklist that shape it.

use serde_json::Value;

use super::WebhookSettings;

impl WebhookSettings {
    /// Whether relationships are removed from delivered payloads.
    pub fn omits_relationships(&self) -> bool {
        self.relationship_allowlist
            .get("state")
            .and_then(Value::as_str)
            == Some("include_none")
    }

    /// Applies the relationship allowlist and the attribute blocklist to an event payload
    /// (`{"data": …, "included"?: […]}`, kebab-case).
    pub fn shape_payload(&self, payload: &mut Value) {
        if self.omits_relationships() {
            if let Some(d) = payload.get_mut("data").and_then(Value::as_object_mut) {
                d.remove("relationships");
            }
            if let Some(items) = payload.get_mut("included").and_then(Value::as_array_mut) {
                for i in items.iter_mut().filter_map(Value::as_object_mut) {
                    i.remove("relationships");
                }
            }
        }
        for entry in &self.attributes_blocklist {
            if let Some(pointer) = entry.strip_prefix('/') {
                let segments: Vec<&str> = pointer.split('/').collect();
                remove_path(payload, &segments);
            } else {
                let pattern = normalize_pattern(entry);
                remove_in_attributes(payload, &pattern, false);
            }
        }
    }

    /// Whether an event payload passes the webhook's `payload-filter` (no filter: every event).
    pub fn accepts_payload(&self, payload: &Value) -> bool {
        self.payload_filter
            .as_ref()
            .is_none_or(|f| contains(payload, f))
    }
}

/// `a` contains `b`: every member of an object `b` is in `a` and contains `b`'s value; arrays
/// and scalars are equal (numbers by value).
fn contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => b
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (a, b) => a == b,
    }
}

/// Blocklist names are case-convention insensitive: compared in kebab-case, lower-case.
fn normalize_pattern(p: &str) -> String {
    if p.contains('*') {
        p.to_ascii_lowercase().replace('_', "-")
    } else {
        crate::inflect::to_kebab(p)
    }
}

/// `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn key_matches(pattern: &str, key: &str) -> bool {
    glob(pattern, &crate::inflect::to_kebab(key)) || glob(pattern, key)
}

/// Removes every key matching `pattern` inside an `attributes` member of any object (at any
/// depth below it too), never ids, types or relationships.
fn remove_in_attributes(v: &mut Value, pattern: &str, inside: bool) {
    match v {
        Value::Object(map) => {
            if inside {
                map.retain(|k, _| !key_matches(pattern, k));
            }
            for (k, child) in map.iter_mut() {
                remove_in_attributes(child, pattern, inside || k == "attributes");
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| remove_in_attributes(i, pattern, inside)),
        _ => {}
    }
}

/// Removes what a pointer with `*` wildcards in its segments names (array items by index).
fn remove_path(v: &mut Value, segments: &[&str]) {
    let Some((head, tail)) = segments.split_first() else {
        return;
    };
    let head = head.replace("~1", "/").replace("~0", "~");
    match v {
        Value::Object(map) => {
            if tail.is_empty() {
                map.retain(|k, _| !key_matches(&head, k));
            } else {
                for (k, child) in map.iter_mut() {
                    if key_matches(&head, k) {
                        remove_path(child, tail);
                    }
                }
            }
        }
        Value::Array(items) => {
            if tail.is_empty() {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !glob(&head, &i.to_string());
                    i += 1;
                    keep
                });
            } else {
                for (i, child) in items.iter_mut().enumerate() {
                    if glob(&head, &i.to_string()) {
                        remove_path(child, tail);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("name-*", "name-first", true),
            ("name-*", "name", false),
            ("*-number", "identification-number", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxc", false),
            ("*", "", true),
            ("x", "x", true),
        ] {
            assert_eq!(glob(p, t), m, "{p} {t}");
        }
    }

    #[test]
    fn the_blocklist_and_relationship_allowlist_shape_payloads() {
        let mut s = WebhookSettings::defaults("https://x");
        s.attributes_blocklist = vec![
            "name-*".into(),
            "birthdate".into(),
            "/data/attributes/fields/*-number".into(),
            "/data/attributes/note".into(),
        ];
        s.relationship_allowlist = json!({"state": "include_none"});
        let mut p = json!({"data": {"type": "inquiry", "id": "inq_1",
            "attributes": {"status": "approved", "note": "n", "name-first": "top",
                "fields": {"name-first": {"type": "string", "value": "J"},
                    "identification-number": {"type": "string", "value": "1"},
                    "phone-number": {"type": "string", "value": "2"},
                    "birthdate": {"type": "date", "value": "1990-01-01"},
                    "address-city": {"type": "string", "value": "B"}}},
            "relationships": {"inquiry-template": {"data": null}}}});
        s.shape_payload(&mut p);
        assert_eq!(
            p,
            json!({"data": {"type": "inquiry", "id": "inq_1",
                "attributes": {"status": "approved",
                    "fields": {"address-city": {"type": "string", "value": "B"}}}}})
        );
    }

    #[test]
    fn payload_filters_are_subset_matches() {
        let mut s = WebhookSettings::defaults("https://x");
        let payload = json!({"data": {"type": "inquiry", "attributes": {"status": "approved", "n": 1},
            "relationships": {"inquiry-template": {"data": {"type": "inquiry-template", "id": "itmpl_1"}}}}});
        assert!(s.accepts_payload(&payload));
        s.payload_filter = Some(
            json!({"data": {"relationships": {"inquiry-template": {"data": {"id": "itmpl_1"}}}}}),
        );
        assert!(s.accepts_payload(&payload));
        s.payload_filter = Some(json!({"data": {"attributes": {"n": 1.0}}}));
        assert!(s.accepts_payload(&payload));
        s.payload_filter = Some(json!({"data": {"attributes": {"status": "declined"}}}));
        assert!(!s.accepts_payload(&payload));
    }
}
