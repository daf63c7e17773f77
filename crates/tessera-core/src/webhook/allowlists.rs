//! The parsers of `included-allowlist` and `relationship-allowlist`.

use serde_json::{Value, json};

use crate::error::{Error, codes};

fn state_of(v: &Value, name: &str, allowed: &[&str]) -> Result<String, Error> {
    let pointer = name.to_owned();
    let Some(obj) = v.as_object() else {
        return Err(
            Error::bad_request(codes::INVALID_TYPE, format!("{name} is an object")).at(pointer),
        );
    };
    let state = obj.get("state").and_then(Value::as_str).unwrap_or("");
    if !allowed.contains(&state) {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("{name}.state is one of {}", allowed.join(", ")),
        )
        .at(format!("{pointer}/state")));
    }
    let extra = |k: &String| k != "state" && !(state == "custom" && k == "event-types");
    if let Some(k) = obj.keys().find(|k| extra(k)) {
        return Err(
            Error::bad_request(codes::UNKNOWN_ATTRIBUTE, format!("unknown attribute {k}"))
                .at(format!("{pointer}/{k}")),
        );
    }
    Ok(state.to_owned())
}

/// `{"state": "include_all" | "include_none"}`, or `custom` with `event-types` (1 to 200
/// entries `{event-type, relationships: [1+ names or "*"]}`), or null. A `custom` whose every
/// entry is `["*"]` is stored as `include_all`, as Persona normalises it.
pub fn parse_included_allowlist(v: Option<Value>) -> Result<Option<Value>, Error> {
    let Some(v) = v else { return Ok(None) };
    let state = state_of(
        &v,
        "included-allowlist",
        &["include_all", "include_none", "custom"],
    )?;
    if state != "custom" {
        return Ok(Some(json!({ "state": state })));
    }
    let pointer = "included-allowlist/event-types";
    let bad = |p: String, d: &str| Error::invalid(codes::INVALID_ATTRIBUTE, d.to_owned()).at(p);
    let Some(types) = v.get("event-types").and_then(Value::as_array) else {
        return Err(bad(
            pointer.into(),
            "a custom included-allowlist lists event-types",
        ));
    };
    if types.is_empty() || types.len() > 200 {
        return Err(bad(pointer.into(), "event-types has 1 to 200 entries"));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut all_star = true;
    for (i, t) in types.iter().enumerate() {
        let here = format!("{pointer}/{i}");
        let (Some(et), Some(rels)) = (
            t.get("event-type").and_then(Value::as_str),
            t.get("relationships").and_then(Value::as_array),
        ) else {
            return Err(bad(here, "an entry is {event-type, relationships}"));
        };
        if t.as_object().is_some_and(|o| o.len() != 2) {
            return Err(bad(here, "an entry is {event-type, relationships}"));
        }
        if et.is_empty() || seen.contains(&et) {
            return Err(bad(format!("{here}/event-type"), "each event-type once"));
        }
        seen.push(et);
        let names: Vec<&str> = rels.iter().filter_map(Value::as_str).collect();
        if names.is_empty()
            || names.len() != rels.len()
            || (names.contains(&"*") && names.len() > 1)
        {
            return Err(bad(
                format!("{here}/relationships"),
                "relationships lists names, or is [\"*\"]",
            ));
        }
        all_star &= names == ["*"];
    }
    if all_star {
        return Ok(Some(json!({"state": "include_all"})));
    }
    Ok(Some(v))
}

/// `{"state": "include_all" | "include_none"}`.
pub fn parse_relationship_allowlist(v: Value) -> Result<Value, Error> {
    let state = state_of(
        &v,
        "relationship-allowlist",
        &["include_all", "include_none"],
    )?;
    Ok(json!({ "state": state }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlists_are_validated() {
        assert_eq!(
            parse_included_allowlist(Some(json!({"state": "custom",
                "event-types": [{"event-type": "inquiry", "relationships": ["*"]}]})))
            .unwrap(),
            Some(json!({"state": "include_all"}))
        );
        assert!(parse_included_allowlist(Some(json!({"state": "custom"}))).is_err());
        assert!(parse_included_allowlist(Some(json!({"state": "nope"}))).is_err());
        assert!(parse_relationship_allowlist(json!({"state": "include_none"})).is_ok());
        assert!(parse_relationship_allowlist(json!({"state": "custom"})).is_err());
    }
}
