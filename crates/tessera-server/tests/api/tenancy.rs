//! §1 visibility: another organization's objects, or another environment's, are 404 — never 403
//! — and nothing about them changes.

use http::Method;
use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Part, multipart};

/// A request body: content type and bytes.
type Body = (String, Vec<u8>);

async fn objects_of_other_tenants_are_not_found(backend: Backend) {
    let app = App::new(backend).await;
    let owner = app.org("Owner").await;
    let other = app.org("Other").await;
    let k = &owner.sandbox;
    let template = app.template(k, "T").await;
    let inq = app
        .post("/api/v1/inquiries")
        .key(k)
        .json(
            json!({"data": {"attributes": {"inquiry-template-id": template, "note": "private",
            "fields": {"name-first": "Jane"}}}}),
        )
        .send()
        .await
        .expect(201)
        .id();
    let ver = app
        .verify(k, &inq, "selfie", "passed")
        .await
        .expect(201)
        .id();
    let doc = app
        .upload(
            k,
            &inq,
            &[
                Part::text("kind", "selfie"),
                Part::file("me.png", "image/png", b"png".to_vec()),
            ],
        )
        .await
        .expect(201)
        .id();
    let event = app.all(k, "/api/v1/events").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let extra_key = app
        .post("/api/v1/api-keys")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "extra"}}}))
        .send()
        .await
        .expect(201);
    let (extra_id, extra_secret) = (
        extra_key.id(),
        extra_key.json["meta"]["secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let before_events = app.event_names(k, None).await;
    let before_inquiry = app.show_inquiry(k, &inq).await.json;

    let (upload_ct, upload_body) = multipart(&[
        Part::text("kind", "other"),
        Part::file("x.txt", "text/plain", b"x".to_vec()),
    ]);
    let note = json!({"data": {"attributes": {"note": "changed"}}});
    let mut calls: Vec<(Method, String, Option<Body>)> = vec![
        (Method::GET, format!("/api/v1/inquiries/{inq}"), None),
        (
            Method::PATCH,
            format!("/api/v1/inquiries/{inq}"),
            Some(("application/json".into(), note.to_string().into_bytes())),
        ),
        (Method::DELETE, format!("/api/v1/inquiries/{inq}"), None),
        (Method::GET, format!("/api/v1/verifications/{ver}"), None),
        (Method::GET, format!("/api/v1/documents/{doc}"), None),
        (Method::GET, format!("/api/v1/documents/{doc}/file"), None),
        (
            Method::POST,
            format!("/api/v1/inquiries/{inq}/documents"),
            Some((upload_ct, upload_body)),
        ),
        (
            Method::GET,
            format!("/api/v1/inquiry-templates/{template}"),
            None,
        ),
        (Method::GET, format!("/api/v1/events/{event}"), None),
        (
            Method::POST,
            format!("/api/v1/api-keys/{extra_id}/expire"),
            None,
        ),
    ];
    for action in [
        "complete",
        "approve",
        "decline",
        "mark-for-review",
        "expire",
        "fail",
    ] {
        calls.push((
            Method::POST,
            format!("/api/v1/inquiries/{inq}/{action}"),
            None,
        ));
    }
    // References in a body, with a pointer to them.
    let referenced: Vec<(&str, Value, &str)> = vec![
        (
            "/api/v1/verifications",
            json!({"data": {"attributes": {"inquiry-id": inq, "type": "selfie", "status": "passed"}}}),
            "/data/attributes/inquiry-id",
        ),
        (
            "/api/v1/inquiries",
            json!({"data": {"attributes": {"inquiry-template-id": template}}}),
            "/data/attributes/inquiry-template-id",
        ),
    ];
    for intruder in [&other.sandbox, &other.production, &owner.production] {
        for (method, path, body) in &calls {
            let mut call = app.call(method.clone(), path).key(intruder);
            if let Some((ct, bytes)) = body {
                call = call.raw(ct, bytes.clone());
            }
            let r = call.send().await.expect(404);
            assert_eq!(r.code(), "not_found", "{method} {path}");
        }
        for (path, body, pointer) in &referenced {
            let r = app
                .post(path)
                .key(intruder)
                .json(body.clone())
                .send()
                .await
                .expect(404);
            assert_eq!((r.code(), r.pointer()), ("not_found", *pointer), "{path}");
        }
        // Lists and filters show nothing of the owner's.
        for path in ["/api/v1/inquiries", "/api/v1/inquiry-templates"] {
            assert!(app.all(intruder, path).await.is_empty(), "{path}");
        }
        let theirs = app.event_names(intruder, Some(&inq)).await;
        assert!(theirs.is_empty());
        let r = app
            .get(&format!(
                "/api/v1/inquiries?filter[inquiry-template-id]={template}"
            ))
            .key(intruder)
            .send()
            .await
            .expect(200);
        assert!(r.items().is_empty());
    }
    // Nothing changed.
    assert_eq!(app.show_inquiry(k, &inq).await.json, before_inquiry);
    assert_eq!(app.event_names(k, None).await, before_events);
    app.get("/api/v1/organization")
        .key(&extra_secret)
        .send()
        .await
        .expect(200);
    let r = app
        .get(&format!("/api/v1/documents/{doc}/file"))
        .key(k)
        .send()
        .await;
    assert_eq!(
        (r.status.as_u16(), r.bytes.as_slice()),
        (200, b"png".as_slice())
    );
}

on_both_backends!(objects_of_other_tenants_are_not_found);
