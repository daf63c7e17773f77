//! §3.8 workflows: the resource (secret shown once, list, retrieve, update, status), definitions
//! validated completely at save time (422 with a pointer), tenancy, permissions and the manual
//! trigger. Runs and automation: `workflow_runs.rs`, `workflow_loops.rs`.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Resp};

/// POSTs a workflow with these attributes.
pub async fn post_workflow(app: &App, key: &str, attributes: Value) -> Resp {
    app.post("/api/v1/workflows")
        .key(key)
        .json(json!({"data": {"attributes": attributes}}))
        .send()
        .await
}

/// Creates a workflow and returns its id.
pub async fn workflow(app: &App, key: &str, trigger: Value, steps: Value) -> String {
    post_workflow(app, key, json!({"trigger": trigger, "steps": steps}))
        .await
        .expect(201)
        .id()
}

/// The runs of a workflow, newest first.
pub async fn runs(app: &App, key: &str, workflow: &str) -> Vec<Value> {
    app.all(
        key,
        &format!("/api/v1/workflow-runs?filter[workflow-id]={workflow}"),
    )
    .await
}

/// The statuses of a run's steps.
pub fn step_statuses(run: &Value) -> Vec<String> {
    run["attributes"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

/// Expects a 422 with this code at this pointer.
#[track_caller]
pub fn refused(r: Resp, code: &str, pointer: &str) {
    let r = r.expect(422);
    assert_eq!((r.code(), r.pointer()), (code, pointer), "{}", r.json);
}

async fn a_workflow_is_created_listed_and_changed(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let r = post_workflow(
        &app,
        &org.sandbox,
        json!({"name": "Tag approved", "trigger": {"event": "inquiry.approved",
            "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "vip"}]},
            "steps": [{"type": "tag-inquiry", "tag": "seen"}]}),
    )
    .await
    .expect(201);
    let id = r.id();
    assert!(id.starts_with("wfl_"));
    assert_eq!(r.json["data"]["type"], "workflow");
    assert_eq!(r.attr("status"), "active");
    assert_eq!(r.attr("name"), "Tag approved");
    assert_eq!(
        r.attr("trigger"),
        &json!({"event": "inquiry.approved",
            "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "vip"}]})
    );
    assert_eq!(
        r.attr("steps"),
        &json!([{"type": "tag-inquiry", "tag": "seen"}])
    );
    let secret = r.json["meta"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("wflsec_") && secret.len() > 40);
    let shown = app
        .get(&format!("/api/v1/workflows/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert!(
        !shown.json.to_string().contains(&secret),
        "the secret is shown once"
    );
    assert_eq!(shown.attr("trigger"), r.attr("trigger"));
    assert_eq!(
        app.ids(&org.sandbox, "/api/v1/workflows").await,
        [id.as_str()]
    );

    // PATCH: each part alone, in another inflection.
    let p = app
        .patch(&format!("/api/v1/workflows/{id}"))
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"status": "inactive", "name": null,
            "steps": [{"type": "tag-inquiry", "tag": "x"}, {"type": "http-request", "url": "https://93.184.216.34/hook"}]}}}))
        .send()
        .await
        .expect(200);
    assert_eq!(p.attr("status"), "inactive");
    assert_eq!(p.attr("name"), &Value::Null);
    assert_eq!(p.attr("steps")[1]["url"], "https://93.184.216.34/hook");
    assert_eq!(p.attr("trigger"), r.attr("trigger"), "unchanged");
    let camel = app
        .get(&format!("/api/v1/workflows/{id}"))
        .key(&org.sandbox)
        .header("key-inflection", "camel")
        .send()
        .await
        .expect(200);
    assert!(camel.json["data"]["attributes"]["createdAt"].is_string());
    for bad in [json!({"status": "paused"}), json!({"name": ""})] {
        let r = app
            .patch(&format!("/api/v1/workflows/{id}"))
            .key(&org.sandbox)
            .json(json!({"data": {"attributes": bad}}))
            .send()
            .await
            .expect(422);
        assert_eq!(r.code(), "invalid_attribute");
    }
}

async fn steps_accept_every_type(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let cxn = app.active_connection(&a, &b).await;
    let template = app.template(&b.sandbox, "KYC").await;
    let cases = [
        (
            &a,
            json!({"event": "inquiry.approved"}),
            json!([
            {"type": "create-share-token", "connection-id": cxn, "expires-in-seconds": 3600},
            {"type": "approve-inquiry"}, {"type": "decline-inquiry"},
            {"type": "mark-inquiry-for-review"}, {"type": "tag-inquiry", "tag": "t"},
            {"type": "http-request", "url": "https://93.184.216.34/x"}]),
        ),
        (
            &b,
            json!({"event": "connect/share-token.inbound-created"}),
            json!([
            {"type": "redeem-share-token", "inquiry-template-id": template,
             "field-mappings": [{"source-field-name": "name-first", "destination-field-name": "given-name"}]}]),
        ),
        (
            &b,
            json!({"event": "connect/connection.inbound-created"}),
            json!([
            {"type": "activate-connection"}]),
        ),
        (
            &b,
            json!({"event": "workflow-run.failed"}),
            json!([
            {"type": "http-request", "url": "https://93.184.216.34/x"}]),
        ),
    ];
    // Keys in another inflection are read as kebab-case, like every request key.
    let r = post_workflow(
        &app,
        &a.sandbox,
        json!({"trigger": {"event": "inquiry.approved"},
        "steps": [{"type": "create-share-token", "connectionId": cxn, "expires_in_seconds": 60}]}),
    )
    .await
    .expect(201);
    assert_eq!(
        r.attr("steps"),
        &json!([{"type": "create-share-token", "connection-id": cxn, "expires-in-seconds": 60}])
    );
    for (org, trigger, steps) in cases {
        let r = post_workflow(
            &app,
            &org.sandbox,
            json!({"trigger": trigger, "steps": steps}),
        )
        .await
        .expect(201);
        assert_eq!(r.attr("steps"), &steps);
    }
}

async fn definitions_are_validated_completely(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let outbound = app.active_connection(&a, &b).await;
    let a_template = app.template(&a.sandbox, "A's").await;
    let approved = json!({"event": "inquiry.approved"});
    let tag = json!([{"type": "tag-inquiry", "tag": "t"}]);
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"steps": tag}),
            422,
            "missing_attribute",
            "/data/attributes/trigger",
        ),
        (
            json!({"trigger": approved}),
            422,
            "missing_attribute",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": {"event": "inquiry.nope"}, "steps": tag}),
            422,
            "unknown_event",
            "/data/attributes/trigger/event",
        ),
        (
            json!({"trigger": {}, "steps": tag}),
            422,
            "missing_attribute",
            "/data/attributes/trigger/event",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "teleport"}]}),
            422,
            "unknown_step_type",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "tag-inquiry", "tag": "t"}, {"type": "create-share-token"}]}),
            422,
            "missing_attribute",
            "/data/attributes/steps/1/connection-id",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "tag-inquiry"}]}),
            422,
            "missing_attribute",
            "/data/attributes/steps/0/tag",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request"}]}),
            422,
            "missing_attribute",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "redeem-share-token"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": {"event": "connect/share-token.outbound-created"}, "steps": [{"type": "redeem-share-token"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": {"event": "connect/share-token.inbound-created"}, "steps": [{"type": "approve-inquiry"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "activate-connection"}]}),
            422,
            "step_input_unavailable",
            "/data/attributes/steps/0/type",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "data/attributes/tags", "op": "contains", "value": "x"}]}, "steps": tag}),
            422,
            "invalid_condition",
            "/data/attributes/trigger/conditions/0/path",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "/data", "op": "matches", "value": "x"}]}, "steps": tag}),
            422,
            "invalid_condition",
            "/data/attributes/trigger/conditions/0/op",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "/data", "op": "in", "value": "x"}]}, "steps": tag}),
            422,
            "invalid_condition",
            "/data/attributes/trigger/conditions/0/value",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": [{"path": "/data", "op": "eq"}]}, "steps": tag}),
            422,
            "missing_attribute",
            "/data/attributes/trigger/conditions/0/value",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "conditions": (0..21).map(|_| json!({"path": "/data", "op": "exists"})).collect::<Vec<_>>()}, "steps": tag}),
            422,
            "invalid_attribute",
            "/data/attributes/trigger/conditions",
        ),
        (
            json!({"trigger": approved, "steps": (0..11).map(|_| json!({"type": "approve-inquiry"})).collect::<Vec<_>>()}),
            422,
            "invalid_attribute",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": approved, "steps": []}),
            422,
            "invalid_attribute",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "create-share-token", "connection-id": outbound, "expires-in-seconds": 10}]}),
            422,
            "expires_in_out_of_range",
            "/data/attributes/steps/0/expires-in-seconds",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "create-share-token", "connection-id": "inq_0000000000000000000000"}]}),
            422,
            "invalid_id",
            "/data/attributes/steps/0/connection-id",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "create-share-token", "connection-id": "cxn_0000000000000000000000"}]}),
            422,
            "reference_not_found",
            "/data/attributes/steps/0/connection-id",
        ),
        (
            json!({"trigger": {"event": "connect/share-token.inbound-created"}, "steps": [{"type": "redeem-share-token", "inquiry-template-id": a_template}]}),
            422,
            "reference_not_found",
            "/data/attributes/steps/0/inquiry-template-id",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "http://10.0.0.1/hook"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "https://127.0.0.1/hook"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "https://169.254.169.254/latest"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "http-request", "url": "ftp://example.com/x"}]}),
            422,
            "invalid_url",
            "/data/attributes/steps/0/url",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "approve-inquiry", "tag": "x"}]}),
            400,
            "unknown_attribute",
            "/data/attributes/steps/0/tag",
        ),
        (
            json!({"trigger": approved, "steps": [{"type": "tag-inquiry", "tag": 7}]}),
            400,
            "invalid_type",
            "/data/attributes/steps/0/tag",
        ),
        (
            json!({"trigger": approved, "steps": {"type": "approve-inquiry"}}),
            400,
            "invalid_type",
            "/data/attributes/steps",
        ),
        (
            json!({"trigger": {"event": "inquiry.approved", "when": 1}, "steps": tag}),
            400,
            "unknown_attribute",
            "/data/attributes/trigger/when",
        ),
        (
            json!({"trigger": approved, "steps": tag, "status": "on"}),
            422,
            "invalid_attribute",
            "/data/attributes/status",
        ),
    ];
    for (attributes, status, code, pointer) in cases {
        let r = post_workflow(&app, &b.sandbox, attributes.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.code(), r.pointer()),
            (status, code, pointer),
            "{attributes}: {}",
            r.json
        );
    }
    // The connection is B's too, but inbound: B cannot share over it.
    refused(
        post_workflow(
            &app,
            &b.sandbox,
            json!({"trigger": approved,
            "steps": [{"type": "create-share-token", "connection-id": outbound}]}),
        )
        .await,
        "connection_not_outbound",
        "/data/attributes/steps/0/connection-id",
    );
    // A connection of two other organizations is not found.
    let c = app.org("Gamma").await;
    refused(
        post_workflow(
            &app,
            &c.sandbox,
            json!({"trigger": approved,
            "steps": [{"type": "create-share-token", "connection-id": outbound}]}),
        )
        .await,
        "reference_not_found",
        "/data/attributes/steps/0/connection-id",
    );
    assert!(app.ids(&b.sandbox, "/api/v1/workflows").await.is_empty());
    assert!(app.ids(&c.sandbox, "/api/v1/workflows").await.is_empty());

    // A PATCH is checked as a whole definition: a new trigger must still carry the steps' inputs.
    let id = workflow(
        &app,
        &a.sandbox,
        approved.clone(),
        json!([{"type": "create-share-token", "connection-id": outbound}]),
    )
    .await;
    let patch = |attributes: Value| {
        app.patch(&format!("/api/v1/workflows/{id}"))
            .key(&a.sandbox)
            .json(json!({"data": {"attributes": attributes}}))
            .send()
    };
    refused(
        patch(json!({"trigger": {"event": "connect/connection.inbound-created"}})).await,
        "step_input_unavailable",
        "/data/attributes/steps/0/type",
    );
    refused(
        patch(json!({"steps": [{"type": "http-request", "url": "http://192.168.1.1/"}]})).await,
        "invalid_url",
        "/data/attributes/steps/0/url",
    );
    let w = app
        .get(&format!("/api/v1/workflows/{id}"))
        .key(&a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        w.attr("trigger")["event"],
        "inquiry.approved",
        "nothing changed"
    );
}

