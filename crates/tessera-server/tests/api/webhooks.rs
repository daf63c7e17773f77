//! §3.7 webhooks: resources, signed deliveries to a real receiver on loopback, retries, the
//! delivery log, cancellation, rotation, and where a webhook may point.

use std::time::Duration;

use serde_json::json;
use tessera_core::signing::{verify_persona_signature, verify_standard_signature};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::receiver::{Answer, Receiver};
use crate::support::{App, Org};

pub(crate) async fn app(backend: Backend) -> App {
    App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        c.webhook_retry_scale = 0.001;
        c.webhook_timeout_ms = 1000;
    })
    .await
}

/// Creates a webhook; returns (id, secret).
async fn webhook(app: &App, org: &Org, url: &str, events: serde_json::Value) -> (String, String) {
    let r = app
        .post("/api/v1/webhooks")
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"url": url, "enabled-events": events}}}))
        .send()
        .await
        .expect(201);
    let secret = r.json["meta"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("wbhsec_"));
    // Persona's webhook-with-secret: the secret in attributes too.
    assert_eq!(r.attr("secret"), secret.as_str());
    assert_eq!(
        r.attr("secrets"),
        &json!([{"value": secret, "expires-at": null}])
    );
    (r.id(), secret)
}

async fn deliveries(app: &App, org: &Org, webhook: &str) -> Vec<serde_json::Value> {
    app.all(
        &org.sandbox,
        &format!("/api/v1/webhooks/{webhook}/deliveries"),
    )
    .await
}

async fn a_delivery_is_signed_both_ways(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let (id, secret) = webhook(&app, &org, &rx.url(), json!(["inquiry.created"])).await;
    let listed = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    // As Persona's retrieve, it includes the secret — for a key that may write webhooks
    // (it could rotate the secret anyway); a read-only key never sees it.
    assert!(listed.json["meta"].is_null());
    assert_eq!(listed.attr("secret"), secret.as_str());
    assert_eq!(listed.attr("secrets")[0]["value"], secret.as_str());
    let reader = app.key_for(&org, "sandbox", &["webhook.read"]).await;
    let listed = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&reader)
        .send()
        .await
        .expect(200);
    assert!(
        !listed.json.to_string().contains(&secret),
        "a read-only key never sees the secret"
    );
    assert!(listed.attr("secrets").is_null());
    let all = app.all(&org.sandbox, "/api/v1/webhooks").await;
    assert!(
        !serde_json::to_string(&all).unwrap().contains(&secret),
        "lists never show secrets"
    );
    let inquiry = app
        .inquiry(&org.sandbox, json!({"name-first": "Jane"}))
        .await;
    app.inquiry(&org.sandbox, json!({})).await;
    app.post(&format!("/api/v1/inquiries/{inquiry}/complete"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    app.worker().drain().await.unwrap();
    let got = rx.received();
    assert_eq!(
        got.len(),
        2,
        "one delivery per subscribed event, none for inquiry.completed"
    );
    // Deliveries are not ordered: find the one about the first inquiry.
    let r = got
        .iter()
        .find(|r| r.json()["data"]["attributes"]["payload"]["data"]["id"] == inquiry.as_str())
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    assert_eq!(r.header("content-type"), "application/json");
    verify_persona_signature(
        r.header("persona-signature"),
        secret.as_str(),
        &r.body,
        now,
        300,
    )
    .unwrap();
    verify_standard_signature(
        secret.as_str(),
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
        &r.body,
        now,
        300,
    )
    .unwrap();
    assert!(
        verify_persona_signature(
            r.header("persona-signature"),
            "wbhsec_wrong",
            &r.body,
            now,
            300
        )
        .is_err()
    );
    let mut tampered = r.body.clone();
    tampered[10] ^= 1;
    assert!(
        verify_persona_signature(
            r.header("persona-signature"),
            secret.as_str(),
            &tampered,
            now,
            300
        )
        .is_err()
    );
    let doc = r.json();
    assert_eq!(doc["data"]["type"], "event");
    assert_eq!(doc["data"]["id"], r.header("webhook-id"));
    assert_eq!(doc["data"]["attributes"]["name"], "inquiry.created");
    assert_eq!(
        doc["data"]["attributes"]["payload"]["data"]["id"],
        inquiry.as_str()
    );
    assert_eq!(r.header("persona-webhook-attempts-made"), "1");
    assert_eq!(r.header("persona-webhook-attempts-left"), "7");
    // Persona: integer Unix seconds.
    let first: i64 = r
        .header("persona-webhook-first-attempted-at")
        .parse()
        .unwrap();
    assert!((first - now).abs() < 300, "{first} vs {now}");
    let log = deliveries(&app, &org, &id).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["attributes"]["status"] == "succeeded"));
}

