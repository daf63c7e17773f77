//! §3.8 workflows: the resource (secret shown once, list, retrieve, update, status), tenancy and
//! permissions, and the helpers of the other workflow tests. Validation:
//! `workflow_validation.rs`; manual triggers: `workflow_manual.rs`; runs and automation:
//! `workflow_runs.rs`, `workflow_loops.rs`.

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

async fn creates_and_triggers_are_idempotent(backend: Backend) {
    let app = App::new(backend).await;
    let org = app.org("Acme").await;
    let body = json!({"data": {"attributes": {"trigger": {"event": "inquiry.completed"},
        "steps": [{"type": "tag-inquiry", "tag": "t"}]}}});
    let create = || {
        app.post("/api/v1/workflows")
            .key(&org.sandbox)
            .header("idempotency-key", "create-1")
            .json(body.clone())
            .send()
    };
    let first = create().await.expect(201);
    let again = create().await.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.bytes, again.bytes);
    let id = first.id();
    assert_eq!(
        app.ids(&org.sandbox, "/api/v1/workflows").await,
        [id.as_str()]
    );
    let inquiry = app.completed_inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let trigger = || {
        app.post(&format!("/api/v1/workflows/{id}/trigger"))
            .key(&org.sandbox)
            .header("idempotency-key", "trigger-1")
            .json(json!({"data": {"attributes": {"object-id": inquiry}}}))
            .send()
    };
    let run = trigger().await.expect(201).id();
    assert_eq!(trigger().await.expect(201).id(), run);
    assert_eq!(
        runs(&app, &org.sandbox, &id).await.len(),
        2,
        "the completion's and one manual run"
    );
}

on_both_backends!(
    creates_and_triggers_are_idempotent,
    a_workflow_is_created_listed_and_changed,
    workflows_and_runs_of_other_tenants_are_not_found,
    permissions_split_read_write_and_trigger,
);
