//! Share tokens: list/create/retrieve (with `include` and `peek-source-data=true`)/expire/redeem
//! (clone and hydrate), as the source and as the destination.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Run, Who, app, id_of, unknown_id};
use crate::support::{Part, Resp};

/// What the description says of a share token only in prose (its schema requires nothing):
/// `redeem-mode` is there (null until a redemption starts), the connection is the
/// `connection` relationship, and `failure-reason` is one of the four documented values.
fn prose(run: &mut Run<'_>, label: &str, r: &Resp) {
    let items: Vec<serde_json::Value> = match &r.json["data"] {
        serde_json::Value::Array(a) => a.clone(),
        o @ serde_json::Value::Object(_) => vec![o.clone()],
        _ => return,
    };
    for (i, t) in items.iter().enumerate() {
        let a = &t["attributes"];
        if a.as_object()
            .is_some_and(|a| !a.contains_key("redeem-mode"))
        {
            run.problem(format!(
                "[share-token prose] {label}: item {i}: no redeem-mode attribute"
            ));
        }
        if t["relationships"]
            .as_object()
            .is_some_and(|r| !r.is_empty() && !r.contains_key("connection"))
        {
            run.problem(format!(
                "[share-token prose] {label}: item {i}: no connection relationship"
            ));
        }
        if let Some(reason) = a["failure-reason"].as_str().filter(|r| {
            ![
                "source_not_found",
                "source_redacted",
                "import_failed",
                "unrecoverable_error",
            ]
            .contains(r)
        }) {
            run.problem(format!(
                "[share-token prose] {label}: item {i}: failure-reason {reason:?} is not one Persona documents"
            ));
        }
    }
}

