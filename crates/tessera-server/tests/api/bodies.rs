//! §1 request bodies: JSON documents only, wrong types and missing members with pointers, keys
//! in any inflection, size limits and media types — and nothing written when refused.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;

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

on_both_backends!(
    wrong_json_types_point_at_the_member,
    a_missing_required_attribute_is_422,
    request_bodies_are_read_in_every_inflection,
    oversized_bodies_are_refused_and_nothing_is_written,
    bodies_must_be_json_objects,
);
