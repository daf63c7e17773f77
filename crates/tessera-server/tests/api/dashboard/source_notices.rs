//! Notices after redemption on the dashboard: a copy's page shows its source status and when it
//! changed; the template form sets the destination's policy (`on-source-redaction`).

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, page, user};
use crate::support::App;

/// The `source-status` paragraph of an inquiry page, if it has one.
fn source_status(body: &str) -> Option<String> {
    let at = body.find("id=\"source-status\"")?;
    let end = body[at..].find("</p>")? + at;
    Some(body[at..end].to_owned())
}

async fn a_copys_page_shows_its_source_status(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Beta", "admin").await;
    let connection = app.active_connection(&a.org, &b.org).await;
    let source = app
        .completed_inquiry(&a.org.sandbox, json!({"name-first": "Janeczka"}))
        .await;
    let token = app.share_token(&a.org.sandbox, &connection, &source).await;
    app.redeem_with(&b.org.sandbox, &token, json!({}))
        .await
        .expect(202);
    app.drain().await;
    let copy = app
        .fetch(
            &b.org.sandbox,
            &format!("/api/v1/connect/share-tokens/{token}"),
        )
        .await
        .related("destination")
        .unwrap();
    let mut web = Browser::new(&app);
    web.sign_in(&b).await;
    let path = format!("/dashboard/inquiries/{copy}");
    let status = source_status(&page(&web.get(&path).await, 200)).expect("a source status");
    assert!(
        status.contains("s-current") && status.contains("nothing has changed"),
        "{status}"
    );

    app.delete(&format!("/api/v1/inquiries/{source}"))
        .key(&a.org.sandbox)
        .send()
        .await
        .expect(200);
    app.drain().await;
    let body = page(&web.get(&path).await, 200);
    let status = source_status(&body).expect("a source status");
    assert!(
        status.contains("s-redacted")
            && status.contains("Alpha redacted what it shared")
            && status.contains("this copy stays as your own record")
            && status.contains(" UTC"),
        "{status}"
    );
    // The copy's own event is listed with its others.
    assert!(body.contains("inquiry.source-redacted"), "{body}");

    // The source's own inquiry is no copy: no source status.
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let body = page(
        &web.get(&format!("/dashboard/inquiries/{source}")).await,
        200,
    );
    assert_eq!(source_status(&body), None);
}

async fn the_template_form_sets_the_policy(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "member").await;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let body = page(&web.get("/dashboard/templates/new").await, 200);
    assert!(body.contains("name=\"on_source_redaction\""), "{body}");
    let r = web
        .post(
            "/dashboard/templates",
            &[("name", "Strict"), ("on_source_redaction", "redact")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", super::html(&r));
    let id = r
        .header("location")
        .unwrap()
        .strip_prefix("/dashboard/templates/")
        .and_then(|s| s.strip_suffix("?done=created"))
        .unwrap()
        .to_owned();
    let t = app
        .fetch(&a.org.sandbox, &format!("/api/v1/inquiry-templates/{id}"))
        .await;
    assert_eq!(t.attr("on-source-redaction"), "redact");
    let body = page(&web.get(&format!("/dashboard/templates/{id}")).await, 200);
    assert!(
        body.contains("<option value=\"redact\" selected>"),
        "the edit form shows the policy"
    );
    // Saving the form with `keep` changes it back; anything else is refused as typed.
    let path = format!("/dashboard/templates/{id}");
    let r = web
        .post(
            &path,
            &[("name", "Strict"), ("on_source_redaction", "keep")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", super::html(&r));
    let t = app
        .fetch(&a.org.sandbox, &format!("/api/v1/inquiry-templates/{id}"))
        .await;
    assert_eq!(t.attr("on-source-redaction"), "keep");
    let body = page(
        &web.post(
            &path,
            &[("name", "Strict"), ("on_source_redaction", "erase")],
        )
        .await,
        422,
    );
    assert!(body.contains("kept or redacted"), "{body}");
}

on_both_backends!(
    a_copys_page_shows_its_source_status,
    the_template_form_sets_the_policy,
);
