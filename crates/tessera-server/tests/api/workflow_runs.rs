//! §3.8 workflow runs: the hands-free flow across two organizations, conditions, inactive
//! workflows, failing steps, snapshots, and durability (a crash mid-run resumes at the first
//! unfinished step and repeats nothing).

use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::App;
use crate::workflows::{runs, step_statuses, workflow};

async fn an_approval_shares_and_the_partner_redeems_hands_free(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let cxn = app.active_connection(&a, &b).await;
    let share = workflow(
        &app,
        &a.sandbox,
        json!({"event": "inquiry.approved",
            "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "share"}]}),
        json!([{"type": "create-share-token", "connection-id": cxn, "expires-in-seconds": 3600}]),
    )
    .await;
    let redeem = workflow(
        &app,
        &b.sandbox,
        json!({"event": "connect/share-token.inbound-created"}),
        json!([{"type": "redeem-share-token",
            "field-mappings": [{"source-field-name": "name-first", "destination-field-name": "given-name"}]}]),
    )
    .await;
    let inquiry = app
        .post("/api/v1/inquiries")
        .key(&a.sandbox)
        .json(json!({"data": {"attributes": {"tags": ["share"],
            "fields": {"name-first": "Jane", "birthdate": "1990-04-01"}}}}))
        .send()
        .await
        .expect(201)
        .id();
    app.verify(&a.sandbox, &inquiry, "government-id", "passed")
        .await
        .expect(201);
    app.act(&a.sandbox, &inquiry, "complete").await.expect(200);
    app.worker().drain().await.unwrap();
    assert!(
        runs(&app, &a.sandbox, &share).await.is_empty(),
        "completion is not approval"
    );

    // One API call; everything else is automation.
    app.act(&a.sandbox, &inquiry, "approve").await.expect(200);
    app.worker().drain().await.unwrap();

    let source_runs = runs(&app, &a.sandbox, &share).await;
    assert_eq!(source_runs.len(), 1);
    let run = &source_runs[0];
    assert_eq!(run["attributes"]["status"], "completed");
    let step = &run["attributes"]["steps"][0];
    assert_eq!(step["type"], "create-share-token");
    assert_eq!(step["status"], "completed");
    assert_eq!(step["error"], Value::Null);
    assert!(step["started-at"].is_string() && step["finished-at"].is_string());
    let token = step["output"]["share-token-id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approved_event = app
        .all(
            &a.sandbox,
            &format!("/api/v1/events?filter[name]=inquiry.approved&filter[object-id]={inquiry}"),
        )
        .await;
    assert_eq!(
        run["relationships"]["trigger-event"]["data"],
        json!({"type": "event", "id": approved_event[0]["id"]})
    );

    // The token was made by the workflow, and redeemed by the partner's workflow.
    let t = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        t.json["data"]["relationships"]["creator"]["data"],
        json!({"type": "workflow", "id": share})
    );
    assert_eq!(t.attr("status"), "redeemed");
    let dest_runs = runs(&app, &b.sandbox, &redeem).await;
    assert_eq!(dest_runs.len(), 1);
    assert_eq!(dest_runs[0]["attributes"]["status"], "completed");
    assert_eq!(
        dest_runs[0]["attributes"]["steps"][0]["output"]["share-token-id"],
        token.as_str()
    );
    // The destination's view names the copy.
    let inbound = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(inbound.attr("redeem-mode"), "clone");
    let dest = inbound.json["data"]["relationships"]["destination"]["data"]["id"]
        .as_str()
        .unwrap();
    let copy = app.show_inquiry(&b.sandbox, dest).await;
    assert_eq!(copy.attr("status"), "completed");
    assert_eq!(copy.attr("fields")["given-name"]["value"], "Jane");
    assert_eq!(copy.attr("shared-from")["inquiry-id"], inquiry.as_str());

    // Each side saw its runs come and go as events.
    for key in [&a.sandbox, &b.sandbox] {
        let names = app.event_log(key).await;
        for name in ["workflow-run.created", "workflow-run.completed"] {
            assert_eq!(
                names.iter().filter(|n| *n == name).count(),
                1,
                "{name}: {names:?}"
            );
        }
    }
}

async fn conditions_decide_and_every_op_works(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let conditions = [
        (
            "eq",
            json!({"path": "/data/attributes/reference-id", "op": "eq", "value": "ref-1"}),
        ),
        (
            "ne",
            json!({"path": "/data/attributes/reference-id", "op": "ne", "value": "ref-1"}),
        ),
        (
            "in",
            json!({"path": "/data/attributes/fields/age/value", "op": "in", "value": [30, 40]}),
        ),
        (
            "contains",
            json!({"path": "/data/attributes/tags", "op": "contains", "value": "vip"}),
        ),
        (
            "exists",
            json!({"path": "/data/attributes/note", "op": "exists"}),
        ),
        (
            "missing",
            json!({"path": "/data/attributes/note", "op": "exists", "value": false}),
        ),
    ];
    let mut ids = Vec::new();
    for (op, c) in &conditions {
        ids.push(
            workflow(
                &app,
                &org.sandbox,
                json!({"event": "inquiry.created", "conditions": [c]}),
                json!([{"type": "tag-inquiry", "tag": op}]),
            )
            .await,
        );
    }
    let both = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.created", "conditions": [
        {"path": "/data/attributes/reference-id", "op": "eq", "value": "ref-1"},
        {"path": "/data/attributes/tags", "op": "contains", "value": "nope"}]}),
        json!([{"type": "tag-inquiry", "tag": "both"}]),
    )
    .await;
    let create = |attributes: Value| {
        app.post("/api/v1/inquiries")
            .key(&org.sandbox)
            .json(json!({"data": {"attributes": attributes}}))
            .send()
    };
    let first = create(
        json!({"reference-id": "ref-1", "tags": ["vip"], "note": "hello",
        "fields": {"age": 30}}),
    )
    .await
    .expect(201)
    .id();
    let second = create(json!({"reference-id": "ref-2", "fields": {"age": 50}}))
        .await
        .expect(201)
        .id();
    app.worker().drain().await.unwrap();
    // Runs are separate jobs: their tags may land in any order.
    assert_eq!(
        tags(&app, &org.sandbox, &first).await,
        ["contains", "eq", "exists", "in", "vip"]
    );
    assert_eq!(tags(&app, &org.sandbox, &second).await, ["missing", "ne"]);
    assert!(
        runs(&app, &org.sandbox, &both).await.is_empty(),
        "all conditions must hold"
    );
    for (id, (op, _)) in ids.iter().zip(&conditions) {
        let r = runs(&app, &org.sandbox, id).await;
        assert_eq!(r.len(), 1, "{op}");
        let object = &r[0]["relationships"]["object"]["data"]["id"];
        let expected = if ["ne", "missing"].contains(op) {
            &second
        } else {
            &first
        };
        assert_eq!(object, expected.as_str(), "{op}");
    }
}

