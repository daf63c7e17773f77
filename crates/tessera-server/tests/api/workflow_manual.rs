//! §3.8 manual triggers: a workflow runs now on an inquiry, share token or connection of the
//! caller, whatever its trigger says; what its steps cannot act on is refused.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;
use crate::workflows::{refused, runs, workflow};

async fn a_manual_trigger_runs_now_on_an_object(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let cxn = app.active_connection(&a, &b).await;
    let id = workflow(
        &app,
        &a.sandbox,
        json!({"event": "inquiry.approved",
        "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "never"}]}),
        json!([{"type": "tag-inquiry", "tag": "manual"}]),
    )
    .await;
    let inquiry = app.completed_inquiry(&a.sandbox, json!({})).await;
    let trigger = |object: Value| {
        app.post(&format!("/api/v1/workflows/{id}/trigger"))
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": {"object-id": object}}}))
            .send()
    };
    // Conditions and the trigger's event do not apply: the run is made now.
    let r = trigger(json!(inquiry)).await.expect(201);
    assert_eq!(r.json["data"]["type"], "workflow-run");
    assert!(r.id().starts_with("wfr_"));
    assert_eq!(r.attr("status"), "pending");
    assert_eq!(
        r.json["data"]["relationships"]["trigger-event"]["data"],
        Value::Null
    );
    assert_eq!(
        r.json["data"]["relationships"]["workflow"]["data"],
        json!({"type": "workflow", "id": id})
    );
    assert_eq!(
        r.json["data"]["relationships"]["object"]["data"],
        json!({"type": "inquiry", "id": inquiry})
    );
    app.worker().drain().await.unwrap();
    let run = app
        .get(&format!("/api/v1/workflow-runs/{}", r.id()))
        .key(&a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(run.attr("status"), "completed");
    assert!(run.attr("completed-at").is_string());
    assert_eq!(
        app.show_inquiry(&a.sandbox, &inquiry).await.attr("tags"),
        &json!(["manual"])
    );

    // What the steps cannot act on, or the caller cannot see, is refused.
    refused(
        trigger(json!(cxn)).await,
        "invalid_trigger_object",
        "/data/attributes/object-id",
    );
    refused(
        trigger(json!("evt_0000000000000000000000")).await,
        "invalid_trigger_object",
        "/data/attributes/object-id",
    );
    refused(
        trigger(json!("nope")).await,
        "invalid_trigger_object",
        "/data/attributes/object-id",
    );
    let theirs = app.inquiry(&b.sandbox, json!({})).await;
    let r = trigger(json!(theirs)).await.expect(404);
    assert_eq!(r.pointer(), "/data/attributes/object-id");
    refused(
        trigger(Value::Null).await,
        "missing_attribute",
        "/data/attributes/object-id",
    );
    // An inactive workflow does not run, not even by hand.
    app.patch(&format!("/api/v1/workflows/{id}"))
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"status": "inactive"}}}))
        .send()
        .await
        .expect(200);
    let r = trigger(json!(inquiry)).await.expect(409);
    assert_eq!(r.code(), "workflow_not_active");
    assert_eq!(runs(&app, &a.sandbox, &id).await.len(), 1);
}

async fn connections_and_tokens_can_be_triggered_by_hand(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    // B accepts A's connection by a manual run.
    let cxn = app
        .post("/api/v1/connect/connections")
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"destination-organization-id": b.id}}}))
        .send()
        .await
        .expect(201)
        .id();
    let accept = workflow(
        &app,
        &b.sandbox,
        json!({"event": "connect/connection.inbound-reactivated"}),
        json!([{"type": "activate-connection"}]),
    )
    .await;
    let run = app
        .post(&format!("/api/v1/workflows/{accept}/trigger"))
        .key(&b.sandbox)
        .json(json!({"data": {"attributes": {"object-id": cxn}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(
        run.json["data"]["relationships"]["object"]["data"]["type"],
        "connect/connection"
    );
    app.worker().drain().await.unwrap();
    let c = app
        .get(&format!("/api/v1/connect/connections/{cxn}"))
        .key(&b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(c.attr("status"), "active");
    let r = runs(&app, &b.sandbox, &accept).await;
    assert_eq!(
        r[0]["attributes"]["steps"][0]["output"],
        json!({"connection-id": cxn, "status": "active"})
    );
    // A, the source, cannot run an inbound-only step on it.
    let a_accept = workflow(
        &app,
        &a.sandbox,
        json!({"event": "connect/connection.inbound-created"}),
        json!([{"type": "activate-connection"}]),
    )
    .await;
    refused(
        app.post(&format!("/api/v1/workflows/{a_accept}/trigger"))
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": {"object-id": cxn}}}))
            .send()
            .await,
        "invalid_trigger_object",
        "/data/attributes/object-id",
    );
    // B redeems a token by a manual run.
    let inquiry = app
        .completed_inquiry(&a.sandbox, json!({"name-first": "Jane"}))
        .await;
    let token = app.share_token(&a.sandbox, &cxn, &inquiry).await;
    let redeem = workflow(
        &app,
        &b.sandbox,
        json!({"event": "connect/share-token.inbound-expired"}),
        json!([{"type": "redeem-share-token"}]),
    )
    .await;
    app.post(&format!("/api/v1/workflows/{redeem}/trigger"))
        .key(&b.sandbox)
        .json(json!({"data": {"attributes": {"object-id": token}}}))
        .send()
        .await
        .expect(201);
    app.worker().drain().await.unwrap();
    let t = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(t.attr("status"), "redeemed");
}

on_both_backends!(
    a_manual_trigger_runs_now_on_an_object,
    connections_and_tokens_can_be_triggered_by_hand,
);
