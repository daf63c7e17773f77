//! Batches through the dashboard: select inquiries and share them with a connection, select
//! inbound tokens and redeem them, and follow a batch's progress on its page; the forms carry the
//! CSRF token like every other, refuse an empty selection, and a batch is its maker's alone.

use axum::http::Method;
use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, form, html, page, user};
use crate::support::App;

async fn batches(app: &App) -> i64 {
    tessera_store::testing::sql::fetch_one(
        &app.db.store,
        "select count(*) as n from share_token_batches",
        vec![],
    )
    .await
    .and_then(|r| r.i64("n"))
    .unwrap()
}

/// The batch id a form redirected to.
fn batch_in(r: &crate::support::Resp) -> String {
    let location = r.header("location").unwrap_or_default();
    assert!(
        location.starts_with("/dashboard/share-token-batches/stb_"),
        "{location}: {}",
        html(r)
    );
    location.rsplit('/').next().unwrap().to_owned()
}

async fn select_share_and_redeem_many(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let connection = app.active_connection(&a.org, &b.org).await;
    let mut sources = Vec::new();
    for i in 0..3 {
        sources.push(
            app.completed_inquiry(&a.org.sandbox, json!({"name-first": format!("P{i}")}))
                .await,
        );
    }
    let mut alpha = Browser::new(&app);
    alpha.sign_in(&a).await;
    let list = page(&alpha.get("/dashboard/inquiries").await, 200);
    assert!(list.contains(r#"id="share-selected""#));
    assert!(list.contains(&format!(r#"<option value="{connection}">"#)));
    for s in &sources {
        assert!(
            list.contains(&format!(r#"name="source_id" value="{s}""#)),
            "{s}"
        );
    }

    // Nothing selected, and a form without its CSRF token: refused, nothing written.
    let r = alpha
        .post(
            "/dashboard/share-token-batches",
            &[("connection_id", &connection)],
        )
        .await;
    assert!(page(&r, 422).contains("Select at least one inquiry"));
    let r = alpha
        .send(
            Method::POST,
            "/dashboard/share-token-batches",
            Some(form(&[
                ("connection_id", &connection),
                ("source_id", &sources[0]),
            ])),
        )
        .await;
    page(&r, 403);
    assert_eq!(batches(&app).await, 0);

    let mut fields = vec![
        ("connection_id", connection.as_str()),
        ("expires_in", "86400"),
    ];
    fields.extend(sources.iter().map(|s| ("source_id", s.as_str())));
    let r = alpha.post("/dashboard/share-token-batches", &fields).await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let made = batch_in(&r);
    let path = format!("/dashboard/share-token-batches/{made}");
    let running = page(&alpha.get(&path).await, 200);
    assert!(
        running.contains(r#"http-equiv="refresh""#),
        "reloads while pending"
    );
    assert!(running.contains(r#"<span id="count-pending">3</span>"#));
    app.drain().await;
    let done = page(&alpha.get(&path).await, 200);
    assert!(!done.contains(r#"http-equiv="refresh""#));
    assert!(done.contains(r#"<span id="count-succeeded">3</span>"#));
    assert_eq!(done.matches("/dashboard/share-tokens/cnst_").count(), 3);
    for s in &sources {
        assert!(done.contains(s.as_str()));
    }

    // The destination selects the inbound tokens and redeems them.
    let mut bravo = Browser::new(&app);
    bravo.sign_in(&b).await;
    let tokens = page(&bravo.get("/dashboard/share-tokens").await, 200);
    assert!(tokens.contains(r#"id="redeem-selected""#));
    let ids: Vec<String> = tokens
        .split(r#"type="checkbox" name="token_id" value=""#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "three inbound tokens to select");
    let mut fields = vec![("template_id", "")];
    fields.extend(ids.iter().map(|t| ("token_id", t.as_str())));
    let r = bravo
        .post("/dashboard/share-token-batches/redeem", &fields)
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let redeem = batch_in(&r);
    while app.drain().await > 0 {}
    let done = page(
        &bravo
            .get(&format!("/dashboard/share-token-batches/{redeem}"))
            .await,
        200,
    );
    assert!(
        done.contains(r#"<span id="count-succeeded">3</span>"#),
        "{done}"
    );
    assert_eq!(done.matches("s-redeemed").count(), 3);
    // Redeemed tokens are no longer offered.
    let tokens = page(&bravo.get("/dashboard/share-tokens").await, 200);
    assert!(!tokens.contains(r#"type="checkbox" name="token_id""#));

    // A batch is its maker's alone.
    page(&bravo.get(&path).await, 404);
    page(
        &alpha
            .get(&format!("/dashboard/share-token-batches/{redeem}"))
            .await,
        404,
    );
}

on_both_backends!(select_share_and_redeem_many);