/// An inquiry's tags, sorted.
async fn tags(app: &App, key: &str, id: &str) -> Vec<String> {
    let mut t: Vec<String> =
        serde_json::from_value(app.show_inquiry(key, id).await.attr("tags").clone()).unwrap();
    t.sort();
    t
}

async fn inactive_workflows_do_not_run(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let id = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.created"}),
        json!([{"type": "tag-inquiry", "tag": "seen"}]),
    )
    .await;
    let set = |status: &'static str| {
        app.patch(&format!("/api/v1/workflows/{id}"))
            .key(&org.sandbox)
            .json(json!({"data": {"attributes": {"status": status}}}))
            .send()
    };
    set("inactive").await.expect(200);
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    assert!(runs(&app, &org.sandbox, &id).await.is_empty());
    set("active").await.expect(200);
    let seen = app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let r = runs(&app, &org.sandbox, &id).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["relationships"]["object"]["data"]["id"], seen.as_str());
}

async fn a_failing_step_fails_the_run_and_stops_it(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let id = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.created"}),
        json!([{"type": "tag-inquiry", "tag": "first"}, {"type": "approve-inquiry"},
               {"type": "tag-inquiry", "tag": "never"}]),
    )
    .await;
    let inquiry = app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let r = runs(&app, &org.sandbox, &id).await;
    assert_eq!(r.len(), 1);
    let run = &r[0];
    assert_eq!(run["attributes"]["status"], "failed");
    assert!(run["attributes"]["completed-at"].is_string());
    assert_eq!(step_statuses(run), ["completed", "failed", "skipped"]);
    let failed = &run["attributes"]["steps"][1];
    assert_eq!(failed["error"]["status"], 409);
    assert_eq!(failed["error"]["code"], "invalid_status_transition");
    assert!(
        failed["error"]["details"]
            .as_str()
            .unwrap()
            .contains("created")
    );
    assert_eq!(failed["output"], Value::Null);
    let skipped = &run["attributes"]["steps"][2];
    assert_eq!(
        (skipped["started-at"].clone(), skipped["error"].clone()),
        (Value::Null, Value::Null)
    );
    let i = app.show_inquiry(&org.sandbox, &inquiry).await;
    assert_eq!(i.attr("tags"), &json!(["first"]), "later steps did not run");
    assert_eq!(i.attr("status"), "created");
    let names = app.event_log(&org.sandbox).await;
    assert!(
        names.contains(&"workflow-run.failed".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"workflow-run.completed".to_owned()),
        "{names:?}"
    );
    let failed_event = app
        .all(
            &org.sandbox,
            "/api/v1/events?filter[name]=workflow-run.failed",
        )
        .await;
    assert_eq!(
        failed_event[0]["attributes"]["payload"]["data"]["id"],
        run["id"]
    );
}

