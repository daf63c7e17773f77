//! Limits hold under a flood: pages of at most 100 on every list route, at most 50 webhooks
//! (so an event fans out to at most 50 deliveries), 50 workflows and 100 live API keys per
//! environment even when many requests race to create them, and idempotency records that go
//! away after 24 hours — those of requests that never finished included. (Bodies and uploads:
//! `bodies.rs`, `documents.rs`, and the real binary under 10,000 oversized requests in
//! `crates/tessera/tests/limits.rs`; steps per workflow: `workflow_validation.rs`; runs per
//! chain: `workflow_loops.rs`.)

use futures::future::join_all;
use serde_json::{Value, json};
use tessera_core::id::ApiKeyId;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;
use tessera_store::units::idempotency;

use crate::support::App;

/// The list routes of the route table: the GET operations that take `page[size]`.
fn list_routes() -> Vec<String> {
    let doc = serde_json::to_value(tessera_server::app::openapi()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let takes_pages = item["get"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "page[size]"));
        if takes_pages {
            out.push(path.clone());
        }
    }
    out
}

async fn no_list_answers_more_than_100(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
    })
    .await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    let webhook = app
        .post("/api/v1/webhooks")
        .key(k)
        .json(json!({"data": {"attributes": {"url": "http://127.0.0.1:9/h", "enabled-events": ["*"]}}}))
        .send()
        .await
        .expect(201)
        .id();
    // 120 inquiries: 120 events, 120 deliveries.
    join_all((0..120).map(|i| app.inquiry(k, json!({"name-first": format!("n{i}")})))).await;
    // A batch (on a connection of the organization to itself) for the list of its items.
    let connection = app.active_connection(&org, &org).await;
    let source = app.completed_inquiry(k, json!({})).await;
    let batch = app
        .post("/api/v1/connect/share-tokens/batch")
        .key(k)
        .json(json!({"data": {"attributes": {"connection-id": connection, "items": [{"source-id": source}]}}}))
        .send()
        .await
        .expect(202)
        .id();
    let routes = list_routes();
    assert!(routes.len() >= 10, "{routes:?}");
    for route in routes {
        let id = if route.contains("share-token-batches") {
            &batch
        } else {
            &webhook
        };
        let path = route.replace("{id}", id);
        assert!(!path.contains('{'), "no id to fill {route} with");
        for size in ["0", "101", "1000", "-1", "100000000000"] {
            let r = app
                .get(&format!("{path}?page[size]={size}"))
                .key(k)
                .send()
                .await
                .expect(400);
            assert_eq!(r.parameter(), "page[size]", "{path} {size}");
        }
        let r = app
            .get(&format!("{path}?page[size]=100"))
            .key(k)
            .send()
            .await
            .expect(200);
        assert!(r.items().len() <= 100, "{path}");
        let r = app.get(&path).key(k).send().await.expect(200);
        assert!(r.items().len() <= 10, "{path}: the default page is 10");
    }
    for path in [
        "/api/v1/inquiries".to_owned(),
        "/api/v1/events".to_owned(),
        format!("/api/v1/webhooks/{webhook}/deliveries"),
    ] {
        let r = app
            .get(&format!("{path}?page[size]=100"))
            .key(k)
            .send()
            .await
            .expect(200);
        assert_eq!(r.items().len(), 100, "{path}");
        assert!(r.link("next").is_some(), "{path}");
    }
}

/// Fires 80 creates at once; returns the statuses (201, or 422 for those over the limit).
async fn flood(app: &App, key: &str, path: &str, body: impl Fn(usize) -> Value) -> Vec<u16> {
    join_all((0..80).map(|i| app.post(path).key(key).json(body(i)).send()))
        .await
        .into_iter()
        .map(|r| {
            if r.status.as_u16() != 201 {
                assert_eq!(r.status.as_u16(), 422, "{path}: {}", r.json);
            }
            r.status.as_u16()
        })
        .collect()
}

