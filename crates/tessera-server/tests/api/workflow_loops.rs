//! §3.8 workflows that act on each other, and `http-request` steps: a run's own events never
//! start its workflow again, chains of runs stop at the depth limit (also across organizations,
//! through a redemption), and HTTP steps reach a real receiver signed like webhooks.

use serde_json::{Value, json};
use tessera_core::signing::{verify_persona_signature, verify_standard_signature};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::receiver::{Answer, Receiver};
use crate::support::App;
use crate::workflows::{post_workflow, runs, step_statuses, workflow};

async fn a_workflow_does_not_trigger_itself(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let id = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.updated"}),
        json!([{"type": "tag-inquiry", "tag": "auto"}]),
    )
    .await;
    let inquiry = app.inquiry(&org.sandbox, json!({})).await;
    app.patch(&format!("/api/v1/inquiries/{inquiry}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"note": "changed"}}}))
        .send()
        .await
        .expect(200);
    app.worker().drain().await.unwrap();
    let r = runs(&app, &org.sandbox, &id).await;
    assert_eq!(
        r.len(),
        1,
        "its own inquiry.updated does not start it again"
    );
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(
        app.show_inquiry(&org.sandbox, &inquiry).await.attr("tags"),
        &json!(["auto"])
    );
    let updates = app
        .all(&org.sandbox, "/api/v1/events?filter[name]=inquiry.updated")
        .await;
    assert_eq!(updates.len(), 2, "the API's update and the run's");
    assert_eq!(app.worker().drain().await.unwrap(), 0, "nothing left to do");
}

async fn a_ping_pong_stops_at_the_depth_limit(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let ping = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.updated"}),
        json!([{"type": "tag-inquiry", "tag": "ping"}]),
    )
    .await;
    let pong = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.updated"}),
        json!([{"type": "tag-inquiry", "tag": "pong"}]),
    )
    .await;
    let inquiry = app.inquiry(&org.sandbox, json!({})).await;
    app.patch(&format!("/api/v1/inquiries/{inquiry}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"note": "go"}}}))
        .send()
        .await
        .expect(200);
    app.worker().drain().await.unwrap();
    // Both start on the API's update (depth 1); each one's update starts the other, one level
    // deeper, until depth 5: five runs each.
    for id in [&ping, &pong] {
        let r = runs(&app, &org.sandbox, id).await;
        assert_eq!(r.len(), 5, "{id}");
        assert!(r.iter().all(|r| r["attributes"]["status"] == "completed"));
    }
    assert_eq!(
        app.worker().drain().await.unwrap(),
        0,
        "the chain has ended"
    );
    let updates = app
        .all(&org.sandbox, "/api/v1/events?filter[name]=inquiry.updated")
        .await;
    assert_eq!(updates.len(), 11);
}

async fn a_chain_makes_at_most_its_budget_of_runs(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    // Twelve workflows that each start the other eleven: 12 runs at depth 1, 132 at depth 2...
    for i in 0..12 {
        workflow(
            &app,
            &org.sandbox,
            json!({"event": "inquiry.updated"}),
            json!([{"type": "tag-inquiry", "tag": format!("t{i}")}]),
        )
        .await;
    }
    let inquiry = app.inquiry(&org.sandbox, json!({})).await;
    app.patch(&format!("/api/v1/inquiries/{inquiry}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"note": "go"}}}))
        .send()
        .await
        .expect(200);
    app.worker().drain().await.unwrap();
    // ...but one chain makes at most 100.
    let all = app.all(&org.sandbox, "/api/v1/workflow-runs").await;
    assert_eq!(all.len(), 100);
    assert!(all.iter().all(|r| r["attributes"]["status"] == "completed"));
}

async fn the_depth_carries_across_organizations_through_a_redemption(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let cxn = app.active_connection(&a, &b).await;
    // depth 1 (A): share on approval.
    workflow(
        &app,
        &a.sandbox,
        json!({"event": "inquiry.approved"}),
        json!([{"type": "create-share-token", "connection-id": cxn}]),
    )
    .await;
    // depth 2 (B): redeem; 3: approve the completed copy; 4: tag it on approval.
    let redeem = workflow(
        &app,
        &b.sandbox,
        json!({"event": "connect/share-token.inbound-created"}),
        json!([{"type": "redeem-share-token"}]),
    )
    .await;
    let approve = workflow(
        &app,
        &b.sandbox,
        json!({"event": "inquiry.completed"}),
        json!([{"type": "approve-inquiry"}]),
    )
    .await;
    let tag = workflow(
        &app,
        &b.sandbox,
        json!({"event": "inquiry.approved"}),
        json!([{"type": "tag-inquiry", "tag": "approved"}]),
    )
    .await;
    // depth 5: both start on the depth-4 update; the update each makes would start the other at
    // depth 6, which is not made.
    let x = workflow(
        &app,
        &b.sandbox,
        json!({"event": "inquiry.updated"}),
        json!([{"type": "tag-inquiry", "tag": "x"}]),
    )
    .await;
    let y = workflow(
        &app,
        &b.sandbox,
        json!({"event": "inquiry.updated"}),
        json!([{"type": "tag-inquiry", "tag": "y"}]),
    )
    .await;
    let inquiry = app
        .completed_inquiry(&a.sandbox, json!({"name-first": "Jane"}))
        .await;
    app.act(&a.sandbox, &inquiry, "approve").await.expect(200);
    app.worker().drain().await.unwrap();
    for id in [&redeem, &approve, &tag, &x, &y] {
        let r = runs(&app, &b.sandbox, id).await;
        assert_eq!(r.len(), 1, "{id}");
        assert_eq!(r[0]["attributes"]["status"], "completed", "{id}");
    }
    let copy = app.ids(&b.sandbox, "/api/v1/inquiries").await;
    let mut tags: Vec<String> = serde_json::from_value(
        app.show_inquiry(&b.sandbox, &copy[0])
            .await
            .attr("tags")
            .clone(),
    )
    .unwrap();
    tags.sort();
    assert_eq!(tags, ["approved", "x", "y"]);
}

async fn hook_app(backend: Backend) -> App {
    App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        c.webhook_retry_scale = 0.001;
        c.webhook_timeout_ms = 1000;
    })
    .await
}

async fn an_http_step_posts_the_event_signed(backend: Backend) {
    let app = hook_app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let created = post_workflow(&app, &org.sandbox, json!({"trigger": {"event": "inquiry.created"},
        "steps": [{"type": "http-request", "url": rx.url()}, {"type": "tag-inquiry", "tag": "sent"}]}))
        .await
        .expect(201);
    let (id, secret) = (
        created.id(),
        created.json["meta"]["secret"].as_str().unwrap().to_owned(),
    );
    let inquiry = app
        .inquiry(&org.sandbox, json!({"name-first": "Jane"}))
        .await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    let now = chrono::Utc::now().timestamp();
    verify_persona_signature(
        req.header("persona-signature"),
        &secret,
        &req.body,
        now,
        300,
    )
    .unwrap();
    verify_standard_signature(
        &secret,
        req.header("webhook-id"),
        req.header("webhook-timestamp"),
        req.header("webhook-signature"),
        &req.body,
        now,
        300,
    )
    .unwrap();
    assert!(
        verify_persona_signature(
            req.header("persona-signature"),
            "wflsec_wrong",
            &req.body,
            now,
            300
        )
        .is_err()
    );
    assert_eq!(req.header("content-type"), "application/json");
    let doc = req.json();
    assert_eq!(doc["data"]["type"], "event");
    assert_eq!(doc["data"]["attributes"]["name"], "inquiry.created");
    assert_eq!(
        doc["data"]["attributes"]["payload"]["data"]["id"],
        inquiry.as_str()
    );
    let r = runs(&app, &org.sandbox, &id).await;
    let run_id = r[0]["id"].as_str().unwrap();
    assert_eq!(req.header("webhook-id"), format!("{run_id}_0"));
    assert_eq!(
        doc["data"]["id"],
        r[0]["relationships"]["trigger-event"]["data"]["id"]
    );
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(
        r[0]["attributes"]["steps"][0]["output"],
        json!({"response-status": 200})
    );
    assert_eq!(
        app.show_inquiry(&org.sandbox, &inquiry).await.attr("tags"),
        &json!(["sent"])
    );
}

async fn a_failed_http_step_is_retried_then_fails_the_run(backend: Backend) {
    let app = hook_app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    rx.script([Answer::status(500)]);
    let id = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.created"}),
        json!([{"type": "http-request", "url": rx.url()}]),
    )
    .await;
    app.inquiry(&org.sandbox, json!({})).await;
    let worker = app.worker();
    worker.drain().await.unwrap();
    let r = runs(&app, &org.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "running");
    assert_eq!(
        r[0]["attributes"]["steps"][0]["error"]["code"],
        "http_request_failed"
    );
    app.db.clock.advance_seconds(60);
    worker.drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header("webhook-id"),
        got[1].header("webhook-id"),
        "one message, two attempts"
    );
    let r = runs(&app, &org.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(r[0]["attributes"]["steps"][0]["error"], Value::Null);

    // A receiver that never answers 2xx: five attempts, then the run fails.
    app.patch(&format!("/api/v1/workflows/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"status": "inactive"}}}))
        .send()
        .await
        .expect(200);
    let down = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.completed"}),
        json!([{"type": "http-request", "url": rx.url()}, {"type": "tag-inquiry", "tag": "never"}]),
    )
    .await;
    rx.script((0..5).map(|_| Answer::status(503)));
    let inquiry = app.completed_inquiry(&org.sandbox, json!({})).await;
    for _ in 0..6 {
        worker.drain().await.unwrap();
        app.db.clock.advance_seconds(600);
    }
    assert_eq!(rx.received().len(), 2 + 5);
    let r = runs(&app, &org.sandbox, &down).await;
    assert_eq!(r[0]["attributes"]["status"], "failed");
    assert_eq!(step_statuses(&r[0]), ["failed", "skipped"]);
    let error = &r[0]["attributes"]["steps"][0]["error"];
    assert_eq!(
        (error["status"].clone(), error["code"].clone()),
        (json!(502), json!("http_request_failed"))
    );
    assert!(
        error["details"].as_str().unwrap().contains("503"),
        "{error}"
    );
    assert_eq!(
        app.show_inquiry(&org.sandbox, &inquiry).await.attr("tags"),
        &json!([])
    );
}

async fn a_manual_runs_http_step_posts_the_object(backend: Backend) {
    let app = hook_app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let id = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.approved"}),
        json!([{"type": "http-request", "url": rx.url()}]),
    )
    .await;
    let inquiry = app.inquiry(&org.sandbox, json!({})).await;
    app.post(&format!("/api/v1/workflows/{id}/trigger"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"object-id": inquiry}}}))
        .send()
        .await
        .expect(201);
    app.worker().drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["type"], "inquiry");
    assert_eq!(got[0].json()["data"]["id"], inquiry.as_str());
}

async fn private_addresses_are_refused_at_save(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    for url in [
        rx.url(),
        "http://10.1.2.3/x".into(),
        "http://[::1]/x".into(),
        "https://user:pw@example.com/".into(),
    ] {
        let r = post_workflow(
            &app,
            &org.sandbox,
            json!({"trigger": {"event": "inquiry.created"},
            "steps": [{"type": "http-request", "url": url}]}),
        )
        .await
        .expect(422);
        assert_eq!(
            (r.code(), r.pointer()),
            ("invalid_url", "/data/attributes/steps/0/url"),
            "{url}"
        );
    }
}

on_both_backends!(
    a_workflow_does_not_trigger_itself,
    a_ping_pong_stops_at_the_depth_limit,
    a_chain_makes_at_most_its_budget_of_runs,
    the_depth_carries_across_organizations_through_a_redemption,
    an_http_step_posts_the_event_signed,
    a_failed_http_step_is_retried_then_fails_the_run,
    a_manual_runs_http_step_posts_the_object,
    private_addresses_are_refused_at_save,
);