async fn a_run_keeps_the_steps_it_was_made_with(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let id = workflow(
        &app,
        &org.sandbox,
        json!({"event": "inquiry.created"}),
        json!([{"type": "tag-inquiry", "tag": "v1"}]),
    )
    .await;
    let inquiry = app.inquiry(&org.sandbox, json!({})).await;
    app.patch(&format!("/api/v1/workflows/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"steps": [{"type": "tag-inquiry", "tag": "v2"}, {"type": "approve-inquiry"}]}}}))
        .send()
        .await
        .expect(200);
    app.worker().drain().await.unwrap();
    assert_eq!(
        app.show_inquiry(&org.sandbox, &inquiry).await.attr("tags"),
        &json!(["v1"])
    );
    let r = runs(&app, &org.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(step_statuses(&r[0]), ["completed"]);
}

/// A workflow that shares a completed inquiry, then approves it.
async fn share_then_approve(app: &App) -> (crate::support::Org, String, String) {
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let cxn = app.active_connection(&a, &b).await;
    let id = workflow(
        app,
        &a.sandbox,
        json!({"event": "inquiry.completed"}),
        json!([{"type": "create-share-token", "connection-id": cxn}, {"type": "approve-inquiry"}]),
    )
    .await;
    let inquiry = app.inquiry(&a.sandbox, json!({"name-first": "Jane"})).await;
    (a, id, inquiry)
}

async fn tokens(app: &App, key: &str) -> Vec<String> {
    app.ids(key, "/api/v1/connect/share-tokens").await
}

async fn a_crash_before_a_step_commits_leaves_nothing_behind(backend: Backend) {
    let app = App::new(backend).await;
    let (a, id, inquiry) = share_then_approve(&app).await;
    let worker = app.worker();
    worker
        .faults
        .fail_workflow_steps_after_effect
        .store(1, Ordering::SeqCst);
    app.act(&a.sandbox, &inquiry, "complete").await.expect(200);
    worker.drain().await.unwrap();
    assert!(
        tokens(&app, &a.sandbox).await.is_empty(),
        "the staged token was rolled back"
    );
    let r = runs(&app, &a.sandbox, &id).await;
    assert_eq!(step_statuses(&r[0]), ["pending", "pending"]);
    assert_eq!(r[0]["attributes"]["status"], "pending");
    // The job is retried after its backoff and does the step once.
    app.db.clock.advance_seconds(5);
    worker.drain().await.unwrap();
    let r = runs(&app, &a.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(tokens(&app, &a.sandbox).await.len(), 1);
    assert_eq!(
        app.show_inquiry(&a.sandbox, &inquiry).await.attr("status"),
        "approved"
    );
}

async fn a_crash_mid_run_resumes_without_repeating_a_step(backend: Backend) {
    let app = App::new(backend).await;
    let (a, id, inquiry) = share_then_approve(&app).await;
    let worker = app.worker();
    // The first step commits; the worker dies while the second is staged.
    worker
        .faults
        .workflow_steps_before_fault
        .store(1, Ordering::SeqCst);
    worker
        .faults
        .fail_workflow_steps_after_effect
        .store(1, Ordering::SeqCst);
    app.act(&a.sandbox, &inquiry, "complete").await.expect(200);
    worker.drain().await.unwrap();
    let r = runs(&app, &a.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "running");
    assert_eq!(step_statuses(&r[0]), ["completed", "pending"]);
    let made = tokens(&app, &a.sandbox).await;
    assert_eq!(made.len(), 1);
    assert_eq!(
        r[0]["attributes"]["steps"][0]["output"]["share-token-id"],
        made[0].as_str()
    );
    assert_eq!(
        app.show_inquiry(&a.sandbox, &inquiry).await.attr("status"),
        "completed"
    );
    app.db.clock.advance_seconds(5);
    worker.drain().await.unwrap();
    let r = runs(&app, &a.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(step_statuses(&r[0]), ["completed", "completed"]);
    assert_eq!(
        tokens(&app, &a.sandbox).await,
        made,
        "the finished step was not repeated"
    );
    assert_eq!(
        app.show_inquiry(&a.sandbox, &inquiry).await.attr("status"),
        "approved"
    );
}

async fn a_dead_workers_run_is_reclaimed_after_its_lease(backend: Backend) {
    let app = App::new(backend).await;
    let (a, id, inquiry) = share_then_approve(&app).await;
    app.act(&a.sandbox, &inquiry, "complete").await.expect(200);
    let claimed = app
        .db
        .store
        .write(tessera_store::units::jobs::claim(
            "dead-worker".into(),
            60_000,
            10,
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let worker = app.worker();
    assert_eq!(
        worker.drain().await.unwrap(),
        0,
        "leased to the dead worker"
    );
    assert_eq!(
        runs(&app, &a.sandbox, &id).await[0]["attributes"]["status"],
        "pending"
    );
    app.db.clock.advance_seconds(61);
    assert_eq!(worker.drain().await.unwrap(), 1);
    let r = runs(&app, &a.sandbox, &id).await;
    assert_eq!(r[0]["attributes"]["status"], "completed");
    assert_eq!(tokens(&app, &a.sandbox).await.len(), 1);
}

on_both_backends!(
    an_approval_shares_and_the_partner_redeems_hands_free,
    conditions_decide_and_every_op_works,
    inactive_workflows_do_not_run,
    a_failing_step_fails_the_run_and_stops_it,
    a_run_keeps_the_steps_it_was_made_with,
    a_crash_before_a_step_commits_leaves_nothing_behind,
    a_crash_mid_run_resumes_without_repeating_a_step,
    a_dead_workers_run_is_reclaimed_after_its_lease,
);