async fn failures_are_retried_with_one_webhook_id(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    rx.script([Answer::status(500), Answer::status(503)]);
    let (id, _) = webhook(&app, &org, &rx.url(), json!(["*"])).await;
    app.inquiry(&org.sandbox, json!({})).await;
    let worker = app.worker();
    for _ in 0..3 {
        worker.drain().await.unwrap();
        app.db.clock.advance_seconds(1);
    }
    let got = rx.received();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|r| r.header("webhook-id") == got[0].header("webhook-id"))
    );
    assert_eq!(
        got.iter()
            .map(|r| r.header("persona-webhook-attempts-made"))
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert!(
        got.iter()
            .all(|r| r.header("persona-webhook-first-attempted-at")
                == got[0].header("persona-webhook-first-attempted-at"))
    );
    assert!(
        got[0]
            .header("persona-webhook-first-attempted-at")
            .parse::<i64>()
            .is_ok(),
        "integer Unix seconds"
    );
    let log = deliveries(&app, &org, &id).await;
    let d = app
        .get(&format!(
            "/api/v1/webhook-deliveries/{}",
            log[0]["id"].as_str().unwrap()
        ))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(d.attr("status"), "succeeded");
    assert_eq!(d.attr("attempts-made"), 3);
    let attempts = d.attr("attempts").as_array().unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["response-status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [500, 503, 200]
    );
    assert_eq!(attempts[0]["response-body"], "ok");
}

