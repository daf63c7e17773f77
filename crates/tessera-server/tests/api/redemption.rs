//! §3.5 redemption: who may redeem and when, hydration, failures, the redeem body, idempotent
//! retries, races, and the background worker.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;
use tokio_util::sync::CancellationToken;

use crate::support::Connected;

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["attributes"]["name"].as_str().unwrap())
        .collect()
}

async fn only_the_destination_redeems(backend: Backend) {
    let w = Connected::new(backend).await;
    let token = w.token().await;
    let before = w.token_snapshot(&token).await;
    w.app
        .token_action(&w.src.sandbox, &token, "redeem")
        .await
        .refused(403, "wrong_side");
    assert_eq!(w.token_snapshot(&token).await, before);
    assert_eq!(w.app.drain().await, 0, "no job was queued");
}

async fn a_token_is_redeemed_once(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    let r = app
        .token_action(&w.dst.sandbox, &token, "redeem")
        .await
        .expect(202);
    assert_eq!(r.attr("status"), "pending");
    // A clone: its mode at once, its destination null until the copy exists.
    assert_eq!(r.attr("redeem-mode"), "clone");
    assert!(r.json["data"]["relationships"]["destination"]["data"].is_null());
    let before = w.token_snapshot(&token).await;
    app.token_action(&w.dst.sandbox, &token, "redeem")
        .await
        .refused(409, "share_token_not_redeemable");
    assert_eq!(w.token_snapshot(&token).await, before);
    assert_eq!(app.drain().await, 1);
    let before = w.token_snapshot(&token).await;
    assert_eq!(before[1]["data"]["attributes"]["status"], "redeemed");
    app.token_action(&w.dst.sandbox, &token, "redeem")
        .await
        .refused(409, "share_token_not_redeemable");
    assert_eq!(w.token_snapshot(&token).await, before);
    assert_eq!(app.drain().await, 0);
    let copies = app.fetch(&w.dst.sandbox, "/api/v1/inquiries").await;
    assert_eq!(copies.ids().len(), 1);
}

async fn a_redeem_racing_an_expire_has_one_winner(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let mut tokens = Vec::new();
    for _ in 0..10 {
        tokens.push(w.token().await);
    }
    let (src, dst) = (&w.src.sandbox, &w.dst.sandbox);
    let races = tokens.iter().map(|t| async move {
        futures::join!(
            app.token_action(dst, t, "redeem"),
            app.token_action(src, t, "expire"),
        )
    });
    let mut redeemed = 0;
    for (t, (redeem, expire)) in tokens.iter().zip(futures::future::join_all(races).await) {
        match (redeem.status.as_u16(), expire.status.as_u16()) {
            (202, 409) => {
                assert_eq!(expire.code(), "invalid_status_transition");
                redeemed += 1;
            }
            (409, 200) => assert!(
                ["share_token_expired", "share_token_not_redeemable"].contains(&redeem.code()),
                "{}",
                redeem.json
            ),
            other => panic!("{t}: {other:?} {} {}", redeem.json, expire.json),
        }
    }
    assert_eq!(app.drain().await, redeemed);
    let expired = app
        .events_named(src, "connect/share-token.outbound-expired")
        .await
        .len();
    let done = app
        .events_named(src, "connect/share-token.outbound-redeemed")
        .await
        .len();
    assert_eq!((done, expired), (redeemed, tokens.len() - redeemed));
}

async fn redeeming_needs_an_active_connection(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    app.connection_action(&w.dst.sandbox, &w.connection, "deactivate")
        .await
        .expect(200);
    let before = w.token_snapshot(&token).await;
    app.token_action(&w.dst.sandbox, &token, "redeem")
        .await
        .refused(409, "connection_not_active");
    assert_eq!(w.token_snapshot(&token).await, before);
    // Reactivated but not yet accepted again: still not active.
    app.connection_action(&w.src.sandbox, &w.connection, "reactivate")
        .await
        .expect(200);
    let before = w.token_snapshot(&token).await;
    app.token_action(&w.dst.sandbox, &token, "redeem")
        .await
        .refused(409, "connection_not_active");
    assert_eq!(w.token_snapshot(&token).await, before);
    assert_eq!(app.drain().await, 0);
    // Once active again the token is redeemable.
    app.connection_action(&w.dst.sandbox, &w.connection, "activate")
        .await
        .expect(200);
    let t = w.redeem_now(&token, json!({})).await;
    assert_eq!(t.attr("status"), "redeemed");
}

