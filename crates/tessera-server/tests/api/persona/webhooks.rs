//! Webhooks: create/list/retrieve/patch/enable/disable/archive/rotate-secret/clone, and the
//! requests a receiver gets (`webhooks.<event>` of the description, for every event Tessera
//! emits that Persona documents).

use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Run, Who, app, id_of, unknown_id};
use crate::receiver::{Answer, Receiver};
use crate::support::Part;

/// Persona's own example of a webhook create body, pointed at `url`.
fn persona_webhook(url: &str, events: Value) -> Value {
    json!({"data": {"attributes": {
        "name": "Inquiry Webhook",
        "description": "every inquiry event",
        "url": url,
        "enabled-events": events,
        "api-key-inflection": "kebab",
        "included-allowlist": {"state": "include_all"}
    }}})
}

async fn webhooks_follow_persona(backend: Backend) {
    let app = app(backend).await;
    let a = app.org("Acme").await;
    let me = Who::sandbox("owner", &a);
    let rx = Receiver::start().await;
    let mut run = Run::new(&app, "webhooks", backend);

    // Create, as Persona documents it.
    let r = run
        .post(
            &me,
            "/webhooks",
            Some(persona_webhook(
                &rx.url(),
                json!([
                    "inquiry.created",
                    "inquiry.transitioned",
                    "verification.passed"
                ]),
            )),
            201,
        )
        .await;
    let hook = id_of(&r, "wbh");
    let r = run
        .post(
            &me,
            "/webhooks?include=",
            Some(persona_webhook(&rx.url(), json!(["*"]))),
            201,
        )
        .await;
    let all = id_of(&r, "wbh");
    run.post(
        &me,
        "/webhooks",
        Some(persona_webhook("not a url", json!(["*"]))),
        422,
    )
    .await;
    run.post(
        &me,
        "/webhooks",
        Some(persona_webhook(&rx.url(), json!(["no.such-event"]))),
        422,
    )
    .await;

    // Read, change, and every action.
    run.get(&me, "/webhooks", 200).await;
    run.get(&me, "/webhooks?page[size]=1", 200).await;
    run.get(&me, &format!("/webhooks/{hook}"), 200).await;
    run.get(&me, &format!("/webhooks/{}", unknown_id(&hook)), 404)
        .await;
    run.call(
        &me,
        Method::PATCH,
        &format!("/webhooks/{hook}"),
        Some(json!({"data": {"attributes": {"name": "Renamed",
            "enabled-events": ["inquiry.created", "inquiry.completed"]}}})),
        200,
    )
    .await;
    run.call(
        &me,
        Method::PATCH,
        &format!("/webhooks/{hook}"),
        Some(json!({"data": {"attributes": {"url": "not a url"}}})),
        422,
    )
    .await;
    run.post(&me, &format!("/webhooks/{hook}/disable"), None, 200)
        .await;
    run.post(
        &me,
        &format!("/webhooks/{hook}/enable"),
        Some(json!({"data": {"attributes": {}}})),
        200,
    )
    .await;
    run.post(
        &me,
        &format!("/webhooks/{hook}/rotate-secret"),
        Some(json!({"meta": {"expires-in-seconds": 3600}})),
        200,
    )
    .await;
    let r = run
        .post(&me, &format!("/webhooks/{hook}/clone"), None, 200)
        .await;
    let cloned = id_of(&r, "wbh");
    run.post(&me, &format!("/webhooks/{cloned}/archive"), None, 200)
        .await;
    run.post(&me, &format!("/webhooks/{cloned}/enable"), None, 409)
        .await;
    run.post(
        &me,
        &format!("/webhooks/{}/disable", unknown_id(&hook)),
        None,
        404,
    )
    .await;

    // The receiver: a webhook on every event (the one Persona's body created, else one made
    // with the body Tessera takes today, so that the deliveries are still checked).
    if app
        .get(&format!("/api/v1/webhooks/{all}"))
        .key(&a.sandbox)
        .send()
        .await
        .status
        .as_u16()
        != 200
    {
        run.problem("could not create a webhook on every event as Persona documents: deliveries are checked through a webhook made with Tessera's own body");
        app.post("/api/v1/webhooks")
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": {"url": rx.url(), "enabled-events": ["*"]}}}))
            .send()
            .await;
    }
    // The first attempt of one delivery fails, so retried deliveries are checked too.
    rx.script([Answer::status(500)]);
    let inq = app.inquiry(&a.sandbox, json!({"name-first": "Jane"})).await;
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "government-id", "status": "passed",
               "attributes": {"name-first": "Jane"}}),
    )
    .await;
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "selfie", "status": "failed"}),
    )
    .await;
    app.upload(
        &a.sandbox,
        &inq,
        &[
            Part::text("kind", "government-id-front"),
            Part::file(
                "front.png",
                "image/png",
                vec![0x89, b'P', b'N', b'G', 1, 2, 3],
            ),
        ],
    )
    .await;
    app.act(&a.sandbox, &inq, "complete").await;
    app.act(&a.sandbox, &inq, "mark-for-review").await;
    app.act(&a.sandbox, &inq, "approve").await;
    let declined = app.completed_inquiry(&a.sandbox, json!({})).await;
    app.act(&a.sandbox, &declined, "decline").await;
    let expired = app.inquiry(&a.sandbox, json!({})).await;
    app.act(&a.sandbox, &expired, "expire").await;
    let failed = app.inquiry(&a.sandbox, json!({})).await;
    app.act(&a.sandbox, &failed, "fail").await;
    app.delete(&format!("/api/v1/inquiries/{declined}"))
        .key(&a.sandbox)
        .send()
        .await;
    app.post(&format!("/api/v1/inquiries/{inq}/add-tag"))
        .key(&a.sandbox)
        .json(json!({"meta": {"tag-name": "vip"}}))
        .send()
        .await;
    for _ in 0..5 {
        app.drain().await;
        app.db.clock.advance_seconds(60);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let received = rx.received();
    let undocumented = run.check_webhooks(&received);
    let names: Vec<String> = received
        .iter()
        .filter_map(|r| {
            r.json()["data"]["attributes"]["name"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    for expected in [
        "inquiry.created",
        "inquiry.completed",
        "inquiry.marked-for-review",
        "inquiry.approved",
        "inquiry.declined",
        "inquiry.expired",
        "inquiry.failed",
        "inquiry.redacted",
        "inquiry.updated-tags",
        "verification.passed",
        "verification.failed",
        "document.created",
    ] {
        if !names.iter().any(|n| n == expected) {
            run.problem(format!(
                "[webhook {expected}] no {expected} delivery reached the receiver (got {names:?})"
            ));
        }
    }
    eprintln!("webhook events Persona documents no body for (not checked): {undocumented:?}");
    run.finish();
}

on_both_backends!(webhooks_follow_persona);