async fn workflows_and_runs_of_other_tenants_are_not_found(backend: Backend) {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let id = workflow(
        &app,
        &a.sandbox,
        json!({"event": "inquiry.created"}),
        json!([{"type": "tag-inquiry", "tag": "t"}]),
    )
    .await;
    let inquiry = app.inquiry(&a.sandbox, json!({})).await;
    let run = runs(&app, &a.sandbox, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for key in [&b.sandbox, &a.production] {
        for path in [
            format!("/api/v1/workflows/{id}"),
            format!("/api/v1/workflow-runs/{run}"),
        ] {
            let r = app.get(&path).key(key).send().await.expect(404);
            assert_eq!(r.code(), "not_found");
        }
        app.patch(&format!("/api/v1/workflows/{id}"))
            .key(key)
            .json(json!({"data": {"attributes": {"status": "inactive"}}}))
            .send()
            .await
            .expect(404);
        app.post(&format!("/api/v1/workflows/{id}/trigger"))
            .key(key)
            .json(json!({"data": {"attributes": {"object-id": inquiry}}}))
            .send()
            .await
            .expect(404);
        assert!(app.ids(key, "/api/v1/workflows").await.is_empty());
        assert!(app.ids(key, "/api/v1/workflow-runs").await.is_empty());
        assert!(runs(&app, key, &id).await.is_empty());
    }
    let r = app
        .get("/api/v1/workflow-runs?filter[workflow-id]=nope")
        .key(&a.sandbox)
        .send()
        .await
        .expect(400);
    assert_eq!(r.parameter(), "filter[workflow-id]");
}

async fn permissions_split_read_write_and_trigger(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let reader = app.key_for(&org, "sandbox", &["workflow.read"]).await;
    let triggerer = app.key_for(&org, "sandbox", &["workflow.trigger"]).await;
    let trigger = json!({"event": "inquiry.completed"});
    let steps = json!([{"type": "tag-inquiry", "tag": "manual"}]);
    for key in [&reader, &triggerer] {
        let r = post_workflow(&app, key, json!({"trigger": trigger, "steps": steps}))
            .await
            .expect(403);
        assert_eq!(r.code(), "permission_denied");
    }
    let id = workflow(&app, &org.sandbox, trigger, steps).await;
    let inquiry = app.completed_inquiry(&org.sandbox, json!({})).await;
    let body = json!({"data": {"attributes": {"object-id": inquiry}}});
    app.post(&format!("/api/v1/workflows/{id}/trigger"))
        .key(&reader)
        .json(body.clone())
        .send()
        .await
        .expect(403);
    app.post(&format!("/api/v1/workflows/{id}/trigger"))
        .key(&triggerer)
        .json(body)
        .send()
        .await
        .expect(201);
    app.get("/api/v1/workflow-runs")
        .key(&reader)
        .send()
        .await
        .expect(200);
    app.get("/api/v1/workflow-runs")
        .key(&triggerer)
        .send()
        .await
        .expect(403);
}

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
    a_workflow_is_created_listed_and_changed,
    steps_accept_every_type,
    definitions_are_validated_completely,
    workflows_and_runs_of_other_tenants_are_not_found,
    permissions_split_read_write_and_trigger,
    a_manual_trigger_runs_now_on_an_object,
    connections_and_tokens_can_be_triggered_by_hand,
);