async fn hydrating_fills_a_created_or_pending_inquiry(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let dst = &w.dst.sandbox;
    let created = app.inquiry(dst, json!({"note-field": "kept"})).await;
    let pending = app.inquiry(dst, json!({})).await;
    app.verification(
        dst,
        &pending,
        json!({"type": "email-address", "status": "passed"}),
    )
    .await;
    for (status, target) in [("created", &created), ("pending", &pending)] {
        let before = app.fetch(dst, &format!("/api/v1/inquiries/{target}")).await;
        assert_eq!(before.attr("status"), status);
        let created_events = app.events_named(dst, "inquiry.created").await.len();
        let token = w.token().await;
        let t = w
            .redeem_now(
                &token,
                json!({"data": {"attributes": {"destination-id": target}}}),
            )
            .await;
        assert_eq!(t.attr("status"), "redeemed");
        assert_eq!(t.related("destination").as_ref(), Some(target));
        let d = app
            .fetch(
                dst,
                &format!("/api/v1/inquiries/{target}?include=verifications"),
            )
            .await;
        assert_eq!(d.attr("status"), "completed");
        assert_eq!(d.attr("fields")["name-first"]["value"], "Janeczka");
        assert_eq!(d.attr("created-at"), before.attr("created-at"));
        assert_eq!(d.attr("shared-from")["share-token-id"], token.as_str());
        assert_eq!(d.related("share-token").as_ref(), Some(&token));
        if status == "created" {
            assert_eq!(d.attr("fields")["note-field"]["value"], "kept");
        } else {
            let kinds: Vec<&Value> = d.json["included"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| &v["type"])
                .collect();
            assert!(
                kinds.contains(&&json!("verification/email-address")),
                "{kinds:?}"
            );
        }
        // Filled, not created: no inquiry.created, one inquiry.completed for it.
        assert_eq!(
            app.events_named(dst, "inquiry.created").await.len(),
            created_events
        );
        let completed = app.events_named(dst, "inquiry.completed").await;
        assert_eq!(
            completed.last().unwrap()["attributes"]["payload"]["data"]["id"],
            target.as_str()
        );
    }
    assert_eq!(
        app.fetch(dst, "/api/v1/inquiries").await.ids().len(),
        2,
        "no inquiry was added"
    );
}