async fn a_delivery_fails_after_eight_attempts_and_can_be_retried(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    rx.script((0..8).map(|_| Answer::status(500)));
    let (id, _) = webhook(&app, &org, &rx.url(), json!(["inquiry.created"])).await;
    app.inquiry(&org.sandbox, json!({})).await;
    let worker = app.worker();
    for _ in 0..10 {
        worker.drain().await.unwrap();
        app.db.clock.advance_seconds(200);
    }
    assert_eq!(rx.received().len(), 8);
    let d = &deliveries(&app, &org, &id).await[0];
    assert_eq!(d["attributes"]["status"], "failed");
    let did = d["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/webhook-deliveries/{did}/retry"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "pending");
    worker.drain().await.unwrap();
    assert_eq!(rx.received().len(), 9);
    let r = app
        .get(&format!("/api/v1/webhook-deliveries/{did}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "succeeded");
    let r = app
        .post(&format!("/api/v1/webhook-deliveries/{did}/retry"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(409);
    assert_eq!(r.code(), "delivery_not_retryable");
}

async fn disabling_cancels_pending_retries(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    rx.script([Answer::status(500)]);
    let (id, _) = webhook(&app, &org, &rx.url(), json!(["inquiry.created"])).await;
    app.inquiry(&org.sandbox, json!({})).await;
    let worker = app.worker();
    worker.drain().await.unwrap();
    let d = &deliveries(&app, &org, &id).await[0];
    assert_eq!(d["attributes"]["status"], "pending");
    assert!(d["attributes"]["next-attempt-at"].is_string());
    app.post(&format!("/api/v1/webhooks/{id}/disable"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    let d = &deliveries(&app, &org, &id).await[0];
    assert_eq!(d["attributes"]["status"], "canceled");
    app.db.clock.advance_seconds(60);
    worker.drain().await.unwrap();
    assert_eq!(rx.received().len(), 1, "no attempt after cancellation");
    // No deliveries while disabled; retry refused until enabled.
    app.inquiry(&org.sandbox, json!({})).await;
    assert_eq!(deliveries(&app, &org, &id).await.len(), 1);
    let did = d["id"].as_str().unwrap();
    app.post(&format!("/api/v1/webhook-deliveries/{did}/retry"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(409);
    app.post(&format!("/api/v1/webhooks/{id}/enable"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/webhook-deliveries/{did}/retry"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    worker.drain().await.unwrap();
    assert_eq!(rx.received().len(), 2);
    // Archive is final.
    app.post(&format!("/api/v1/webhooks/{id}/archive"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    let r = app
        .post(&format!("/api/v1/webhooks/{id}/enable"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(409);
    assert_eq!(r.code(), "invalid_status_transition");
}

async fn a_rotated_secret_keeps_signing_alongside(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let (id, old) = webhook(&app, &org, &rx.url(), json!(["inquiry.created"])).await;
    let r = app
        .post(&format!("/api/v1/webhooks/{id}/rotate-secret"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    let new = r.json["meta"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(r.attr("secret"), new.as_str());
    let overlap_end = tessera_core::Clock::now(&app.db.clock).plus_seconds(24 * 3600);
    assert_eq!(
        r.attr("secrets"),
        &json!([{"value": new, "expires-at": null},
            {"value": old, "expires-at": overlap_end.to_rfc3339()}]),
        "without expires-in-seconds the old secret signs for 24 hours"
    );
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    let now = chrono::Utc::now().timestamp();
    let sig = got[0].header("persona-signature");
    assert_eq!(
        sig.split(' ').count(),
        2,
        "two sets during the overlap: {sig}"
    );
    verify_persona_signature(sig, new.as_str(), &got[0].body, now, 300).unwrap();
    verify_persona_signature(sig, old.as_str(), &got[0].body, now, 300).unwrap();
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    // After the overlap only the new secret signs.
    app.db.clock.advance_seconds(24 * 3600 + 1);
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    let sig = got[1].header("persona-signature");
    assert_eq!(sig.split(' ').count(), 1);
}

async fn webhooks_are_validated(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let post = |body: serde_json::Value| {
        app.post("/api/v1/webhooks")
            .key(&org.sandbox)
            .json(body)
            .send()
    };
    let r = post(
        json!({"data": {"attributes": {"url": rx.url(), "enabled-events": ["inquiry.nope"]}}}),
    )
    .await
    .expect(422);
    assert_eq!(
        (r.code(), r.pointer()),
        ("unknown_event", "/data/attributes/enabled-events/0")
    );
    for url in [
        "http://10.0.0.1/h",
        "https://169.254.169.254/latest",
        "https://[::ffff:169.254.169.254]/",
        "ftp://example.com/",
        "not a url",
        "https://100.64.0.1/",
    ] {
        let r = post(json!({"data": {"attributes": {"url": url, "enabled-events": ["*"]}}}))
            .await
            .expect(422);
        assert_eq!(
            (r.code(), r.pointer()),
            ("invalid_url", "/data/attributes/url"),
            "{url}"
        );
    }
    let r = post(json!({"data": {"attributes": {"enabled-events": ["*"]}}}))
        .await
        .expect(422);
    assert_eq!(r.code(), "missing_attribute");
    assert_eq!(
        app.all(&org.sandbox, "/api/v1/webhooks").await.len(),
        0,
        "nothing was saved"
    );
    let (id, _) = webhook(&app, &org, &rx.url(), json!(["*"])).await;
    let r = app
        .patch(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"enabled-events": ["inquiry.approved"], "api-key-inflection": "camel"}}}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("enabled-events"), &json!(["inquiry.approved"]));
    assert_eq!(r.attr("api-key-inflection"), "camel");
    let other = app.org("Other").await;
    app.get(&format!("/api/v1/webhooks/{id}"))
        .key(&other.sandbox)
        .send()
        .await
        .expect(404);
    app.get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.production)
        .send()
        .await
        .expect(404);
}

async fn a_slow_endpoint_does_not_hold_back_others(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let slow = Receiver::start().await;
    slow.slow(Duration::from_secs(5));
    let fast = Receiver::start().await;
    webhook(&app, &org, &slow.url(), json!(["inquiry.created"])).await;
    webhook(&app, &org, &fast.url(), json!(["inquiry.created"])).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(app.worker().run(stop.clone()));
    for _ in 0..10 {
        app.inquiry(&org.sandbox, json!({})).await;
    }
    let got = fast.wait_for(10, Duration::from_secs(10)).await;
    assert_eq!(
        got.len(),
        10,
        "every delivery to the healthy endpoint arrived while the slow one hangs"
    );
    assert!(
        slow.received().len() <= tessera_server::worker::PER_ENDPOINT,
        "the slow endpoint holds a bounded number of attempts"
    );
    stop.cancel();
    let _ = running.await;
}

async fn a_killed_worker_delivery_is_attempted_again(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let (id, _) = webhook(&app, &org, &rx.url(), json!(["inquiry.created"])).await;
    app.inquiry(&org.sandbox, json!({})).await;
    // A worker claims the attempt and dies before sending it.
    app.db
        .store
        .write(tessera_store::units::jobs::claim(
            "dead-worker".into(),
            60_000,
            10,
        ))
        .await
        .unwrap();
    app.worker().drain().await.unwrap();
    assert_eq!(rx.received().len(), 0);
    app.db.clock.advance_seconds(61);
    app.worker().drain().await.unwrap();
    assert_eq!(rx.received().len(), 1);
    assert_eq!(
        deliveries(&app, &org, &id).await[0]["attributes"]["status"],
        "succeeded"
    );
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    rx.script([Answer {
        status: 429,
        delay: Duration::ZERO,
        headers: vec![("retry-after", "100000".into())],
    }]);
    let (id, _) = webhook(&app, &org, &rx.url(), json!(["inquiry.created"])).await;
    app.inquiry(&org.sandbox, json!({})).await;
    let start = tessera_core::Clock::now(&app.db.clock);
    app.worker().drain().await.unwrap();
    let d = &deliveries(&app, &org, &id).await[0];
    let next = tessera_core::Timestamp::parse_rfc3339(
        d["attributes"]["next-attempt-at"].as_str().unwrap(),
    )
    .unwrap();
    // 100000 s scaled by 0.001 is 100 s, far longer than the scaled schedule's first step (3 ms).
    assert!(
        next.millis() - start.millis() >= 99_000,
        "next attempt in {} ms",
        next.millis() - start.millis()
    );
}

on_both_backends!(
    a_delivery_is_signed_both_ways,
    failures_are_retried_with_one_webhook_id,
    a_delivery_fails_after_eight_attempts_and_can_be_retried,
    disabling_cancels_pending_retries,
    a_rotated_secret_keeps_signing_alongside,
    webhooks_are_validated,
    a_slow_endpoint_does_not_hold_back_others,
    a_killed_worker_delivery_is_attempted_again,
    retry_after_is_honoured,
);
