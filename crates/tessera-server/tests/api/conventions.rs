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

async fn wrong_json_types_point_at_the_member(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let cases = [
        (json!({"data": []}), "/data"),
        (json!({"data": {"attributes": []}}), "/data/attributes"),
        (
            json!({"data": {"attributes": {"note": 5}}}),
            "/data/attributes/note",
        ),
        (
            json!({"data": {"attributes": {"reference-id": true}}}),
            "/data/attributes/reference-id",
        ),
        (
            json!({"data": {"attributes": {"tags": [1]}}}),
            "/data/attributes/tags/0",
        ),
        (
            json!({"data": {"attributes": {"fields": "x"}}}),
            "/data/attributes/fields",
        ),
        (
            json!({"data": {"attributes": {"referenceId": 1}}}),
            "/data/attributes/reference-id",
        ),
        (
            json!({"meta": {}, "data": {"attributes": {"fields": []}}}),
            "/data/attributes/fields",
        ),
        (json!({"meta": 1, "data": {"attributes": {}}}), "/meta"),
    ];
    for (body, pointer) in cases {
        let r = app
            .post("/api/v1/inquiries")
            .key(k)
            .json(body.clone())
            .send()
            .await
            .expect(400);
        assert_eq!((r.code(), r.pointer()), ("invalid_type", pointer), "{body}");
    }
    let r = app
        .post("/api/v1/inquiry-templates")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "t", "minimum-age": "18"}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        (r.code(), r.pointer()),
        ("invalid_type", "/data/attributes/minimum-age")
    );
    let r = app
        .post("/api/v1/inquiry-templates")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "t", "required-verifications": [{"type": "selfie", "max-age-days": "x"}]}}}))
        .send()
        .await
        .expect(400);
    assert_eq!(
        r.pointer(),
        "/data/attributes/required-verifications/0/max-age-days"
    );
    assert!(app.all(k, "/api/v1/inquiries").await.is_empty());
    assert!(app.all(k, "/api/v1/inquiry-templates").await.is_empty());
    assert!(app.event_names(k, None).await.is_empty());
}

async fn a_missing_required_attribute_is_422(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let cases = [
        (
            "/api/v1/inquiry-templates",
            json!({"data": {"attributes": {}}}),
            "/data/attributes/name",
        ),
        (
            "/api/v1/inquiry-templates",
            json!({}),
            "/data/attributes/name",
        ),
        (
            "/api/v1/inquiry-templates",
            json!({"data": {"attributes": {"name": "t", "required-verifications": [{"max-age-days": 3}]}}}),
            "/data/attributes/required-verifications/0/type",
        ),
        (
            "/api/v1/verifications",
            json!({"data": {"attributes": {"type": "selfie", "status": "passed"}}}),
            "/data/attributes/inquiry-id",
        ),
        (
            "/api/v1/verifications",
            json!({"data": {"attributes": {"inquiry-id": inq, "status": "passed"}}}),
            "/data/attributes/type",
        ),
        (
            "/api/v1/verifications",
            json!({"data": {"attributes": {"inquiry-id": inq, "type": "selfie"}}}),
            "/data/attributes/status",
        ),
        (
            "/api/v1/verifications",
            json!({"data": {"attributes": {"inquiry-id": inq, "type": "selfie", "status": "passed", "checks": [{"status": "passed"}]}}}),
            "/data/attributes/checks/0/name",
        ),
        (
            "/api/v1/api-keys",
            json!({"data": {"attributes": {}}}),
            "/data/attributes/name",
        ),
    ];
    for (path, body, pointer) in cases {
        let r = app
            .post(path)
            .key(k)
            .json(body.clone())
            .send()
            .await
            .expect(422);
        assert_eq!(
            (r.code(), r.pointer()),
            ("missing_attribute", pointer),
            "{path} {body}"
        );
    }
    // Only the inquiry above was written.
    assert_eq!(app.event_names(k, None).await, ["inquiry.created"]);
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

async fn request_bodies_are_read_in_every_inflection(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let t = app.template(k, "T").await;
    let bodies = [
        json!({"data": {"attributes": {"reference_id": "snake", "inquiry_template_id": t, "fields": {"name_first": "A"}}}}),
        json!({"data": {"attributes": {"referenceId": "camel", "inquiryTemplateId": t, "fields": {"nameFirst": "A"}}}}),
        json!({"data": {"attributes": {"reference-id": "kebab", "inquiry-template-id": t, "fields": {"name-first": "A"}}}}),
    ];
    for body in bodies {
        let r = app
            .post("/api/v1/inquiries")
            .key(k)
            .json(body)
            .send()
            .await
            .expect(201);
        assert_eq!(
            r.json["data"]["relationships"]["inquiry-template"]["data"]["id"],
            t.as_str()
        );
        assert_eq!(r.attr("fields")["name-first"]["value"], "A");
    }
    let r = app
        .post("/api/v1/inquiry-templates")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "T2", "requiredFields": ["name_first"], "minimum_age": 18,
            "requiredVerifications": [{"type": "selfie", "maxAgeDays": 30}]}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.attr("required-fields"), &json!(["name-first"]));
    assert_eq!(r.attr("minimum-age"), 18);
    assert_eq!(r.attr("required-verifications")[0]["max-age-days"], 30);
}