async fn hydrating_a_finished_inquiry_fails_the_token(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let dst = &w.dst.sandbox;
    let completed = app
        .completed_inquiry(dst, json!({"name-first": "Old"}))
        .await;
    let approved = app
        .completed_inquiry(dst, json!({"name-first": "Old"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{approved}/approve"))
        .key(dst)
        .send()
        .await
        .expect(200);
    let redacted = app.inquiry(dst, json!({"name-first": "Old"})).await;
    app.delete(&format!("/api/v1/inquiries/{redacted}"))
        .key(dst)
        .send()
        .await
        .expect(200);
    for target in [&completed, &approved, &redacted] {
        let path = format!("/api/v1/inquiries/{target}?include=verifications,documents");
        let before = app.fetch(dst, &path).await.json;
        let inquiries = app.fetch(dst, "/api/v1/inquiries").await.ids();
        let token = w.token().await;
        let t = w
            .redeem_now(
                &token,
                json!({"data": {"attributes": {"destination-id": target}}}),
            )
            .await;
        assert_eq!(t.attr("status"), "failed");
        // Persona's reason, Tessera's finer one beside it.
        assert_eq!(t.attr("failure-reason"), "import_failed");
        assert_eq!(t.attr("failure-code"), "destination_not_fillable");
        assert_eq!(t.attr("redeem-mode"), "hydrate");
        assert!(t.attr("failed-at").is_string());
        assert!(t.attr("redeemed-at").is_null());
        // A hydrate names its destination from the redeem call on, failed or not.
        assert_eq!(t.related("destination").as_deref(), Some(target.as_str()));
        assert_eq!(app.fetch(dst, &path).await.json, before, "nothing copied");
        assert_eq!(app.fetch(dst, "/api/v1/inquiries").await.ids(), inquiries);
        for (key, name, direction) in [
            (
                &w.src.sandbox,
                "connect/share-token.outbound-failed",
                "outbound",
            ),
            (dst, "connect/share-token.inbound-failed", "inbound"),
        ] {
            let events = app.events(key).await;
            let last = events.last().unwrap();
            assert_eq!(last["attributes"]["name"], name, "{:?}", names(&events));
            let data = &last["attributes"]["payload"]["data"];
            assert_eq!(data["id"], token.as_str());
            assert_eq!(data["attributes"]["direction"], direction);
            assert_eq!(data["attributes"]["status"], "failed");
            assert_eq!(data["attributes"]["failure-reason"], "import_failed");
            assert_eq!(
                data["attributes"]["failure-code"],
                "destination_not_fillable"
            );
        }
    }
}

async fn a_source_redacted_after_creation_fails_the_token(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    app.delete(&format!("/api/v1/inquiries/{}", w.inquiry))
        .key(&w.src.sandbox)
        .send()
        .await
        .expect(200);
    let dst_events = app.events(&w.dst.sandbox).await.len();
    let t = w.redeem_now(&token, json!({})).await;
    assert_eq!(t.attr("status"), "failed");
    assert_eq!(t.attr("failure-reason"), "source_redacted");
    assert_eq!(t.attr("failure-code"), "source_redacted");
    assert_eq!(t.attr("redeem-mode"), "clone");
    assert_eq!(t.related("destination"), None);
    assert!(
        app.fetch(&w.dst.sandbox, "/api/v1/inquiries")
            .await
            .ids()
            .is_empty(),
        "nothing copied"
    );
    let events = app.events(&w.dst.sandbox).await;
    assert_eq!(
        names(&events[dst_events..]),
        ["connect/share-token.inbound-failed"]
    );
    let out = app
        .events_named(&w.src.sandbox, "connect/share-token.outbound-failed")
        .await;
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0]["attributes"]["payload"]["data"]["attributes"]["failure-reason"],
        "source_redacted"
    );
    let seen = app
        .fetch(&w.src.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(
        (seen.attr("status"), seen.attr("direction")),
        (&json!("failed"), &json!("outbound"))
    );
}

async fn the_redeem_body_is_validated(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    let own_template = app
        .template_with(&w.src.sandbox, json!({"name": "theirs"}))
        .await;
    let foreign_inquiry = app
        .completed_inquiry(&w.src.sandbox, json!({"name-first": "X"}))
        .await;
    let production_inquiry = app.inquiry(&w.dst.production, json!({})).await;
    let attrs = |a: Value| json!({"data": {"attributes": a}});
    let mappings = |m: Value| json!({"meta": {"field-mappings": m}});
    let long = "x".repeat(65);
    let cases = [
        (
            attrs(json!({"inquiry-template-id": own_template})),
            404,
            "not_found",
            "/data/attributes/inquiry-template-id".to_owned(),
        ),
        (
            attrs(json!({"inquiry-template-id": "itmpl_0000000000000000000000"})),
            404,
            "not_found",
            "/data/attributes/inquiry-template-id".into(),
        ),
        (
            attrs(json!({"inquiry-template-id": "inq_0000000000000000000000"})),
            422,
            "invalid_id",
            "/data/attributes/inquiry-template-id".into(),
        ),
        (
            attrs(json!({"destination-id": foreign_inquiry})),
            404,
            "not_found",
            "/data/attributes/destination-id".into(),
        ),
        (
            attrs(json!({"destination-id": production_inquiry})),
            404,
            "not_found",
            "/data/attributes/destination-id".into(),
        ),
        (
            attrs(json!({"destination-id": w.connection})),
            422,
            "invalid_id",
            "/data/attributes/destination-id".into(),
        ),
        (
            attrs(json!({"destination-id": 3})),
            400,
            "invalid_type",
            "/data/attributes/destination-id".into(),
        ),
        (
            attrs(json!({"colour": "red"})),
            400,
            "unknown_attribute",
            "/data/attributes/colour".into(),
        ),
        (
            mappings(json!([{"source-field-name": "", "destination-field-name": "b"}])),
            422,
            "invalid_attribute",
            "/meta/field-mappings/0/source-field-name".into(),
        ),
        (
            mappings(
                json!([{"source-field-name": "a", "destination-field-name": "b"},
                         {"source-field-name": "a", "destination-field-name": "has space"}]),
            ),
            422,
            "invalid_attribute",
            "/meta/field-mappings/1/destination-field-name".into(),
        ),
        (
            mappings(json!([{"source-field-name": long, "destination-field-name": "b"}])),
            422,
            "invalid_attribute",
            "/meta/field-mappings/0/source-field-name".into(),
        ),
        (
            mappings(json!([{"source-field-name": "a/b", "destination-field-name": "b"}])),
            422,
            "invalid_attribute",
            "/meta/field-mappings/0/source-field-name".into(),
        ),
        (
            mappings(json!([{"source-field-name": "a"}])),
            422,
            "missing_attribute",
            "/meta/field-mappings/0/destination-field-name".into(),
        ),
        (
            mappings(json!([{"source-field-name": "a", "destination-field-name": "b", "x": 1}])),
            400,
            "unknown_attribute",
            "/meta/field-mappings/0/x".into(),
        ),
        (
            mappings(json!([{"source-field-name": 1, "destination-field-name": "b"}])),
            400,
            "invalid_type",
            "/meta/field-mappings/0/source-field-name".into(),
        ),
        (
            mappings(json!("name-first")),
            400,
            "invalid_type",
            "/meta/field-mappings".into(),
        ),
        (
            json!({"meta": {"mappings": []}}),
            400,
            "unknown_attribute",
            "/meta/mappings".into(),
        ),
    ];
    for (body, status, code, pointer) in cases {
        let before = w.token_snapshot(&token).await;
        let r = app
            .redeem_with(&w.dst.sandbox, &token, body.clone())
            .await
            .refused(status, code);
        assert_eq!(r.pointer(), pointer, "{body}");
        assert_eq!(w.token_snapshot(&token).await, before, "{body}");
    }
    assert_eq!(app.drain().await, 0);
    // Any inflection of the member names is accepted, and the token still redeems.
    let t = w.redeem_now(&token,
        json!({"meta": {"fieldMappings": [{"sourceFieldName": "name-first", "destinationFieldName": "given-name"}]}}),
    )
    .await;
    let copy = t.related("destination").unwrap();
    let d = app
        .fetch(&w.dst.sandbox, &format!("/api/v1/inquiries/{copy}"))
        .await;
    assert_eq!(d.attr("fields")["given-name"]["value"], "Janeczka");
}

async fn an_idempotent_retry_replays_the_redeem(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    let body = json!({"meta": {"field-mappings": []}});
    let send = |key: &'static str, body: Value| {
        let path = format!("/api/v1/connect/share-tokens/{token}/redeem");
        let dst = w.dst.sandbox.clone();
        async move {
            app.post(&path)
                .key(&dst)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await
        }
    };
    let first = send("redeem-1", body.clone()).await.expect(202);
    let events = (
        app.events(&w.src.sandbox).await.len(),
        app.events(&w.dst.sandbox).await.len(),
    );
    let retry = send("redeem-1", body.clone()).await.expect(202);
    assert_eq!(retry.bytes, first.bytes, "replayed byte for byte");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // The same key for another request is refused; a new key is a new (refused) redeem.
    send("redeem-1", json!({}))
        .await
        .refused(400, "idempotency_key_reused");
    send("redeem-2", body.clone())
        .await
        .refused(409, "share_token_not_redeemable");
    assert_eq!(
        (
            app.events(&w.src.sandbox).await.len(),
            app.events(&w.dst.sandbox).await.len(),
        ),
        events
    );
    assert_eq!(app.drain().await, 1, "one job for the redeem and its retry");
    // After the copy, the retry still replays the first answer.
    let late = send("redeem-1", body).await.expect(202);
    assert_eq!(late.bytes, first.bytes);
    assert_eq!(app.drain().await, 0);
    assert_eq!(
        app.fetch(&w.dst.sandbox, "/api/v1/inquiries")
            .await
            .ids()
            .len(),
        1
    );
}

async fn the_background_worker_redeems_on_its_own(backend: Backend) {
    let w = Connected::new(backend).await;
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(w.app.worker().run(shutdown.clone()));
    let token = w.token().await;
    w.app
        .token_action(&w.dst.sandbox, &token, "redeem")
        .await
        .expect(202);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let redeemed = loop {
        let t = w
            .app
            .fetch(&w.dst.sandbox, &Connected::token_path(&token))
            .await;
        if t.attr("status") != "pending" {
            break t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not redeem the token in time"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!(redeemed.attr("status"), "redeemed");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(20), worker)
        .await
        .expect("the worker stops when cancelled")
        .unwrap();
    assert_eq!(w.app.drain().await, 0, "nothing left for drain");
}

on_both_backends!(
    only_the_destination_redeems,
    a_token_is_redeemed_once,
    a_redeem_racing_an_expire_has_one_winner,
    redeeming_needs_an_active_connection,
    hydrating_fills_a_created_or_pending_inquiry,
    hydrating_a_finished_inquiry_fails_the_token,
    a_source_redacted_after_creation_fails_the_token,
    the_redeem_body_is_validated,
    an_idempotent_retry_replays_the_redeem,
    the_background_worker_redeems_on_its_own,
);
