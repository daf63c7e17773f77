//! §1 idempotency keys: replay, reuse, concurrency, scoping, what is never stored.

use http::Method;
use serde_json::{Value, json};
use tessera_core::id::ApiKeyId;
use tessera_server::edge::http::idempotency::fingerprint;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;
use tessera_store::units::idempotency::{self, Claim};

use crate::support::{App, Part};

async fn inquiries(app: &App, key: &str) -> usize {
    app.all(key, "/api/v1/inquiries").await.len()
}

async fn claim(app: &App, api_key: &str, key: &str, fp: String) -> Claim {
    let (api_key, key) = (ApiKeyId::from_db(api_key.to_owned()), key.to_owned());
    app.db
        .store
        .write(idempotency::begin(api_key, key, fp, idempotency::LEASE_MS))
        .await
        .unwrap()
}

async fn a_retry_replays_the_first_response_byte_for_byte(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let body =
        json!({"data": {"attributes": {"reference-id": "r", "fields": {"name-first": "Jane"}}}});
    let send = |key: &'static str, body: Value| {
        app.post("/api/v1/inquiries")
            .key(k)
            .header("idempotency-key", key)
            .json(body)
            .send()
    };
    let first = send("create-1", body.clone()).await.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = send("create-1", body.clone()).await.expect(201);
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_ne!(again.header("request-id"), first.header("request-id"));
    assert_eq!(inquiries(&app, k).await, 1);
    assert_eq!(app.event_names(k, None).await, ["inquiry.created"]);
    // Transitions, verifications and uploads replay the same way, with no second change.
    let inq = first.id();
    let complete = |key: &'static str| {
        app.post(&format!("/api/v1/inquiries/{inq}/complete"))
            .key(k)
            .header("idempotency-key", key)
            .send()
    };
    let c1 = complete("complete-1").await.expect(200);
    let c2 = complete("complete-1").await.expect(200);
    assert_eq!(c1.bytes, c2.bytes);
    let v =
        json!({"data": {"attributes": {"inquiry-id": inq, "type": "selfie", "status": "passed"}}});
    let v1 = app
        .post("/api/v1/verifications")
        .key(k)
        .header("idempotency-key", "ver-1")
        .json(v.clone())
        .send()
        .await
        .expect(201);
    let v2 = app
        .post("/api/v1/verifications")
        .key(k)
        .header("idempotency-key", "ver-1")
        .json(v)
        .send()
        .await
        .expect(201);
    assert_eq!(v1.bytes, v2.bytes);
    let (ct, upload) = crate::support::multipart(&[
        Part::text("kind", "selfie"),
        Part::file("a.png", "image/png", b"abc".to_vec()),
    ]);
    let mut uploads = Vec::new();
    for _ in 0..2 {
        uploads.push(
            app.post(&format!("/api/v1/inquiries/{inq}/documents"))
                .key(k)
                .header("idempotency-key", "doc-1")
                .raw(&ct, upload.clone())
                .send()
                .await
                .expect(201),
        );
    }
    assert_eq!(uploads[0].bytes, uploads[1].bytes);
    let names = app.event_names(k, None).await;
    assert_eq!(
        names,
        [
            "document.created",
            "verification.passed",
            "inquiry.transitioned",
            "inquiry.completed",
            "inquiry.created"
        ]
    );
    let shown = app.show_inquiry(k, &inq).await;
    assert_eq!(
        shown.json["data"]["relationships"]["verifications"]["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        shown.json["data"]["relationships"]["documents"]["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn a_key_reused_for_another_request_is_400(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let inq = app.inquiry(k, json!({})).await;
    app.post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", "reused")
        .json(json!({"data": {"attributes": {"reference-id": "a"}}}))
        .send()
        .await
        .expect(201);
    let other_body = app
        .post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", "reused")
        .json(json!({"data": {"attributes": {"reference-id": "b"}}}))
        .send()
        .await
        .expect(400);
    let other_path = app
        .post(&format!("/api/v1/inquiries/{inq}/complete"))
        .key(k)
        .header("idempotency-key", "reused")
        .json(json!({"data": {"attributes": {"reference-id": "a"}}}))
        .send()
        .await
        .expect(400);
    let other_query = app
        .post("/api/v1/inquiries?x=1")
        .key(k)
        .header("idempotency-key", "reused")
        .json(json!({"data": {"attributes": {"reference-id": "a"}}}))
        .send()
        .await
        .expect(400);
    for r in [other_body, other_path, other_query] {
        assert_eq!(
            (r.code(), r.source_header()),
            ("idempotency_key_reused", "Idempotency-Key")
        );
    }
    assert_eq!(inquiries(&app, k).await, 2);
    assert_eq!(app.show_inquiry(k, &inq).await.attr("status"), "created");
}

async fn a_key_still_running_is_409_until_its_lease_passes(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let api_key = app.api_key_id(k).await;
    let body = json!({"data": {"attributes": {"reference-id": "slow"}}});
    let fp = fingerprint(
        &Method::POST,
        "/api/v1/inquiries",
        body.to_string().as_bytes(),
    );
    // Another process holds the key.
    assert!(matches!(
        claim(&app, &api_key, "running", fp).await,
        Claim::Fresh(_)
    ));
    let send = || {
        app.post("/api/v1/inquiries")
            .key(k)
            .header("idempotency-key", "running")
            .json(body.clone())
            .send()
    };
    let r = send().await.expect(409);
    assert_eq!(
        (r.code(), r.source_header()),
        ("idempotency_key_in_use", "Idempotency-Key")
    );
    app.db.clock.advance_millis(idempotency::LEASE_MS - 1);
    send().await.expect(409);
    assert_eq!(inquiries(&app, k).await, 0);
    // The holder died: once its lease has passed, the key is taken over and the request runs once.
    app.db.clock.advance_millis(2);
    let first = send().await.expect(201);
    let again = send().await.expect(201);
    assert_eq!(first.bytes, again.bytes);
    assert_eq!(inquiries(&app, k).await, 1);
    assert_eq!(app.event_names(k, None).await, ["inquiry.created"]);
}

async fn invalid_keys_are_400_and_nothing_runs(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let long = "k".repeat(256);
    for bad in ["", long.as_str(), "has space", "tab\there", "caf\u{e9}"] {
        let req = http::Request::builder()
            .method("POST")
            .uri("/api/v1/inquiries")
            .header("authorization", format!("Bearer {k}"))
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                http::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
            )
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let r = app.send_request(req).await.expect(400);
        assert_eq!(
            (r.code(), r.source_header()),
            ("invalid_header", "Idempotency-Key"),
            "{bad:?}"
        );
    }
    assert_eq!(inquiries(&app, k).await, 0);
    let longest = "k".repeat(255);
    app.post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", &longest)
        .json(json!({}))
        .send()
        .await
        .expect(201);
    app.post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", "~!#$%^&*()_+{}|:<>?`-=[]\\;',./")
        .json(json!({}))
        .send()
        .await
        .expect(201);
}

async fn unauthorized_and_rate_limited_responses_are_never_stored(backend: Backend) {
    let app = App::with_config(backend, |c| c.rate_limit_per_minute = 1).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let body = json!({"data": {"attributes": {"reference-id": "r"}}});
    app.post("/api/v1/inquiries")
        .key("tsk_sandbox_not-a-key")
        .header("idempotency-key", "once")
        .json(body.clone())
        .send()
        .await
        .expect(401);
    app.get("/api/v1/inquiries").key(k).send().await.expect(200);
    app.post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", "once")
        .json(body.clone())
        .send()
        .await
        .expect(429);
    app.db.clock.advance_seconds(60);
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", "once")
        .json(body)
        .send()
        .await
        .expect(201);
    assert_eq!(r.header("idempotent-replayed"), None);
}

async fn failed_requests_are_stored_and_replayed(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let bad = json!({"data": {"attributes": {"fields": {"birthdate": "1990-02-30"}}}});
    let send = || {
        app.post("/api/v1/inquiries")
            .key(k)
            .header("idempotency-key", "bad-date")
            .json(bad.clone())
            .send()
    };
    let first = send().await.expect(422);
    let again = send().await.expect(422);
    assert_eq!(first.bytes, again.bytes);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // A refused transition is replayed even after the inquiry could make it.
    let inq = app.inquiry(k, json!({})).await;
    let approve = || {
        app.post(&format!("/api/v1/inquiries/{inq}/approve"))
            .key(k)
            .header("idempotency-key", "approve-early")
            .send()
    };
    let refused = approve().await.expect(409);
    assert_eq!(refused.code(), "invalid_status_transition");
    app.act(k, &inq, "complete").await.expect(200);
    let replayed = approve().await.expect(409);
    assert_eq!(replayed.bytes, refused.bytes);
    assert_eq!(app.show_inquiry(k, &inq).await.attr("status"), "completed");
}

async fn keys_are_scoped_per_api_key(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let second = app
        .key_for(
            &org,
            "sandbox",
            &["inquiry.read", "inquiry.write", "event.read"],
        )
        .await;
    let body = json!({"data": {"attributes": {"reference-id": "same"}}});
    let a = app
        .post("/api/v1/inquiries")
        .key(&org.sandbox)
        .header("idempotency-key", "shared")
        .json(body.clone())
        .send()
        .await
        .expect(201);
    let b = app
        .post("/api/v1/inquiries")
        .key(&second)
        .header("idempotency-key", "shared")
        .json(body.clone())
        .send()
        .await
        .expect(201);
    assert_ne!(a.id(), b.id());
    assert_eq!(b.header("idempotent-replayed"), None);
    let c = app
        .post("/api/v1/inquiries")
        .key(&org.production)
        .header("idempotency-key", "shared")
        .json(body)
        .send()
        .await
        .expect(201);
    assert_ne!(a.id(), c.id());
    assert_eq!(inquiries(&app, &org.sandbox).await, 2);
}

async fn records_expire_after_a_day(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let send = |reference: &'static str| {
        app.post("/api/v1/inquiries")
            .key(k)
            .header("idempotency-key", "daily")
            .json(json!({"data": {"attributes": {"reference-id": reference}}}))
            .send()
    };
    send("a").await.expect(201);
    app.db
        .clock
        .advance_millis(idempotency::RETENTION_MS - 1000);
    send("b").await.expect(400);
    app.db.clock.advance_seconds(1);
    send("b").await.expect(201);
    assert_eq!(inquiries(&app, k).await, 2);
}

