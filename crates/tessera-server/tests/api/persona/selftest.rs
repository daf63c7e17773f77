//! The validator can fail: Persona's own examples pass; a missing required member, a mistyped
//! one, an undocumented status, a missing or mistyped header each fail, with the instance path;
//! an extra member passes (the only relaxation).

use axum::http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::contract::{contract, discriminate, location, relax, token};

const INQUIRY: &str = "/inquiries/{inquiry-id}";

/// Persona's first example of a response (or webhook request body).
fn example(pointer: &str) -> Value {
    let c = contract();
    let examples = c
        .at(pointer)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no examples at {pointer}"));
    let first = examples.keys().next().unwrap();
    let (_, ex) = c
        .resolve(&format!("{pointer}/{}", token(first)))
        .unwrap_or_else(|| panic!("cannot resolve example {first}"));
    ex["value"].clone()
}

fn inquiry_example() -> Value {
    example(&format!(
        "/paths/{}/get/responses/200/content/application~1json/examples",
        token(INQUIRY)
    ))
}

fn good_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in [
        ("content-type", "application/json; charset=utf-8"),
        ("ratelimit-limit", "300"),
        ("ratelimit-remaining", "299"),
        ("ratelimit-reset", "42"),
        ("request-id", "req_AbcDeFGhIjKlMnOpQrStUvWxYz1"),
        ("persona-environment-id", "env_AbcDeFGhIjKlMnOpQrStUvWxYz1"),
        ("persona-organization-id", "org_AbcDeFGhIjKlMnOpQrStUvWxYz1"),
    ] {
        h.insert(n, HeaderValue::from_static(v));
    }
    h
}

fn check(status: u16, headers: &HeaderMap, body: &Value) -> Vec<String> {
    contract().check_response("GET", INQUIRY, status, headers, body.to_string().as_bytes())
}

#[test]
fn the_description_is_found_and_relaxed_only_of_closed_objects() {
    assert!(location().exists(), "{}", location().display());
    let mut v = json!({"type": "object", "additionalProperties": false, "unevaluatedProperties": false,
        "properties": {"a": {"additionalProperties": {"type": "string"}, "unevaluatedProperties": true,
        "items": [{"additionalProperties": false, "required": ["x"]}]}}});
    relax(&mut v);
    assert_eq!(
        v,
        json!({"type": "object", "properties": {"a": {"additionalProperties": {"type": "string"},
        "unevaluatedProperties": true, "items": [{"required": ["x"]}]}}})
    );
    let text = contract().doc.to_string();
    assert!(!text.contains("\"additionalProperties\":false"));
    assert!(!text.contains("\"unevaluatedProperties\":false"));
}

#[test]
fn discriminators_pick_the_branch() {
    let mut v = json!({"oneOf": [{"$ref": "#/a"}, {"$ref": "#/b"}],
        "discriminator": {"propertyName": "type", "mapping": {"a": "#/a", "b1": "#/b", "b2": "#/b"}}});
    discriminate(&mut v);
    assert_eq!(
        v,
        json!({"discriminator": {"propertyName": "type", "mapping": {"a": "#/a", "b1": "#/b", "b2": "#/b"}},
        "allOf": [
            {"required": ["type"], "properties": {"type": {"enum": ["a", "b1", "b2"]}}},
            {"if": {"required": ["type"], "properties": {"type": {"enum": ["a"]}}}, "then": {"$ref": "#/a"}},
            {"if": {"required": ["type"], "properties": {"type": {"enum": ["b1", "b2"]}}}, "then": {"$ref": "#/b"}}
        ]})
    );
    // A oneOf the mapping does not cover stays as it is.
    let mut v = json!({"oneOf": [{"$ref": "#/a"}, {"type": "null"}],
        "discriminator": {"propertyName": "type", "mapping": {"a": "#/a"}}});
    let before = v.clone();
    discriminate(&mut v);
    assert_eq!(v, before);
}

#[test]
fn paths_map_to_persona_templates() {
    let c = contract();
    for (path, template) in [
        (
            "/api/v1/connect/share-tokens/cnst_1/redeem?include=x",
            "/connect/share-tokens/{share-token-id}/redeem",
        ),
        ("/api/v1/inquiries/search", "/inquiries/search"),
        ("/api/v1/inquiries/inq_1", "/inquiries/{inquiry-id}"),
        ("/api/v1/webhooks", "/webhooks"),
    ] {
        assert_eq!(c.template_for(path).as_deref(), Some(template), "{path}");
    }
    assert_eq!(c.template_for("/api/v1/no/such/thing"), None);
    assert_eq!(c.template_for("/api/v1/inquiries//approve"), None);
}

#[test]
fn a_valid_response_passes_and_an_extra_member_too() {
    let body = inquiry_example();
    assert!(body["data"]["id"].is_string(), "{body}");
    assert_eq!(check(200, &good_headers(), &body), Vec::<String>::new());
    let mut extra = body.clone();
    extra["data"]["attributes"]["tessera-extension"] = json!({"any": [1, 2]});
    extra["data"]["relationships"]["share-token"] = json!({"data": null});
    extra["meta"] = json!({"x": 1});
    assert_eq!(check(200, &good_headers(), &extra), Vec::<String>::new());
}