async fn oversized_bodies_are_refused_and_nothing_is_written(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({"name-first": "Jane"})).await;
    let limit = 1024 * 1024;
    let padded = |attributes: serde_json::Value, size: usize| {
        let mut body = json!({"data": {"attributes": attributes}}).to_string();
        body.push_str(&" ".repeat(size - body.len()));
        body
    };
    // Exactly at the limit is accepted.
    app.post("/api/v1/inquiries")
        .key(k)
        .raw(
            "application/json",
            padded(json!({"reference-id": "edge"}), limit),
        )
        .send()
        .await
        .expect(201);
    let too_big = [
        (
            "POST",
            "/api/v1/inquiries".to_owned(),
            padded(json!({"reference-id": "big"}), limit + 1),
        ),
        (
            "PATCH",
            format!("/api/v1/inquiries/{inq}"),
            padded(json!({"note": "big"}), limit + 1),
        ),
        (
            "POST",
            "/api/v1/verifications".to_owned(),
            padded(
                json!({"inquiry-id": inq, "type": "selfie", "status": "passed"}),
                3 * limit,
            ),
        ),
        (
            "POST",
            "/api/v1/inquiry-templates".to_owned(),
            padded(json!({"name": "big"}), 2 * limit),
        ),
    ];
    for (method, path, body) in too_big {
        for idempotency in [None, Some("big-body")] {
            let mut call = app
                .call(method.parse().unwrap(), &path)
                .key(k)
                .raw("application/json", body.clone());
            if let Some(key) = idempotency {
                call = call.header("idempotency-key", &format!("{key}-{method}-{path}"));
            }
            let r = call.send().await.expect(413);
            assert_eq!(r.code(), "payload_too_large");
        }
    }
    let refs: Vec<_> = app
        .all(k, "/api/v1/inquiries")
        .await
        .iter()
        .map(|i| i["attributes"]["reference-id"].clone())
        .collect();
    assert_eq!(refs, [json!("edge"), json!(null)]);
    let i = app.show_inquiry(k, &inq).await;
    assert_eq!(i.attr("note"), &serde_json::Value::Null);
    assert_eq!(i.attr("status"), "created");
    assert!(app.all(k, "/api/v1/inquiry-templates").await.is_empty());
    assert_eq!(
        app.event_names(k, None).await,
        ["inquiry.created", "inquiry.created"]
    );
}

async fn bodies_must_be_json_objects(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    let patch = format!("/api/v1/inquiries/{inq}");
    for body in ["[]", "\"x\"", "null", "1", "true", "[{\"data\": {}}]"] {
        for (method, path) in [
            (http::Method::POST, "/api/v1/inquiries"),
            (http::Method::PATCH, patch.as_str()),
            (http::Method::POST, "/api/v1/verifications"),
            (http::Method::POST, "/api/v1/inquiry-templates"),
        ] {
            let r = app
                .call(method.clone(), path)
                .key(k)
                .raw("application/json", body)
                .send()
                .await
                .expect(400);
            assert_eq!(r.code(), "malformed_json", "{method} {path} {body}");
        }
    }
    // A body is required where the endpoint takes one; empty is malformed.
    for (method, path) in [
        (http::Method::PATCH, patch.as_str()),
        (http::Method::POST, "/api/v1/verifications"),
        (http::Method::POST, "/api/v1/inquiry-templates"),
        (http::Method::POST, "/api/v1/api-keys"),
    ] {
        let r = app
            .call(method.clone(), path)
            .key(k)
            .raw("application/json", "")
            .send()
            .await
            .expect(400);
        assert_eq!(r.code(), "malformed_json", "{method} {path}");
    }
    // Both JSON media types are accepted, with parameters; anything else is 415.
    for ct in [
        "application/json; charset=utf-8",
        "application/vnd.api+json",
        "Application/JSON",
    ] {
        app.patch(&patch)
            .key(k)
            .raw(
                ct,
                json!({"data": {"attributes": {"note": "n"}}}).to_string(),
            )
            .send()
            .await
            .expect(200);
    }
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = app
            .patch(&patch)
            .key(k)
            .raw(
                ct,
                json!({"data": {"attributes": {"note": "x"}}}).to_string(),
            )
            .send()
            .await
            .expect(415);
        assert_eq!(r.code(), "unsupported_media_type");
    }
    let r = app
        .call(http::Method::PATCH, &patch)
        .key(k)
        .header("content-length", "2")
        .send()
        .await;
    assert!(r.status == 400 || r.status == 415, "{}", r.status);
    assert_eq!(app.show_inquiry(k, &inq).await.attr("note"), "n");
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
    wrong_json_types_point_at_the_member,
    a_missing_required_attribute_is_422,
    wrong_methods_keep_an_allow_header,
    head_answers_like_get_without_a_body,
    every_response_carries_a_request_id,
    inflection_applies_to_lists_and_errors_stay_documents,
    request_bodies_are_read_in_every_inflection,
    oversized_bodies_are_refused_and_nothing_is_written,
    bodies_must_be_json_objects,
    internal_errors_do_not_leak,
);
