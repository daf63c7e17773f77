//! §1 conventions: error documents, authentication, inflection, request ids.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

async fn who_am_i(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let r = app
        .get("/api/v1/organization")
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(r.id(), org.id);
    assert_eq!(r.json["meta"]["environment"], "sandbox");
    assert!(
        r.json["meta"]["api-key-id"]
            .as_str()
            .unwrap()
            .starts_with("api_")
    );
    assert!(r.header("request-id").unwrap().starts_with("req_"));
    let r = app
        .get("/api/v1/organization")
        .key(&org.production)
        .send()
        .await
        .expect(200);
    assert_eq!(r.json["meta"]["environment"], "production");
}

async fn every_failure_is_an_error_document(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let r = app.get("/api/v1/organization").send().await.expect(401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    app.get("/api/v1/organization")
        .key("tsk_sandbox_nope")
        .send()
        .await
        .expect(401);
    let r = app
        .get("/api/v1/nothing-here")
        .key(k)
        .send()
        .await
        .expect(404);
    assert_eq!(r.code(), "route_not_found");
    let r = app
        .call(http::Method::PUT, "/api/v1/inquiries")
        .key(k)
        .send()
        .await
        .expect(405);
    assert_eq!(r.code(), "method_not_allowed");
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .raw("application/json", "{\"data\":")
        .send()
        .await
        .expect(400);
    assert_eq!(r.code(), "malformed_json");
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .json(json!({"data": {"attributes": {"bogus": 1}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        (r.code(), r.pointer()),
        ("unknown_attribute", "/data/attributes/bogus")
    );
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .json(json!({"data": {"attributes": {"tags": "x"}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        (r.code(), r.pointer()),
        ("invalid_type", "/data/attributes/tags")
    );
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .raw("text/plain", "{}")
        .send()
        .await
        .expect(415);
    assert_eq!(r.code(), "unsupported_media_type");
    let big = format!(
        "{{\"data\":{{\"attributes\":{{\"note\":\"{}\"}}}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    app.post("/api/v1/inquiries")
        .key(k)
        .raw("application/json", big)
        .send()
        .await
        .expect(413);
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .json(json!({"data": {"attributes": {"fields": {"birthdate": "1990-13-01"}}}}))
        .send()
        .await
        .expect(422);
    assert_eq!(r.pointer(), "/data/attributes/fields/birthdate");
    // Nothing of the above was written.
    let r = app.get("/api/v1/inquiries").key(k).send().await.expect(200);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 0);
}

async fn keys_are_inflected_both_ways(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let r = app
        .post("/api/v1/inquiries")
        .key(&org.sandbox)
        .header("key-inflection", "camel")
        .json(json!({"data": {"attributes": {"referenceId": "r-1", "fields": {"nameFirst": "Jane", "custom_thing": 1}}}}))
        .send()
        .await
        .expect(201);
    let a = &r.json["data"]["attributes"];
    assert_eq!(a["referenceId"], "r-1");
    assert!(a.get("createdAt").is_some());
    // Standard field names are canonical; free-form names stay as written.
    assert_eq!(a["fields"]["name-first"]["value"], "Jane");
    assert_eq!(a["fields"]["custom_thing"]["type"], "number");
    assert!(
        r.json["data"]["relationships"]
            .get("inquiryTemplate")
            .is_some()
    );
    let r = app
        .get(&format!("/api/v1/inquiries/{}", r.id()))
        .key(&org.sandbox)
        .header("key-inflection", "snake")
        .send()
        .await
        .expect(200);
    assert_eq!(r.json["data"]["attributes"]["reference_id"], "r-1");
    app.get("/api/v1/organization")
        .key(&org.sandbox)
        .header("key-inflection", "shouty")
        .send()
        .await
        .expect(400);
}

on_both_backends!(
    who_am_i,
    every_failure_is_an_error_document,
    keys_are_inflected_both_ways
);