#[test]
fn a_missing_or_mistyped_member_fails_with_its_path() {
    let body = inquiry_example();
    let mut missing = body.clone();
    missing["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("reviewer-comment");
    let errors = check(200, &good_headers(), &missing);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("/data/attributes: ") && errors[0].contains("reviewer-comment"),
        "{errors:?}"
    );
    let mut mistyped = body;
    mistyped["data"]["attributes"]["created-at"] = json!(5);
    mistyped["data"]["type"] = json!("inquiries");
    let errors = check(200, &good_headers(), &mistyped);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/data/attributes/created-at: ")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("/data/type: ")),
        "{errors:?}"
    );
    // Included objects are checked against the schema of their type.
    let mut included = inquiry_example();
    included["included"] = json!([
        {"type": "verification/government-id", "id": "ver_1", "attributes": {"status": 5}},
        {"type": "document", "id": "doc_1", "attributes": {}}
    ]);
    let errors = check(200, &good_headers(), &included);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("/included/0/attributes/status: "),
        "{errors:?}"
    );
    assert!(errors[1].starts_with("/included/1/type: "), "{errors:?}");
    let errors = check(200, &good_headers(), &json!({"data": null}));
    assert!(
        errors.iter().any(|e| e.starts_with("/data: ")),
        "{errors:?}"
    );
    let errors = contract().check_response("GET", INQUIRY, 200, &good_headers(), b"not json");
    assert!(errors[0].contains("not JSON"), "{errors:?}");
}

#[test]
fn an_undocumented_status_or_a_bad_header_fails() {
    let body = inquiry_example();
    let errors = check(202, &good_headers(), &body);
    assert!(
        errors.len() == 1 && errors[0].contains("status 202 is not documented"),
        "{errors:?}"
    );
    for (name, value, expected) in [
        ("ratelimit-limit", None, "header RateLimit-Limit is missing"),
        (
            "persona-environment-id",
            None,
            "header Persona-Environment-Id is missing",
        ),
        (
            "ratelimit-reset",
            Some("soon"),
            "header RateLimit-Reset: \"soon\" is not of type integer",
        ),
        (
            "request-id",
            Some("abc"),
            "header Request-Id: \"abc\" does not start with req_",
        ),
        (
            "persona-organization-id",
            Some("env_1"),
            "does not start with org_",
        ),
        (
            "persona-environment-id",
            Some("org_1"),
            "does not start with env_",
        ),
        (
            "content-type",
            Some("text/html"),
            "content-type \"text/html\"",
        ),
    ] {
        let mut h = good_headers();
        match value {
            Some(v) => {
                h.insert(name, HeaderValue::from_static(v));
            }
            None => {
                h.remove(name);
            }
        }
        let errors = check(200, &h, &body);
        assert!(
            errors.len() == 1 && errors[0].contains(expected),
            "{name}: {errors:?}"
        );
    }
    // Error responses are described too (through `components/responses`).
    let errors = check(
        404,
        &good_headers(),
        &json!({"errors": [{"title": "Record not found", "code": "not_found", "status": 404}]}),
    );
    assert!(errors.is_empty(), "{errors:?}");
    let errors = check(404, &good_headers(), &json!({"errors": [{"title": 404}]}));
    assert!(
        errors.len() == 1 && errors[0].starts_with("/errors/0/title: "),
        "{errors:?}"
    );
    let errors = contract().check_response("GET", "/nope", 200, &good_headers(), b"{}");
    assert!(errors[0].contains("no operation"), "{errors:?}");
}

#[test]
fn webhook_requests_are_checked_against_the_top_level_webhooks() {
    let c = contract();
    let body =
        example("/webhooks/inquiry.created/post/requestBody/content/application~1json/examples");
    let mut h = HeaderMap::new();
    h.insert(
        "persona-signature",
        HeaderValue::from_static("t=1709686052,v1=abc"),
    );
    h.insert(
        "persona-webhook-attempts-made",
        HeaderValue::from_static("1"),
    );
    h.insert(
        "persona-webhook-attempts-left",
        HeaderValue::from_static("7"),
    );
    h.insert(
        "persona-webhook-first-attempted-at",
        HeaderValue::from_static("1527811200"),
    );
    let bytes = body.to_string();
    let (name, errors) = c.check_webhook(&h, bytes.as_bytes());
    assert_eq!(name, "inquiry.created");
    assert_eq!(errors, Some(Vec::new()));
    let mut bad = h.clone();
    bad.insert(
        "persona-webhook-first-attempted-at",
        HeaderValue::from_static("2026-12-03T11:47:45.786Z"),
    );
    let mut wrong = body.clone();
    wrong["data"]["attributes"]["payload"]["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("creator");
    let (_, errors) = c.check_webhook(&bad, wrong.to_string().as_bytes());
    let errors = errors.unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("Persona-Webhook-First-Attempted-At"));
    assert!(errors[1].starts_with("/data/attributes/payload/data/attributes: "));
    let mut other = body;
    other["data"]["attributes"]["name"] = json!("connect/share-token.inbound-created");
    let (name, errors) = c.check_webhook(&h, other.to_string().as_bytes());
    assert_eq!(
        (name.as_str(), errors),
        ("connect/share-token.inbound-created", None)
    );
}

#[test]
fn request_bodies_are_checked_too() {
    let c = contract();
    assert!(
        c.check_request(
            "POST",
            "/connect/share-tokens",
            &json!({"data": {"attributes": {"connection-id": "cxn_1", "source-id": "inq_1"}}})
        )
        .is_empty()
    );
    let errors = c.check_request(
        "POST",
        "/connect/share-tokens",
        &json!({"data": {"attributes": {"connection-id": 1}}}),
    );
    assert!(!errors.is_empty());
    // An operation without a documented body takes any.
    assert!(
        c.check_request(
            "POST",
            "/connect/connections/{connection-id}/reactivate",
            &json!({"data": {"attributes": {}}})
        )
        .is_empty()
    );
}
