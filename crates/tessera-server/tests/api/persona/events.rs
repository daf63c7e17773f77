//! Events: list (with Persona's filters) and retrieve.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Run, Who, app, unknown_id};

async fn events_follow_persona(backend: Backend) {
    let app = app(backend).await;
    let a = app.org("Source").await;
    let b = app.org("Destination").await;
    let (src, dst) = (Who::sandbox("source", &a), Who::sandbox("destination", &b));
    // Events of every kind Tessera records: inquiries, verifications, documents, connections,
    // share tokens (both sides).
    let cxn = app.active_connection(&a, &b).await;
    let inq = app.inquiry(&a.sandbox, json!({"name-first": "Jane"})).await;
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "government-id", "status": "passed"}),
    )
    .await;
    app.act(&a.sandbox, &inq, "complete").await;
    app.act(&a.sandbox, &inq, "approve").await;
    let token = app.share_token(&a.sandbox, &cxn, &inq).await;
    app.redeem_with(&b.sandbox, &token, json!({})).await;
    app.drain().await;

    let mut run = Run::new(&app, "events", backend);
    for who in [&src, &dst] {
        let r = run.get(who, "/events", 200).await;
        let ids: Vec<String> = r
            .items()
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_owned))
            .collect();
        if ids.is_empty() {
            run.problem(format!("GET /events as {}: no events", who.name));
        }
        for id in &ids {
            run.get(who, &format!("/events/{id}"), 200).await;
        }
        if let Some(id) = ids.first() {
            run.get(who, &format!("/events/{id}?include="), 200).await;
            run.get(who, &format!("/events?filter[id]={id}"), 200).await;
        }
        run.get(who, "/events?page[size]=2", 200).await;
        run.get(who, &format!("/events/{}", unknown_id("evt_x")), 404)
            .await;
    }
    run.get(
        &src,
        "/events?filter[name]=inquiry.created,inquiry.approved",
        200,
    )
    .await;
    run.get(&src, &format!("/events?filter[object-id]={inq}"), 200)
        .await;
    run.finish();
}

on_both_backends!(events_follow_persona);
