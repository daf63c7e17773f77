//! A user of one organization can never see or change another's data: every page and action on
//! another organization's object answers "not found", and the object is unchanged.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, page, user};
use crate::support::{App, Part};

async fn no_page_shows_or_changes_another_organizations_objects(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
    })
    .await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let c = app.org("Charlie").await;
    let key = &a.org.sandbox;

    // Alpha's objects: an inquiry with a verification and a document, a connection and a share
    // token with Charlie (not Bravo), a webhook with a failed delivery, an API key.
    let inquiry = app
        .completed_inquiry(key, json!({"name-first": "Jane"}))
        .await;
    let open = app.inquiry(key, json!({})).await;
    app.verify(key, &open, "selfie", "passed").await.expect(201);
    let document = app
        .upload(
            key,
            &open,
            &[
                Part::text("kind", "selfie"),
                Part::file("a.png", "image/png", b"png".to_vec()),
            ],
        )
        .await
        .expect(201)
        .id();
    let connection = app.active_connection(&a.org, &c).await;
    let token = app.share_token(key, &connection, &inquiry).await;
    let webhook = app
        .post("/api/v1/webhooks")
        .key(key)
        .json(json!({"data": {"attributes": {"url": "http://127.0.0.1:9/hook", "enabled-events": ["*"]}}}))
        .send()
        .await
        .expect(201)
        .id();
    app.inquiry(key, json!({})).await; // an event, so a delivery
    let delivery = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
        .key(key)
        .send()
        .await
        .expect(200)
        .ids()[0]
        .clone();
    app.post(&format!("/api/v1/webhooks/{webhook}/disable"))
        .key(key)
        .send()
        .await
        .expect(200);
    let event = app
        .get("/api/v1/events")
        .key(key)
        .send()
        .await
        .expect(200)
        .ids()[0]
        .clone();
    let api_key = app.api_key_id(key).await;

    let mut web = Browser::new(&app);
    web.sign_in(&b).await;
    for path in [
        format!("/dashboard/inquiries/{inquiry}"),
        format!("/dashboard/inquiries/{open}"),
        format!("/dashboard/documents/{document}/file"),
        format!("/dashboard/connections/{connection}"),
        format!("/dashboard/share-tokens/{token}"),
        format!("/dashboard/webhooks/{webhook}"),
        format!("/dashboard/webhook-deliveries/{delivery}"),
        format!("/dashboard/events/{event}"),
        "/dashboard/inquiries/not-an-id".to_owned(),
    ] {
        let body = page(&web.get(&path).await, 404);
        assert!(body.contains("Not found"), "{path}: {body}");
    }
    for (path, fields) in [
        (format!("/dashboard/share-tokens/{token}/expire"), vec![]),
        (format!("/dashboard/share-tokens/{token}/redeem"), vec![]),
        (
            "/dashboard/share-tokens/redeem".to_owned(),
            vec![("token_id", token.as_str())],
        ),
        (
            format!("/dashboard/connections/{connection}/deactivate"),
            vec![],
        ),
        (format!("/dashboard/webhooks/{webhook}/enable"), vec![]),
        (
            format!("/dashboard/webhooks/{webhook}/rotate-secret"),
            vec![],
        ),
        (
            format!("/dashboard/webhook-deliveries/{delivery}/retry"),
            vec![],
        ),
        (format!("/dashboard/api-keys/{api_key}/expire"), vec![]),
    ] {
        let r = web.post(&path, &fields).await;
        // The list page answers a redeem by id with its form and the message; everything else
        // is the not-found page.
        let body = page(&r, 404);
        assert!(!body.contains(&inquiry), "{path} leaks the source inquiry");
    }
    // Alpha's objects are as they were.
    let t = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(key)
        .send()
        .await
        .expect(200);
    assert_eq!(t.attr("status"), "created");
    let cx = app
        .get(&format!("/api/v1/connect/connections/{connection}"))
        .key(key)
        .send()
        .await
        .expect(200);
    assert_eq!(cx.attr("status"), "active");
    let w = app
        .get(&format!("/api/v1/webhooks/{webhook}"))
        .key(key)
        .send()
        .await
        .expect(200);
    assert_eq!(w.attr("status"), "disabled");
    app.get("/api/v1/organization")
        .key(key)
        .send()
        .await
        .expect(200);
    // Bravo's lists show none of it.
    for list in [
        "/dashboard/share-tokens",
        "/dashboard/connections",
        "/dashboard/inquiries",
        "/dashboard/events",
        "/dashboard/webhooks",
    ] {
        let body = page(&web.get(list).await, 200);
        for id in [&inquiry, &connection, &token, &webhook, &event] {
            assert!(!body.contains(id.as_str()), "{list} shows {id}");
        }
    }
}

on_both_backends!(no_page_shows_or_changes_another_organizations_objects);
