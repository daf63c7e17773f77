//! Connections: list/create/retrieve/deactivate/reactivate, as the source and as the
//! destination.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Run, Who, app, id_of, unknown_id};

async fn connections_follow_persona(backend: Backend) {
    let app = app(backend).await;
    let a = app.org("Source").await;
    let b = app.org("Destination").await;
    let c = app.org("Third").await;
    let (src, dst) = (Who::sandbox("source", &a), Who::sandbox("destination", &b));
    let mut run = Run::new(&app, "connections", backend);

    let create =
        |dest: &str| json!({"data": {"attributes": {"destination-organization-id": dest}}});
    let r = run
        .post(&src, "/connect/connections", Some(create(&b.id)), 201)
        .await;
    let cxn = id_of(&r, "cxn");
    run.post(&src, "/connect/connections", Some(create(&b.id)), 409)
        .await;
    run.post(
        &src,
        "/connect/connections",
        Some(json!({"data": {"attributes": {}}})),
        422,
    )
    .await;
    // Persona documents no 404 here: an organization that does not exist is a 422.
    run.post(
        &src,
        "/connect/connections",
        Some(create(&unknown_id(&b.id))),
        422,
    )
    .await;
    run.post(
        &src,
        "/connect/connections?fields[connect/connection]=status",
        Some(create(&c.id)),
        201,
    )
    .await;

    // The destination accepts (Tessera's own endpoint: Persona accepts in its dashboard).
    app.connection_action(&b.sandbox, &cxn, "activate").await;

    for who in [&src, &dst] {
        run.get(who, "/connect/connections", 200).await;
        run.get(who, "/connect/connections?filter[status]=active", 200)
            .await;
        run.get(who, &format!("/connect/connections/{cxn}"), 200)
            .await;
        run.get(
            who,
            &format!("/connect/connections/{cxn}?fields[connect/connection]=status,created-at"),
            200,
        )
        .await;
    }
    run.get(
        &src,
        &format!(
            "/connect/connections?filter[destination-organization-id]={}",
            b.id
        ),
        200,
    )
    .await;
    run.get(&src, "/connect/connections?page[size]=1", 200)
        .await;
    run.get(
        &src,
        &format!("/connect/connections/{}", unknown_id(&cxn)),
        404,
    )
    .await;
    run.get(
        &Who::sandbox("third", &c),
        &format!("/connect/connections/{cxn}"),
        404,
    )
    .await;

    // Either side deactivates; only the source reactivates (to pending).
    run.post(
        &dst,
        &format!("/connect/connections/{cxn}/deactivate"),
        None,
        200,
    )
    .await;
    run.post(
        &src,
        &format!("/connect/connections/{cxn}/deactivate"),
        None,
        409,
    )
    .await;
    run.post(
        &dst,
        &format!("/connect/connections/{cxn}/reactivate"),
        None,
        403,
    )
    .await;
    // A generic JSON:API client sends an empty document to an action.
    run.post(
        &src,
        &format!("/connect/connections/{cxn}/reactivate"),
        Some(json!({"data": {"attributes": {}}})),
        200,
    )
    .await;
    run.post(
        &src,
        &format!("/connect/connections/{cxn}/reactivate"),
        None,
        409,
    )
    .await;
    run.post(
        &src,
        &format!("/connect/connections/{}/deactivate", unknown_id(&cxn)),
        None,
        404,
    )
    .await;
    run.post(
        &src,
        &format!("/connect/connections/{cxn}/deactivate"),
        Some(json!({"data": {"attributes": {}}})),
        200,
    )
    .await;
    run.get(&dst, &format!("/connect/connections/{cxn}"), 200)
        .await;
    run.get(&dst, "/connect/connections?filter[status]=inactive", 200)
        .await;
    run.finish();
}

on_both_backends!(connections_follow_persona);