async fn share_tokens_follow_persona(backend: Backend) {
    let app = app(backend).await;
    let a = app.org("Source").await;
    let b = app.org("Destination").await;
    let c = app.org("Third").await;
    let (src, dst) = (Who::sandbox("source", &a), Who::sandbox("destination", &b));
    let third = Who::sandbox("third", &c);
    // Setup through Tessera's own API: an active connection and a completed inquiry with
    // verifications and a document.
    let cxn = app.active_connection(&a, &b).await;
    let inq = app
        .inquiry(
            &a.sandbox,
            json!({"name-first": "Janeczka", "name-last": "Doe", "birthdate": "1990-04-01",
                   "address-country-code": "US", "email-address": "jane@example.com"}),
        )
        .await;
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "government-id", "status": "passed",
               "attributes": {"name-first": "Janeczka", "birthdate": "1990-04-01"}}),
    )
    .await;
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "selfie", "status": "passed"}),
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

    let mut run = Run::new(&app, "share tokens", backend);
    let create =
        |source: &str| json!({"data": {"attributes": {"connection-id": cxn, "source-id": source}}});

    // Create.
    let r = run
        .post(&src, "/connect/share-tokens", Some(create(&inq)), 201)
        .await;
    let clone_token = id_of(&r, "cnst");
    let r = run
        .post(
            &src,
            "/connect/share-tokens?include=connection,source",
            Some(
                json!({"data": {"attributes": {"connection-id": cxn, "source-id": inq,
                "expires-in-seconds": 86400}}}),
            ),
            201,
        )
        .await;
    let expire_token = id_of(&r, "cnst");
    run.post(
        &src,
        "/connect/share-tokens",
        Some(
            json!({"data": {"attributes": {"connection-id": cxn, "source-id": inq,
            "expires-in-seconds": 10}}}),
        ),
        422,
    )
    .await;
    run.post(
        &src,
        "/connect/share-tokens",
        Some(json!({"data": {"attributes": {"connection-id": cxn}}})),
        422,
    )
    .await;
    // Persona documents no 404 on create: an unknown connection or source is a 422.
    run.post(
        &src,
        "/connect/share-tokens",
        Some(
            json!({"data": {"attributes": {"connection-id": unknown_id(&cxn), "source-id": inq}}}),
        ),
        422,
    )
    .await;
    run.post(
        &src,
        "/connect/share-tokens",
        Some(create(&unknown_id(&inq))),
        422,
    )
    .await;
    // The destination cannot share on the source's connection.
    run.post(&dst, "/connect/share-tokens", Some(create(&inq)), 403)
        .await;

    // List and retrieve, both sides.
    for who in [&src, &dst] {
        run.get(who, "/connect/share-tokens", 200).await;
        run.get(
            who,
            &format!(
                "/connect/share-tokens?filter[connection-id]={cxn}&filter[status]=created,pending"
            ),
            200,
        )
        .await;
        run.get(who, &format!("/connect/share-tokens/{clone_token}"), 200)
            .await;
        run.get(
            who,
            &format!("/connect/share-tokens/{clone_token}?include=connection"),
            200,
        )
        .await;
        run.get(
            who,
            &format!("/connect/share-tokens/{clone_token}?include="),
            200,
        )
        .await;
    }
    run.get(
        &src,
        "/connect/share-tokens?filter[direction]=outbound",
        200,
    )
    .await;
    run.get(
        &dst,
        "/connect/share-tokens?filter[direction]=inbound&page[size]=1",
        200,
    )
    .await;
    // Peeks: the destination sees the source data; for anyone else it is left out.
    run.get(
        &dst,
        &format!("/connect/share-tokens/{clone_token}?peek-source-data=true"),
        200,
    )
    .await;
    run.get(
        &src,
        &format!("/connect/share-tokens/{clone_token}?peek-source-data=true"),
        200,
    )
    .await;
    run.get(
        &dst,
        &format!("/connect/share-tokens/{clone_token}?peek-source-data=false"),
        200,
    )
    .await;
    run.get(
        &dst,
        &format!("/connect/share-tokens/{}", unknown_id(&clone_token)),
        404,
    )
    .await;
    run.get(&third, &format!("/connect/share-tokens/{clone_token}"), 404)
        .await;

    // Expire: either side; again is a 409; a redeem after it too.
    run.post(
        &dst,
        &format!("/connect/share-tokens/{expire_token}/expire"),
        Some(json!({"data": {"attributes": {}}})),
        200,
    )
    .await;
    run.post(
        &src,
        &format!("/connect/share-tokens/{expire_token}/expire"),
        None,
        409,
    )
    .await;
    run.post(
        &dst,
        &format!("/connect/share-tokens/{expire_token}/redeem"),
        None,
        409,
    )
    .await;
    let r = run
        .post(&src, "/connect/share-tokens", Some(create(&inq)), 201)
        .await;
    let t = id_of(&r, "cnst");
    run.post(
        &src,
        &format!("/connect/share-tokens/{t}/expire?include=connection"),
        None,
        200,
    )
    .await;
    run.post(
        &src,
        &format!("/connect/share-tokens/{}/expire", unknown_id(&t)),
        None,
        404,
    )
    .await;

    // Redeem by cloning: 202 pending, then redeemed once the copy ran.
    run.post(
        &src,
        &format!("/connect/share-tokens/{clone_token}/redeem"),
        None,
        403,
    )
    .await;
    run.post(
        &dst,
        &format!("/connect/share-tokens/{clone_token}/redeem"),
        Some(json!({"data": {"attributes": {}}})),
        202,
    )
    .await;
    run.post(
        &dst,
        &format!("/connect/share-tokens/{clone_token}/redeem"),
        None,
        409,
    )
    .await;
    app.drain().await;
    for who in [&src, &dst] {
        run.get(who, &format!("/connect/share-tokens/{clone_token}"), 200)
            .await;
        run.get(
            who,
            &format!("/connect/share-tokens/{clone_token}?include=destination"),
            200,
        )
        .await;
        run.get(who, "/connect/share-tokens?filter[status]=redeemed", 200)
            .await;
    }
    run.post(
        &dst,
        &format!("/connect/share-tokens/{}/redeem", unknown_id(&clone_token)),
        None,
        404,
    )
    .await;

    // Redeem by hydrating an inquiry of the destination, with field mappings.
    let r = run
        .post(&src, "/connect/share-tokens", Some(create(&inq)), 201)
        .await;
    let hydrate_token = id_of(&r, "cnst");
    let target = app.inquiry(&b.sandbox, json!({})).await;
    run.post(
        &dst,
        &format!("/connect/share-tokens/{hydrate_token}/redeem?include=destination"),
        Some(json!({"data": {"attributes": {"destination-id": target}},
            "meta": {"field-mappings": [{"source-field-name": "address-country-code",
                                         "destination-field-name": "country-code"}]}})),
        202,
    )
    .await;
    app.drain().await;
    for who in [&src, &dst] {
        run.get(who, &format!("/connect/share-tokens/{hydrate_token}"), 200)
            .await;
    }

    // A hydrate into an inquiry that cannot take data fails the token, with Persona's reason.
    let r = run
        .post(&src, "/connect/share-tokens", Some(create(&inq)), 201)
        .await;
    let failing = id_of(&r, "cnst");
    let done = app.completed_inquiry(&b.sandbox, json!({})).await;
    run.post(
        &dst,
        &format!("/connect/share-tokens/{failing}/redeem"),
        Some(json!({"data": {"attributes": {"destination-id": done}}})),
        202,
    )
    .await;
    app.drain().await;
    for who in [&src, &dst] {
        run.get(who, &format!("/connect/share-tokens/{failing}"), 200)
            .await;
    }
    // The prose rules, on every token as each side lists it at the end.
    for who in [&src, &dst] {
        let r = run.get(who, "/connect/share-tokens", 200).await;
        prose(
            &mut run,
            &format!("GET /connect/share-tokens as {}", who.name),
            &r,
        );
    }
    run.finish();
}

on_both_backends!(share_tokens_follow_persona);
