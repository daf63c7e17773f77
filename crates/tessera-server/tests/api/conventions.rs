//! §1 conventions: error documents, authentication, inflection, request ids.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{ADMIN, App};

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

async fn wrong_methods_keep_an_allow_header(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let r = app
        .call(http::Method::PUT, "/api/v1/inquiries")
        .key(&org.sandbox)
        .send()
        .await
        .expect(405);
    let allow = r.header("allow").unwrap().to_ascii_uppercase();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(r.code(), "method_not_allowed");
    let r = app.delete("/healthz").send().await.expect(405);
    assert!(r.header("allow").unwrap().contains("GET"));
    assert!(r.header("request-id").is_some());
    let r = app
        .delete("/admin/v1/organizations")
        .key(ADMIN)
        .send()
        .await
        .expect(405);
    assert!(r.header("allow").unwrap().contains("POST"));
}

async fn head_answers_like_get_without_a_body(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    app.inquiry(&org.sandbox, json!({})).await;
    for path in ["/api/v1/inquiries", "/api/v1/organization"] {
        let r = app
            .call(http::Method::HEAD, path)
            .key(&org.sandbox)
            .send()
            .await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.bytes.is_empty(), "{path}");
        assert!(r.header("request-id").unwrap().starts_with("req_"));
    }
    let r = app.call(http::Method::HEAD, "/healthz").send().await;
    assert_eq!(r.status, 200);
    // HEAD is still authenticated.
    let r = app
        .call(http::Method::HEAD, "/api/v1/inquiries")
        .send()
        .await;
    assert_eq!(r.status, 401);
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let responses = vec![
        app.get("/api/v1/inquiries").key(k).send().await.expect(200),
        app.get("/api/v1/inquiries").send().await.expect(401),
        app.get("/nowhere").send().await.expect(404),
        app.get("/api/v1/inquiries/inq_0000000000000000000000")
            .key(k)
            .send()
            .await
            .expect(404),
        app.call(http::Method::PUT, "/api/v1/inquiries")
            .key(k)
            .send()
            .await
            .expect(405),
        app.get("/api/v1/inquiries?bogus=1")
            .key(k)
            .send()
            .await
            .expect(400),
        app.post("/api/v1/inquiries")
            .key(k)
            .raw("text/plain", "x")
            .send()
            .await
            .expect(415),
        app.get("/admin/v1/organizations").send().await.expect(401),
        app.get("/healthz").send().await.expect(200),
        app.get("/api/v1/openapi.json").send().await.expect(200),
    ];
    let mut seen = std::collections::HashSet::new();
    for r in &responses {
        let id = r.header("request-id").expect("request-id");
        assert!(id.starts_with("req_"), "{id}");
        assert!(seen.insert(id.to_owned()), "request ids are unique");
    }
}

async fn inflection_applies_to_lists_and_errors_stay_documents(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    app.post("/api/v1/inquiries")
        .key(k)
        .json(json!({"data": {"attributes": {"reference-id": "r-1", "fields": {"name-first": "Jane"}}}}))
        .send()
        .await
        .expect(201);
    for (inflection, key) in [
        ("camel", "referenceId"),
        ("snake", "reference_id"),
        ("kebab", "reference-id"),
    ] {
        let r = app
            .get("/api/v1/inquiries")
            .key(k)
            .header("key-inflection", inflection)
            .send()
            .await
            .expect(200);
        let item = &r.items()[0];
        assert_eq!(item["attributes"][key], "r-1", "{inflection}");
        // Field names are data, not keys.
        assert_eq!(item["attributes"]["fields"]["name-first"]["value"], "Jane");
        assert!(r.json["links"].get("next").is_some());
        let e = app
            .get("/api/v1/inquiries?page[size]=0")
            .key(k)
            .header("key-inflection", inflection)
            .send()
            .await
            .expect(400);
        let err = &e.json["errors"][0];
        for member in ["status", "code", "title", "details", "source"] {
            assert!(err.get(member).is_some(), "{inflection}: {member} in {err}");
        }
        assert_eq!(e.parameter(), "page[size]");
    }
}

async fn internal_errors_do_not_leak(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    // Text a database cannot store is refused as invalid input, never a 5xx.
    let r = app
        .post("/api/v1/inquiries")
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"reference-id": "a\u{0}b"}}}))
        .send()
        .await
        .expect(422);
    assert_eq!(r.pointer(), "/data/attributes/reference-id");
    let r = app
        .post("/api/v1/inquiries")
        .key(&org.sandbox)
        .json(
            json!({"data": {"attributes": {"fields": {"custom": "a\u{0}b"}, "tags": ["x\u{0}"]}}}),
        )
        .send()
        .await
        .expect(422);
    assert!(
        r.pointer().starts_with("/data/attributes/"),
        "{}",
        r.pointer()
    );
    let r = app
        .get("/api/v1/inquiries?filter[reference-id]=a%00b")
        .key(&org.sandbox)
        .send()
        .await
        .expect(400);
    assert_eq!(r.parameter(), "filter[reference-id]");
    let r = app
        .post("/admin/v1/organizations")
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"name": "Nul\u{0}Org"}}}))
        .send()
        .await
        .expect(422);
    assert_eq!(r.pointer(), "/data/attributes/name");
    assert!(app.all(&org.sandbox, "/api/v1/inquiries").await.is_empty());
    // A database that stops answering gives a 500 that names the request and nothing else.
    app.db.store.close().await;
    let r = app
        .get("/api/v1/organization")
        .key(&org.sandbox)
        .send()
        .await;
    assert_eq!(r.status, 500, "{}", r.json);
    assert_eq!(r.code(), "internal_error");
    let details = r.json["errors"][0]["details"].as_str().unwrap();
    assert!(
        details.contains(r.header("request-id").unwrap()),
        "{details}"
    );
    let text = String::from_utf8_lossy(&r.bytes).to_lowercase();
    for leak in [
        "pool", "sqlx", "sqlite", "postgres", "closed", "select", "database",
    ] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

on_both_backends!(
    who_am_i,
    every_failure_is_an_error_document,
    keys_are_inflected_both_ways,
    wrong_methods_keep_an_allow_header,
    head_answers_like_get_without_a_body,
    every_response_carries_a_request_id,
    inflection_applies_to_lists_and_errors_stay_documents,
    internal_errors_do_not_leak,
);
