//! The pages and their forms: the Connect story through the dashboard alone, empty states,
//! secrets shown once, and forms that answer with their errors (never a 500).

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, html, page, user};
use crate::support::App;

/// The id at the end of a redirect's location (`/dashboard/share-tokens/cnst_…?done=…`).
fn id_in(location: Option<&str>) -> String {
    location
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn connect_story_through_the_dashboard(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let inquiry = app
        .completed_inquiry(
            &a.org.sandbox,
            json!({"name-first": "Jane", "birthdate": "1990-04-01"}),
        )
        .await;
    let template = app.template(&b.org.sandbox, "Bravo KYC").await;
    let mut alpha = Browser::new(&app);
    alpha.sign_in(&a).await;
    let mut bravo = Browser::new(&app);
    bravo.sign_in(&b).await;

    // Empty states say what to do next.
    let body = page(&alpha.get("/dashboard/share-tokens").await, 200);
    assert!(body.contains("No share tokens yet") && body.contains("No active outbound connection"));
    for (path, hint) in [
        ("/dashboard/connections", "No connections yet"),
        (
            "/dashboard/inquiries",
            "Inquiries are created through the API",
        ),
        ("/dashboard/webhooks", "No webhooks yet"),
        ("/dashboard/workflows", "No workflows yet"),
    ] {
        assert!(page(&bravo.get(path).await, 200).contains(hint), "{path}");
    }

    let r = alpha
        .post(
            "/dashboard/connections",
            &[
                ("destination_organization_id", &b.org.id),
                ("name", "To Bravo"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let connection = id_in(r.header("location"));
    assert!(
        page(&alpha.get(r.header("location").unwrap()).await, 200).contains("Connection created")
    );
    // Only the destination can activate: the source's page offers no such button.
    assert!(
        !page(
            &alpha
                .get(&format!("/dashboard/connections/{connection}"))
                .await,
            200
        )
        .contains("/activate")
    );
    page(
        &alpha
            .post(
                &format!("/dashboard/connections/{connection}/activate"),
                &[],
            )
            .await,
        403,
    );
    let r = bravo
        .post(
            &format!("/dashboard/connections/{connection}/activate"),
            &[],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303);

    let r = alpha
        .post(
            "/dashboard/share-tokens",
            &[
                ("connection_id", &connection),
                ("inquiry_id", &inquiry),
                ("expires_in", "86400"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let token = id_in(r.header("location"));
    let body = page(
        &alpha.get(&format!("/dashboard/share-tokens/{token}")).await,
        200,
    );
    assert!(
        body.contains("Waiting for the destination organization"),
        "{body}"
    );
    // The creator is the signed-in user, as the API shows.
    let t = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&a.org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        t.json["data"]["relationships"]["creator"]["data"]["type"],
        "user"
    );

    // The destination's page previews the source from the API's peek: personal values by
    // their hint only, the source's status.
    let body = page(
        &bravo.get(&format!("/dashboard/share-tokens/{token}")).await,
        200,
    );
    let preview = body.split("id=\"preview\"").nth(1).expect("a preview");
    for expected in ["s-completed", "name-first", "J***", "1990", "(masked)"] {
        assert!(preview.contains(expected), "{expected}: {preview}");
    }
    assert!(!preview.contains("Jane") && !preview.contains("1990-04-01"));
    // The source's inquiry id is the source's (as the API's `source-id`), on the token's page
    // and on the connection's; the source sees it on its connection page.
    assert!(!body.contains(&inquiry), "{body}");
    let connection_page = format!("/dashboard/connections/{connection}");
    let theirs = page(&bravo.get(&connection_page).await, 200);
    assert!(
        theirs.contains(&token) && !theirs.contains(&inquiry),
        "{theirs}"
    );
    assert!(page(&alpha.get(&connection_page).await, 200).contains(&inquiry));
    let r = bravo
        .post(
            "/dashboard/share-tokens/redeem",
            &[("token_id", &token), ("template_id", &template)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    let body = page(&bravo.get(r.header("location").unwrap()).await, 200);
    assert!(
        body.contains("s-pending") && body.contains("http-equiv=\"refresh\""),
        "{body}"
    );
    app.worker().drain().await.unwrap();
    let body = page(
        &bravo.get(&format!("/dashboard/share-tokens/{token}")).await,
        200,
    );
    assert!(body.contains("s-redeemed") && !body.contains("http-equiv"));
    let copy = body
        .split("id=\"destination-link\"><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let body = page(
        &bravo.get(&format!("/dashboard/inquiries/{copy}")).await,
        200,
    );
    for expected in [
        "Shared with you",
        "Alpha",
        &inquiry,
        "Share token verification",
        "required_fields_present",
    ] {
        assert!(body.contains(expected), "{expected}: {body}");
    }
    // The source sees the token redeemed, and its own inquiry linked.
    let body = page(
        &alpha.get(&format!("/dashboard/share-tokens/{token}")).await,
        200,
    );
    assert!(body.contains("s-redeemed") && body.contains("id=\"source-link\""));
    // A second redemption is refused on the page.
    let body = page(
        &bravo
            .post(&format!("/dashboard/share-tokens/{token}/redeem"), &[])
            .await,
        409,
    );
    assert!(body.contains("cannot be redeemed"), "{body}");
    // Filters and events.
    assert!(
        page(
            &alpha
                .get("/dashboard/share-tokens?status=redeemed&direction=outbound")
                .await,
            200
        )
        .contains(&token)
    );
    assert!(
        page(
            &alpha.get("/dashboard/share-tokens?status=created").await,
            200
        )
        .contains("No tokens match")
    );
    let body = page(
        &bravo
            .get("/dashboard/events?name=connect%2Fshare-token.inbound-redeemed")
            .await,
        200,
    );
    assert!(body.contains("connect/share-token.inbound-redeemed"));
}

async fn forms_answer_with_their_errors(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let created = app.inquiry(&a.org.sandbox, json!({})).await;
    let connection = app.active_connection(&a.org, &b.org).await;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;

    // (form, fields, status, message)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/dashboard/share-tokens",
            vec![("connection_id", &connection), ("inquiry_id", "nope")],
            422,
            "Enter the id of one of your inquiries",
        ),
        (
            "/dashboard/share-tokens",
            vec![("connection_id", &connection), ("inquiry_id", &created)],
            422,
            "Only completed or approved inquiries",
        ),
        (
            "/dashboard/share-tokens",
            vec![("connection_id", "cxn_x"), ("inquiry_id", &created)],
            422,
            "Pick an active outbound connection",
        ),
        (
            "/dashboard/share-tokens",
            vec![
                ("connection_id", &connection),
                ("inquiry_id", &created),
                ("expires_in", "5"),
            ],
            422,
            "between 60 and",
        ),
        (
            "/dashboard/share-tokens/redeem",
            vec![("token_id", "hello")],
            422,
            "Paste the id of a share token",
        ),
        (
            "/dashboard/share-tokens/redeem",
            vec![("token_id", "cnst_0000000000000000000000")],
            404,
            "no share token with that id",
        ),
        (
            "/dashboard/connections",
            vec![("destination_organization_id", "someone")],
            422,
            "organization id (it starts with org_",
        ),
        (
            "/dashboard/connections",
            vec![(
                "destination_organization_id",
                "org_000000000000000000000000",
            )],
            422,
            "no organization with that id",
        ),
        (
            "/dashboard/connections",
            vec![("destination_organization_id", &b.org.id)],
            409,
            "already exists",
        ),
        (
            "/dashboard/webhooks",
            vec![("url", "http://127.0.0.1:9/hook"), ("enabled_events", "*")],
            422,
            "",
        ),
        (
            "/dashboard/webhooks",
            vec![
                ("url", "https://example.com/hook"),
                ("enabled_events", "no.such-event"),
            ],
            422,
            "no.such-event",
        ),
        (
            "/dashboard/api-keys",
            vec![("name", "")],
            422,
            "Give the key a name",
        ),
    ];
    for (path, fields, status, message) in cases {
        let r = web.post(path, &fields).await;
        let body = page(&r, status);
        assert!(body.contains("class=\"error\""), "{path}: {body}");
        assert!(
            body.contains(message),
            "{path} {fields:?}: {message:?} not in {body}"
        );
        // The form is there again, with what was typed.
        assert!(
            body.contains("<form method=\"post\" action=\"") && body.contains("csrf_token"),
            "{path}"
        );
        for (_, v) in &fields {
            // (Ids picked from a list, short numbers and URLs, which escaping changes, aside.)
            let typed = v.len() > 3
                && !v.contains('/')
                && !v.starts_with("cxn_")
                && !v.starts_with("cnst_0");
            if typed {
                assert!(body.contains(v), "{path}: {v} not kept");
            }
        }
    }
    // Odd bodies and paths are pages too, never JSON or a 500.
    let r = web
        .send(
            axum::http::Method::POST,
            "/dashboard/connections",
            Some("%%%&&&==".into()),
        )
        .await;
    page(&r, 403);
    page(&web.get("/dashboard/no-such-page").await, 404);
    page(
        &web.get("/dashboard/share-tokens?after=cnst_unknown0000000000000000&status=bogus")
            .await,
        200,
    );
    page(&web.get("/dashboard/share-tokens/%00").await, 404);
    // Any method but GET and HEAD passes the CSRF guard first; with the token, a method the page
    // does not take is a page too.
    page(
        &web.send(axum::http::Method::DELETE, "/dashboard/share-tokens", None)
            .await,
        403,
    );
    let body = super::form(&[("csrf_token", &web.csrf.clone())]);
    page(
        &web.send(
            axum::http::Method::DELETE,
            "/dashboard/share-tokens",
            Some(body),
        )
        .await,
        405,
    );
}

async fn secrets_are_shown_once(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
    })
    .await;
    let a = user(&app, "Alpha", "admin").await;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;

    let body = page(
        &web.post(
            "/dashboard/api-keys",
            &[("name", "ci"), ("expires_in_days", "30")],
        )
        .await,
        200,
    );
    let secret = body
        .split("<code data-copy>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("tsk_sandbox_"));
    app.get("/api/v1/organization")
        .key(&secret)
        .send()
        .await
        .expect(200);
    let list = page(&web.get("/dashboard/api-keys").await, 200);
    assert!(list.contains("ci") && !list.contains(&secret));
    let key_id = app.api_key_id(&secret).await;
    let r = web
        .post(&format!("/dashboard/api-keys/{key_id}/expire"), &[])
        .await;
    assert_eq!(r.status.as_u16(), 303);
    app.get("/api/v1/organization")
        .key(&secret)
        .send()
        .await
        .expect(401);

    let body = page(
        &web.post(
            "/dashboard/webhooks",
            &[
                ("name", "Receiver hook"),
                ("url", "http://127.0.0.1:9/hook"),
                ("enabled_events", "inquiry.created, inquiry.completed"),
            ],
        )
        .await,
        200,
    );
    let secret = body
        .split("<code data-copy>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("wbhsec_"), "{secret}");
    let webhook = body
        .split("/dashboard/webhooks/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let shown = page(
        &web.get(&format!("/dashboard/webhooks/{webhook}")).await,
        200,
    );
    assert!(!shown.contains(&secret));
    assert!(
        shown.contains(r#"<dd id="webhook-name">Receiver hook</dd>"#),
        "the name given in the form"
    );
    let rotated = page(
        &web.post(&format!("/dashboard/webhooks/{webhook}/rotate-secret"), &[])
            .await,
        200,
    );
    assert!(rotated.contains("wbhsec_") && !rotated.contains(&secret));

    // A delivery that fails shows its attempts and can be retried.
    app.inquiry(&a.org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let body = page(
        &web.get(&format!("/dashboard/webhooks/{webhook}")).await,
        200,
    );
    let delivery = body
        .split("/dashboard/webhook-deliveries/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = web
        .post(&format!("/dashboard/webhooks/{webhook}/disable"), &[])
        .await;
    assert_eq!(r.status.as_u16(), 303);
    let body = page(
        &web.get(&format!("/dashboard/webhook-deliveries/{delivery}"))
            .await,
        200,
    );
    assert!(
        body.contains("s-canceled") || body.contains("s-failed") || body.contains("s-pending"),
        "{body}"
    );
    // Retrying needs an enabled webhook: the page says so.
    let body = page(
        &web.post(
            &format!("/dashboard/webhook-deliveries/{delivery}/retry"),
            &[],
        )
        .await,
        409,
    );
    assert!(
        body.contains("not enabled") || body.contains("cannot be retried"),
        "{body}"
    );
    web.post(&format!("/dashboard/webhooks/{webhook}/enable"), &[])
        .await;
    let r = web
        .post(
            &format!("/dashboard/webhook-deliveries/{delivery}/retry"),
            &[],
        )
        .await;
    assert!(matches!(r.status.as_u16(), 303 | 409), "{}", html(&r));
}

async fn lists_page_and_text_is_escaped(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let fields = json!({"name-first": format!("<script>alert({i})</script>")});
        ids.push(app.inquiry(&a.org.sandbox, fields).await);
    }
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let first = page(&web.get("/dashboard/inquiries").await, 200);
    // Newest first, 20 a page, with a link to the older ones.
    assert!(first.contains(&ids[24]) && first.contains(&ids[5]) && !first.contains(&ids[4]));
    assert!(!first.contains("<script>alert"), "user text is escaped");
    assert!(first.contains("script&#62;alert(24)"), "{first}");
    assert!(
        !first.contains("rel=\"prev\""),
        "the first page has no newer page"
    );
    let next = first
        .split("<a href=\"")
        .filter(|p| p.contains("rel=\"next\""))
        .map(|p| p.split('"').next().unwrap().replace("&#38;", "&"))
        .next()
        .expect("a link to the older page");
    let second = page(&web.get(&next).await, 200);
    assert!(second.contains(&ids[4]) && second.contains(&ids[0]) && !second.contains(&ids[5]));
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));
}

async fn the_inquiry_page_shows_personas_attributes(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let k = &a.org.sandbox;
    let inquiry = app
        .post("/api/v1/inquiries")
        .key(k)
        .json(json!({"data": {"attributes": {
            "creator-email-address": "ops@alpha.example",
            "fields": {"name-first": "Zelda-Secret"}}}}))
        .send()
        .await
        .expect(201)
        .id();
    app.act(k, &inquiry, "fail").await.expect(200);
    app.post(&format!("/api/v1/inquiries/{inquiry}/approve"))
        .key(k)
        .json(json!({"meta": {"comment": "fine <b>really</b>"}}))
        .send()
        .await
        .expect(200);
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let url = format!("/dashboard/inquiries/{inquiry}");
    let body = page(&web.get(&url).await, 200);
    for expected in [
        "id=\"inquiry-creator\">ops@alpha.example<",
        "Started",
        "Failed",
        "id=\"reviewer-comment\">fine &#60;b&#62;really&#60;/b&#62;<",
        "Zelda-Secret",
    ] {
        assert!(body.contains(expected), "{expected}: {body}");
    }
    // After redaction the field names stay in the API, but the page shows no values.
    app.delete(&format!("/api/v1/inquiries/{inquiry}"))
        .key(k)
        .send()
        .await
        .expect(200);
    let body = page(&web.get(&url).await, 200);
    assert!(
        body.contains("removed when this inquiry was redacted"),
        "{body}"
    );
    assert!(!body.contains("Zelda-Secret") && !body.contains("reviewer-comment"));
}

on_both_backends!(
    the_inquiry_page_shows_personas_attributes,
    lists_page_and_text_is_escaped,
    connect_story_through_the_dashboard,
    forms_answer_with_their_errors,
    secrets_are_shown_once,
);