async fn secrets_are_never_stored_for_a_replay(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let body = json!({"data": {"attributes": {"name": "ci", "permissions": ["inquiry.read"]}}});
    let send = || {
        app.post("/api/v1/api-keys")
            .key(k)
            .header("idempotency-key", "new-key")
            .json(body.clone())
            .send()
    };
    let first = send().await.expect(201);
    let secret = first.json["meta"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsk_sandbox_"));
    let again = send().await.expect(201);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.json["data"], first.json["data"]);
    assert!(!String::from_utf8_lossy(&again.bytes).contains(&secret));
    let stored = tessera_store::testing::sql::fetch_all(
        &app.db.store,
        "select body from idempotency_keys",
        vec![],
    )
    .await
    .and_then(|rows| {
        rows.iter()
            .map(|r| r.opt_bytes("body"))
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap();
    assert!(!stored.is_empty());
    for body in stored.into_iter().flatten() {
        assert!(!String::from_utf8_lossy(&body).contains(&secret));
    }
    // The key works; only one was made.
    app.get("/api/v1/inquiries")
        .key(&secret)
        .send()
        .await
        .expect(200);
    assert_eq!(app.all(k, "/api/v1/api-keys").await.len(), 2);
}

on_both_backends!(
    a_retry_replays_the_first_response_byte_for_byte,
    a_key_reused_for_another_request_is_400,
    a_key_still_running_is_409_until_its_lease_passes,
    invalid_keys_are_400_and_nothing_runs,
    unauthorized_and_rate_limited_responses_are_never_stored,
    failed_requests_are_stored_and_replayed,
    keys_are_scoped_per_api_key,
    records_expire_after_a_day,
    secrets_are_never_stored_for_a_replay,
);
