//! §3.5: creating share tokens — every validation, the events to both sides, idempotent retries.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::Connected;

const TOKENS: &str = "/api/v1/connect/share-tokens";

/// Asserts that creating a token from `attributes` is refused and creates nothing.
async fn refused_creation(
    w: &Connected,
    key: &str,
    attributes: Value,
    status: u16,
    code: &str,
    pointer: &str,
) {
    let before = (
        w.app.events(&w.src.sandbox).await.len(),
        w.app.events(&w.dst.sandbox).await.len(),
    );
    let r = w
        .app
        .create_token(key, attributes.clone())
        .await
        .refused(status, code);
    assert_eq!(r.pointer(), pointer, "{attributes}");
    let after = (
        w.app.events(&w.src.sandbox).await.len(),
        w.app.events(&w.dst.sandbox).await.len(),
    );
    assert_eq!(after, before, "a refused creation emitted events");
    for k in [&w.src.sandbox, &w.dst.sandbox] {
        assert!(w.app.fetch(k, TOKENS).await.ids().is_empty());
    }
}

async fn creation_tells_both_sides(backend: Backend) {
    let w = Connected::new(backend).await;
    let token = w.token().await;
    let out = w
        .app
        .events_named(&w.src.sandbox, "connect/share-token.outbound-created")
        .await;
    let inb = w
        .app
        .events_named(&w.dst.sandbox, "connect/share-token.inbound-created")
        .await;
    assert_eq!((out.len(), inb.len()), (1, 1));
    let (out, inb) = (
        &out[0]["attributes"]["payload"]["data"],
        &inb[0]["attributes"]["payload"]["data"],
    );
    assert_eq!((&out["id"], &inb["id"]), (&json!(token), &json!(token)));
    assert_eq!(out["attributes"]["direction"], "outbound");
    assert_eq!(inb["attributes"]["direction"], "inbound");
    assert_eq!(inb["attributes"]["status"], "created");
    // Each side its own view: the source sees creator, source and connection; the destination
    // connection and destination (null until a copy exists), never `creator: {data: null}`.
    assert_eq!(out["relationships"]["creator"]["data"]["type"], "api-key");
    assert_eq!(out["relationships"]["source"]["data"]["type"], "inquiry");
    assert!(out["relationships"].get("destination").is_none());
    assert_eq!(out["attributes"]["source-id"], w.inquiry.as_str());
    let inbound_relationships: Vec<&String> =
        inb["relationships"].as_object().unwrap().keys().collect();
    assert_eq!(inbound_relationships, ["connection", "destination"]);
    assert!(inb["relationships"]["destination"]["data"].is_null());
    assert!(inb["attributes"].get("source-id").is_none());
    assert!(inb["attributes"]["redeem-mode"].is_null());
    // The destination reads the token as inbound.
    let t = w
        .app
        .fetch(&w.dst.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(t.attr("direction"), "inbound");
    assert_eq!(t.attr("status"), "created");
    assert!(t.attr("source-data").is_null(), "no peek unless asked");
}

async fn an_idempotent_retry_creates_one_token(backend: Backend) {
    let w = Connected::new(backend).await;
    let body =
        json!({"data": {"attributes": {"connection-id": w.connection, "source-id": w.inquiry}}});
    let send = || {
        w.app
            .post(TOKENS)
            .key(&w.src.sandbox)
            .header("Idempotency-Key", "token-1")
            .json(body.clone())
            .send()
    };
    let first = send().await.expect(201);
    let retry = send().await.expect(201);
    assert_eq!(retry.bytes, first.bytes);
    assert_eq!(
        w.app.fetch(&w.dst.sandbox, TOKENS).await.ids(),
        [first.id()]
    );
    assert_eq!(
        w.app
            .events_named(&w.dst.sandbox, "connect/share-token.inbound-created")
            .await
            .len(),
        1
    );
}

async fn creation_needs_an_active_outbound_connection(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let third = app.org("Gamma").await;
    // The destination of the connection may not create tokens on it.
    let dst_inquiry = app
        .completed_inquiry(&w.dst.sandbox, json!({"name-first": "Bo"}))
        .await;
    refused_creation(
        &w,
        &w.dst.sandbox,
        json!({"connection-id": w.connection, "source-id": dst_inquiry}),
        403,
        "wrong_side",
        "/data/attributes/connection-id",
    )
    .await;
    // A pending and an inactive connection.
    let pending = app
        .create_connection(&w.src.sandbox, &third.id)
        .await
        .expect(201)
        .id();
    refused_creation(
        &w,
        &w.src.sandbox,
        json!({"connection-id": pending, "source-id": w.inquiry}),
        409,
        "connection_not_active",
        "/data/attributes/connection-id",
    )
    .await;
    app.connection_action(&w.src.sandbox, &pending, "deactivate")
        .await
        .expect(200);
    refused_creation(
        &w,
        &w.src.sandbox,
        json!({"connection-id": pending, "source-id": w.inquiry}),
        409,
        "connection_not_active",
        "/data/attributes/connection-id",
    )
    .await;
    // Another organization's connection, and one that does not exist: Persona documents no
    // 404 for this operation, so 422 with the pointer.
    let foreign = app.active_connection(&third, &w.dst).await;
    for c in [foreign.as_str(), "cxn_0000000000000000000000"] {
        refused_creation(
            &w,
            &w.src.sandbox,
            json!({"connection-id": c, "source-id": w.inquiry}),
            422,
            "reference_not_found",
            "/data/attributes/connection-id",
        )
        .await;
    }
    refused_creation(
        &w,
        &w.src.sandbox,
        json!({"connection-id": "inq_0000000000000000000000", "source-id": w.inquiry}),
        422,
        "invalid_id",
        "/data/attributes/connection-id",
    )
    .await;
}

async fn creation_needs_a_shareable_inquiry_of_the_caller(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let key = &w.src.sandbox;
    let attrs = |source: &str| json!({"connection-id": w.connection, "source-id": source});
    let created = app.inquiry(key, json!({"name-first": "Cy"})).await;
    let pending = app.inquiry(key, json!({"name-first": "Pe"})).await;
    // A verification makes it pending.
    app.verification(key, &pending, json!({"type": "selfie", "status": "passed"}))
        .await;
    // Ids of other kinds (Tessera has no accounts or transactions). Verifications are sources
    // too (see share_token_sources.rs).
    let cxn = w.connection.as_str();
    for other in [
        cxn,
        "inquiry-1",
        "act_0000000000000000000000",
        "txn_0000000000000000000000",
    ] {
        refused_creation(
            &w,
            key,
            attrs(other),
            422,
            "invalid_source_type",
            "/data/attributes/source-id",
        )
        .await;
    }
    // Inquiries the caller cannot see: its other environment, another organization, nowhere.
    let production = app
        .completed_inquiry(&w.src.production, json!({"name-first": "Pia"}))
        .await;
    let foreign = app
        .completed_inquiry(&w.dst.sandbox, json!({"name-first": "Fay"}))
        .await;
    for other in [
        production.as_str(),
        foreign.as_str(),
        "inq_0000000000000000000000",
        "ver_0000000000000000000000",
    ] {
        refused_creation(
            &w,
            key,
            attrs(other),
            422,
            "reference_not_found",
            "/data/attributes/source-id",
        )
        .await;
    }
    // Inquiries that are not (or no longer) shareable.
    let declined = app
        .completed_inquiry(key, json!({"name-first": "De"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{declined}/decline"))
        .key(key)
        .send()
        .await
        .expect(200);
    let review = app
        .completed_inquiry(key, json!({"name-first": "Re"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{review}/mark-for-review"))
        .key(key)
        .send()
        .await
        .expect(200);
    let redacted = app
        .completed_inquiry(key, json!({"name-first": "Ra"}))
        .await;
    app.delete(&format!("/api/v1/inquiries/{redacted}"))
        .key(key)
        .send()
        .await
        .expect(200);
    for (status, id) in [
        ("created", &created),
        ("pending", &pending),
        ("declined", &declined),
        ("needs_review", &review),
        ("redacted", &redacted),
    ] {
        let i = app.fetch(key, &format!("/api/v1/inquiries/{id}")).await;
        if status != "redacted" {
            assert_eq!(i.attr("status"), status);
        }
        refused_creation(
            &w,
            key,
            attrs(id),
            422,
            "source_not_shareable",
            "/data/attributes/source-id",
        )
        .await;
    }
    // Completed and approved inquiries are shared.
    let approved = app
        .completed_inquiry(key, json!({"name-first": "Ava"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{approved}/approve"))
        .key(key)
        .send()
        .await
        .expect(200);
    for id in [&w.inquiry, &approved] {
        let r = app.create_token(key, attrs(id)).await.expect(201);
        assert_eq!(r.attr("status"), "created");
        assert_eq!(r.attr("source-id"), id.as_str());
    }
}

async fn creation_validates_the_body(backend: Backend) {
    let w = Connected::new(backend).await;
    let key = &w.src.sandbox;
    let with = |extra: Value| {
        let mut a = json!({"connection-id": w.connection, "source-id": w.inquiry});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    const EXPIRES: &str = "/data/attributes/expires-in-seconds";
    for (extra, status, code, pointer) in [
        (
            json!({"expires-in-seconds": 59}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": 1_814_401}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": 0}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": -60}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": "3600"}),
            400,
            "invalid_type",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": 60.5}),
            400,
            "invalid_type",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": true}),
            400,
            "invalid_type",
            EXPIRES,
        ),
        (
            json!({"connection-id": 12}),
            400,
            "invalid_type",
            "/data/attributes/connection-id",
        ),
        (
            json!({"source-id": ["inq"]}),
            400,
            "invalid_type",
            "/data/attributes/source-id",
        ),
        (
            json!({"colour": "red"}),
            400,
            "unknown_attribute",
            "/data/attributes/colour",
        ),
    ] {
        refused_creation(&w, key, with(extra), status, code, pointer).await;
    }
    refused_creation(
        &w,
        key,
        json!({"source-id": w.inquiry}),
        422,
        "missing_attribute",
        "/data/attributes/connection-id",
    )
    .await;
    refused_creation(
        &w,
        key,
        json!({"connection-id": w.connection}),
        422,
        "missing_attribute",
        "/data/attributes/source-id",
    )
    .await;
    // The bounds themselves are accepted.
    for seconds in [60, 1_814_400] {
        let r = w
            .app
            .create_token(key, with(json!({"expires-in-seconds": seconds})))
            .await
            .expect(201);
        let at =
            |n: &str| chrono::DateTime::parse_from_rfc3339(r.attr(n).as_str().unwrap()).unwrap();
        assert_eq!((at("expires-at") - at("created-at")).num_seconds(), seconds);
    }
}

on_both_backends!(
    creation_tells_both_sides,
    an_idempotent_retry_creates_one_token,
    creation_needs_an_active_outbound_connection,
    creation_needs_a_shareable_inquiry_of_the_caller,
    creation_validates_the_body,
);
