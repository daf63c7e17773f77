//! Inquiries: create/list/retrieve (with `include`)/patch/redact/approve/decline/
//! mark-for-review/expire/add-tag/remove-tag/set-tags.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Run, Who, app, id_of, unknown_id};
use crate::support::Part;

async fn inquiries_follow_persona(backend: Backend) {
    let app = app(backend).await;
    let a = app.org("Acme").await;
    let other = app.org("Other").await;
    let me = Who::sandbox("owner", &a);
    let stranger = Who::sandbox("another organization", &other);
    let template = app.template(&a.sandbox, "KYC").await;
    let mut run = Run::new(&app, "inquiries", backend);

    // Create.
    let r = run
        .post(
            &me,
            "/inquiries",
            Some(json!({"data": {"attributes": {
                "inquiry-template-id": template, "reference-id": "user-1", "note": "first",
                "tags": ["vip"],
                "fields": {"name-first": "Jane", "birthdate": "1990-04-01"}}}})),
            201,
        )
        .await;
    let inq = id_of(&r, "inq");
    let r = run
        .post(
            &me,
            "/inquiries?include=inquiry-template",
            Some(
                json!({"data": {"attributes": {"inquiry-template-id": template,
                "redirect-uri": "https://example.com/done", "fields": null, "tags": null}}}),
            ),
            201,
        )
        .await;
    let fresh = id_of(&r, "inq");
    run.post(
        &me,
        "/inquiries",
        Some(json!({"data": {"attributes": {"inquiry-template-id": unknown_id(&template)}}})),
        404,
    )
    .await;
    run.post(
        &me,
        "/inquiries",
        Some(json!({"data": {"attributes": {"fields": {"birthdate": "soon"}}}})),
        422,
    )
    .await;
    run.post(
        &me,
        "/inquiries",
        Some(json!({"data": {"attributes": {"tags": "not a list"}}})),
        400,
    )
    .await;

    // Verifications and a document (Tessera's own endpoints), then complete.
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "government-id", "status": "passed",
               "attributes": {"name-first": "Jane", "birthdate": "1990-04-01"}}),
    )
    .await;
    app.verification(
        &a.sandbox,
        &inq,
        json!({"type": "selfie", "status": "passed"}),
    )
    .await;
    let database = app
        .verification(
            &a.sandbox,
            &inq,
            json!({"type": "database", "status": "failed"}),
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

    // Retrieve and list.
    for include in [
        "",
        "?include=",
        "?include=verifications",
        "?include=documents",
        "?include=verifications,documents",
        "?include=inquiry-template",
        "?include=sessions,reports,account",
    ] {
        run.get(&me, &format!("/inquiries/{inq}{include}"), 200)
            .await;
    }
    run.get(&me, &format!("/inquiries/{}", unknown_id(&inq)), 404)
        .await;
    run.get(&stranger, &format!("/inquiries/{inq}"), 404).await;
    for query in [
        "",
        "?page[size]=1",
        "?filter[status]=created,pending",
        "?filter[reference-id]=user-1",
        &format!("?filter[inquiry-template-id]={template}"),
        &format!("?filter[inquiry-id]={inq}"),
        "?filter[note]=first",
        &format!("?filter[created-at-start]={}", app.days_ago(1)),
    ] {
        run.get(&me, &format!("/inquiries{query}"), 200).await;
    }

    // Update.
    run.call(
        &me,
        axum::http::Method::PATCH,
        &format!("/inquiries/{inq}?include=verifications"),
        Some(
            json!({"data": {"attributes": {"note": "updated", "tags": ["vip", "new"],
            "fields": {"name-last": "Doe"}}}}),
        ),
        200,
    )
    .await;
    run.call(
        &me,
        axum::http::Method::PATCH,
        &format!("/inquiries/{fresh}"),
        Some(
            json!({"data": {"attributes": {"redirect-uri": "https://example.com/again",
            "note": null}}}),
        ),
        200,
    )
    .await;
    run.call(
        &me,
        axum::http::Method::PATCH,
        &format!("/inquiries/{inq}"),
        Some(json!({"data": {"attributes": {"fields": {"birthdate": "soon"}}}})),
        422,
    )
    .await;
    run.call(
        &me,
        axum::http::Method::PATCH,
        &format!("/inquiries/{}", unknown_id(&inq)),
        Some(json!({"data": {"attributes": {"note": "x"}}})),
        404,
    )
    .await;

    // Tags.
    run.post(
        &me,
        &format!("/inquiries/{inq}/add-tag"),
        Some(json!({"meta": {"tag-name": "reviewed"}})),
        200,
    )
    .await;
    run.post(
        &me,
        &format!("/inquiries/{inq}/remove-tag?include=verifications"),
        Some(json!({"meta": {"tag-name": "new"}})),
        200,
    )
    .await;
    run.post(
        &me,
        &format!("/inquiries/{inq}/set-tags"),
        Some(json!({"meta": {"tag-name": ["a", "b"]}})),
        200,
    )
    .await;
    run.post(
        &me,
        &format!("/inquiries/{}/add-tag", unknown_id(&inq)),
        Some(json!({"meta": {"tag-name": "x"}})),
        404,
    )
    .await;

    // Transitions. Completing is Tessera's own endpoint (Persona's hosted flow completes).
    app.act(&a.sandbox, &inq, "complete").await;
    run.post(
        &me,
        &format!("/inquiries/{inq}/approve?include=verifications"),
        Some(json!({"meta": {"comment": "looks good"}})),
        200,
    )
    .await;
    run.post(&me, &format!("/inquiries/{inq}/approve"), None, 409)
        .await;
    // Approved inquiries cannot be marked for review.
    run.post(&me, &format!("/inquiries/{inq}/mark-for-review"), None, 409)
        .await;
    let second = app.completed_inquiry(&a.sandbox, json!({})).await;
    run.post(
        &me,
        &format!("/inquiries/{second}/mark-for-review"),
        Some(json!({"data": {"attributes": {}}})),
        200,
    )
    .await;
    run.post(
        &me,
        &format!("/inquiries/{second}/decline"),
        Some(json!({"meta": {"comment": "no"}})),
        200,
    )
    .await;
    // Any inquiry that is not decided can be marked for review.
    let created = app.inquiry(&a.sandbox, json!({})).await;
    run.post(
        &me,
        &format!("/inquiries/{created}/mark-for-review"),
        None,
        200,
    )
    .await;
    let to_expire = app.inquiry(&a.sandbox, json!({})).await;
    run.post(&me, &format!("/inquiries/{to_expire}/expire"), None, 200)
        .await;
    run.post(&me, &format!("/inquiries/{to_expire}/expire"), None, 409)
        .await;
    run.post(
        &me,
        &format!("/inquiries/{}/approve", unknown_id(&inq)),
        None,
        404,
    )
    .await;

    // Redact a Verification: 200 with the verification, again 200; another's is a 404.
    for _ in 0..2 {
        run.call(
            &me,
            axum::http::Method::DELETE,
            &format!("/verifications/{database}"),
            None,
            200,
        )
        .await;
    }
    run.call(
        &stranger,
        axum::http::Method::DELETE,
        &format!("/verifications/{database}"),
        None,
        404,
    )
    .await;

    // Redact: 200, again 200; an update after it is a 409.
    run.call(
        &me,
        axum::http::Method::DELETE,
        &format!("/inquiries/{second}?include="),
        None,
        200,
    )
    .await;
    run.call(
        &me,
        axum::http::Method::DELETE,
        &format!("/inquiries/{second}"),
        None,
        200,
    )
    .await;
    run.call(
        &me,
        axum::http::Method::PATCH,
        &format!("/inquiries/{second}"),
        Some(json!({"data": {"attributes": {"note": "x"}}})),
        409,
    )
    .await;
    run.call(
        &me,
        axum::http::Method::DELETE,
        &format!("/inquiries/{}", unknown_id(&inq)),
        None,
        404,
    )
    .await;
    run.get(&me, &format!("/inquiries/{second}"), 200).await;
    run.get(&me, "/inquiries", 200).await;
    run.finish();
}

on_both_backends!(inquiries_follow_persona);