async fn per_environment_caps_hold_when_creates_race(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
    })
    .await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;

    // Webhooks: 50, so one event makes at most 50 deliveries.
    let statuses = flood(&app, k, "/api/v1/webhooks", |i| {
        json!({"data": {"attributes": {"url": format!("http://127.0.0.1:9/h{i}"), "enabled-events": ["*"]}}})
    })
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 50);
    let r = app
        .post("/api/v1/webhooks")
        .key(k)
        .json(json!({"data": {"attributes": {"url": "http://127.0.0.1:9/x", "enabled-events": ["*"]}}}))
        .send()
        .await;
    r.refused(422, "webhook_limit_reached");
    let before = app.all(k, "/api/v1/webhooks").await;
    assert_eq!(before.len(), 50);
    let inq = app.inquiry(k, json!({})).await;
    let mut deliveries = 0;
    for w in &before {
        let id = w["id"].as_str().unwrap();
        deliveries += app
            .all(k, &format!("/api/v1/webhooks/{id}/deliveries"))
            .await
            .len();
    }
    assert_eq!(deliveries, 50, "one event, one delivery per webhook");
    // The production environment has its own allowance.
    app.post("/api/v1/webhooks")
        .key(&org.production)
        .json(json!({"data": {"attributes": {"url": "http://127.0.0.1:9/p", "enabled-events": ["*"]}}}))
        .send()
        .await
        .expect(201);

    // Workflows: 50 (each event starts at most 50 runs in an environment).
    let statuses = flood(&app, k, "/api/v1/workflows", |i| {
        json!({"data": {"attributes": {"name": format!("w{i}"),
            "trigger": {"event": "inquiry.approved"}, "steps": [{"type": "tag-inquiry", "tag": "t"}]}}})
    })
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 50);
    assert_eq!(app.all(k, "/api/v1/workflows").await.len(), 50);
    let _ = inq;

    // API keys: 100 that have not expired (the organization came with one).
    let statuses = flood(
        &app,
        k,
        "/api/v1/api-keys",
        |i| json!({"data": {"attributes": {"name": format!("k{i}")}}}),
    )
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 80);
    let more = flood(
        &app,
        k,
        "/api/v1/api-keys",
        |i| json!({"data": {"attributes": {"name": format!("more{i}")}}}),
    )
    .await;
    assert_eq!(more.iter().filter(|s| **s == 201).count(), 19);
    let r = app
        .post("/api/v1/api-keys")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "one too many"}}}))
        .send()
        .await;
    r.refused(422, "api_key_limit_reached");
    // Expiring one makes room for one.
    let keys = app.all(k, "/api/v1/api-keys").await;
    assert_eq!(keys.len(), 100);
    let me = app.api_key_id(k).await;
    let other = keys
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .find(|id| *id != me)
        .unwrap();
    app.post(&format!("/api/v1/api-keys/{other}/expire"))
        .key(k)
        .send()
        .await
        .expect(200);
    app.post("/api/v1/api-keys")
        .key(k)
        .json(json!({"data": {"attributes": {"name": "replacement"}}}))
        .send()
        .await
        .expect(201);
    // The operator meets the same limit.
    let r = app
        .post(&format!("/admin/v1/organizations/{}/api-keys", org.id))
        .key(crate::support::ADMIN)
        .json(json!({"data": {"attributes": {"environment": "sandbox"}}}))
        .send()
        .await;
    r.refused(422, "api_key_limit_reached");
}

async fn idempotency_records(app: &App) -> i64 {
    tessera_store::testing::sql::fetch_one(
        &app.db.store,
        "select count(*) as n from idempotency_keys",
        vec![],
    )
    .await
    .and_then(|r| r.i64("n"))
    .unwrap()
}

async fn a_flood_of_idempotency_keys_is_purged_after_24_hours(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    // 1,000 distinct keys: writes, refusals and validation errors alike are stored.
    for batch in 0..10 {
        join_all((0..100).map(|i| {
            let body = match i % 3 {
                0 => json!({"data": {"attributes": {"reference-id": "r"}}}),
                1 => json!({"data": {"attributes": {"unknown": 1}}}),
                _ => json!({"data": {"attributes": {"fields": {"birthdate": "not a date"}}}}),
            };
            app.post("/api/v1/inquiries")
                .key(k)
                .header("idempotency-key", &format!("flood-{batch}-{i}"))
                .json(body)
                .send()
        }))
        .await;
    }
    // A request that claimed its key and never finished (its client went away, its process
    // died): nothing will complete it.
    let api_key = ApiKeyId::from_db(app.api_key_id(k).await);
    app.db
        .store
        .write(idempotency::begin(
            api_key,
            "abandoned".into(),
            "fp".into(),
            idempotency::LEASE_MS,
        ))
        .await
        .unwrap();
    assert_eq!(idempotency_records(&app).await, 1001);
    // Still there a moment before 24 hours, and replayed.
    app.db
        .clock
        .advance_millis(idempotency::RETENTION_MS - 1000);
    app.worker().housekeeping().await.unwrap();
    assert_eq!(idempotency_records(&app).await, 1001);
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .header("idempotency-key", "flood-0-0")
        .json(json!({"data": {"attributes": {"reference-id": "r"}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    // Gone after 24 hours, the abandoned claim too.
    app.db.clock.advance_millis(2000);
    app.worker().housekeeping().await.unwrap();
    assert_eq!(idempotency_records(&app).await, 0);
}

on_both_backends!(
    no_list_answers_more_than_100,
    per_environment_caps_hold_when_creates_race,
    a_flood_of_idempotency_keys_is_purged_after_24_hours,
);
