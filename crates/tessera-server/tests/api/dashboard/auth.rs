//! Signing in and out, sessions, CSRF and the sign-in throttle.

use std::net::SocketAddr;

use axum::http::Method;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, form, html, page, set_cookies, user};
use crate::support::App;

/// How many dashboard sessions are stored.
async fn sessions(app: &App) -> i64 {
    tessera_store::testing::sql::fetch_one(
        &app.db.store,
        "select count(*) as n from dashboard_sessions",
        vec![],
    )
    .await
    .and_then(|r| r.i64("n"))
    .unwrap()
}

async fn sessions_start_expire_and_end(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let mut web = Browser::new(&app);

    // Signed out: pages send the browser to the sign-in form, and back afterwards.
    let r = web.get("/dashboard/inquiries?status=completed").await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(
        r.header("location"),
        Some("/dashboard/sign-in?next=%2Fdashboard%2Finquiries%3Fstatus%3Dcompleted")
    );

    // A wrong password and an unknown email get the same answer.
    let wrong = web.try_sign_in(&a.email, "not-the-password").await;
    let body = page(&wrong, 401);
    assert!(body.contains("do not match"), "{body}");
    let unknown = web
        .try_sign_in("nobody@nowhere.example", "whatever-password")
        .await;
    assert_eq!(
        page(&unknown, 401),
        body.replace(&a.email, "nobody@nowhere.example")
    );

    // Signing in sets an HttpOnly, SameSite=Lax session cookie scoped to the dashboard.
    web.get("/dashboard/sign-in").await;
    let r = web
        .post(
            "/dashboard/sign-in",
            &[
                ("email", &a.email.to_uppercase()),
                ("password", &a.password),
                ("next", "/dashboard/events"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
    assert_eq!(r.header("location"), Some("/dashboard/events"));
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("tessera_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/dashboard"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let body = page(&web.get("/dashboard/events").await, 200);
    assert!(body.contains(&a.email) && body.contains("Alpha"));
    // Pages are not cached and cannot be framed.
    let r = web.get("/dashboard/events").await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));

    // A session unused for 12 hours ends, and the worker purges it.
    assert_eq!(sessions(&app).await, 1);
    app.db.clock.advance_seconds(12 * 3600 + 1);
    let r = web.get("/dashboard/events").await;
    assert_eq!(r.status.as_u16(), 303);
    app.worker().housekeeping().await.unwrap();
    assert_eq!(sessions(&app).await, 0);

    // Signing out ends the session on the server: the old cookie no longer works.
    web.sign_in(&a).await;
    let session = web.cookies.clone();
    let r = web.post("/dashboard/sign-out", &[]).await;
    assert_eq!(
        r.header("location"),
        Some("/dashboard/sign-in?signed-out=1")
    );
    assert!(
        set_cookies(&r)
            .iter()
            .any(|c| c.starts_with("tessera_session=;") && c.contains("Max-Age=0"))
    );
    web.cookies = session;
    assert_eq!(web.get("/dashboard/events").await.status.as_u16(), 303);

    // Behind a TLS proxy the cookie is Secure.
    let r = app
        .get("/dashboard/sign-in")
        .header("x-forwarded-proto", "https")
        .send()
        .await;
    assert!(set_cookies(&r).iter().all(|c| c.contains("; Secure")));
}

async fn every_form_needs_its_sessions_csrf_token(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let mut other = Browser::new(&app);
    other.sign_in(&b).await;

    let create = |csrf: Option<&str>| {
        let mut fields = vec![("destination_organization_id", b.org.id.as_str())];
        if let Some(c) = csrf {
            fields.push(("csrf_token", c));
        }
        form(&fields)
    };
    for body in [
        create(None),
        create(Some("")),
        create(Some(&other.csrf)),
        create(Some(&"x".repeat(43))),
    ] {
        let r = web
            .send(Method::POST, "/dashboard/connections", Some(body))
            .await;
        assert!(page(&r, 403).contains("This form has expired"));
    }
    // Nothing was created.
    assert!(page(&web.get("/dashboard/connections").await, 200).contains("No connections yet"));
    // With the session's own token, it works.
    let r = web
        .post(
            "/dashboard/connections",
            &[("destination_organization_id", &b.org.id)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", html(&r));

    // A POST without a session goes to the sign-in page; the sign-in form itself needs the token
    // of its own cookie.
    let mut stranger = Browser::new(&app);
    let r = stranger
        .send(
            Method::POST,
            "/dashboard/share-tokens/redeem",
            Some(form(&[("token_id", "x")])),
        )
        .await;
    assert_eq!(r.status.as_u16(), 303);
    let r = stranger
        .send(
            Method::POST,
            "/dashboard/sign-in",
            Some(form(&[("email", &a.email), ("password", &a.password)])),
        )
        .await;
    page(&r, 403);
}

async fn failed_sign_ins_are_throttled(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.sign_in_failures_per_email = 3;
        c.sign_in_failures_per_address = 5;
    })
    .await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let mut web = Browser::new(&app);
    web.address = Some(SocketAddr::from(([192, 0, 2, 1], 4000)));
    for _ in 0..3 {
        page(&web.try_sign_in(&a.email, "wrong-password").await, 401);
    }
    // Over the limit, even the right password is refused, and the page says when to try again.
    let r = web.try_sign_in(&a.email, &a.password).await;
    assert!(page(&r, 429).contains("Too many failed sign-ins"));
    assert!(r.header("retry-after").unwrap().parse::<i64>().unwrap() > 0);
    // Another email from another address is not affected.
    let mut elsewhere = Browser::new(&app);
    elsewhere.address = Some(SocketAddr::from(([192, 0, 2, 2], 4000)));
    elsewhere.sign_in(&b).await;
    // After the window, the right password works again.
    app.db.clock.advance_seconds(15 * 60 + 1);
    assert_eq!(
        web.try_sign_in(&a.email, &a.password).await.status.as_u16(),
        303
    );

    // Failures from one address count across emails.
    let mut spray = Browser::new(&app);
    spray.address = Some(SocketAddr::from(([192, 0, 2, 9], 4000)));
    for i in 0..5 {
        page(
            &spray
                .try_sign_in(&format!("guess{i}@x.example"), "wrong-password")
                .await,
            401,
        );
    }
    page(&spray.try_sign_in(&b.email, &b.password).await, 429);
}

async fn environment_switch_changes_what_pages_show(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let sandbox_inquiry = app.inquiry(&a.org.sandbox, serde_json::json!({})).await;
    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    assert!(page(&web.get("/dashboard/inquiries").await, 200).contains(&sandbox_inquiry));
    let r = web
        .post(
            "/dashboard/environment",
            &[
                ("environment", "production"),
                ("return_to", "/dashboard/inquiries"),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some("/dashboard/inquiries"));
    let body = page(&web.get("/dashboard/inquiries").await, 200);
    assert!(
        body.contains("No inquiries in this environment yet"),
        "{body}"
    );
    assert!(body.contains("env-banner"));
    page(
        &web.get(&format!("/dashboard/inquiries/{sandbox_inquiry}"))
            .await,
        404,
    );
    // Anything but the two environments is refused on the page; a foreign return address is ignored.
    page(
        &web.post("/dashboard/environment", &[("environment", "staging")])
            .await,
        422,
    );
    let r = web
        .post(
            "/dashboard/environment",
            &[
                ("environment", "sandbox"),
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some("/dashboard/share-tokens"));
}

async fn members_cannot_manage_keys_or_webhooks(backend: Backend) {
    let app = App::new(backend).await;
    let m = user(&app, "Alpha", "member").await;
    let mut web = Browser::new(&app);
    web.sign_in(&m).await;
    let body = page(&web.get("/dashboard/api-keys").await, 200);
    assert!(!body.contains("create-key"), "no create form for members");
    page(
        &web.post("/dashboard/api-keys", &[("name", "mine")]).await,
        403,
    );
    page(
        &web.post("/dashboard/webhooks", &[("url", "https://example.com/")])
            .await,
        403,
    );
}

on_both_backends!(
    sessions_start_expire_and_end,
    every_form_needs_its_sessions_csrf_token,
    failed_sign_ins_are_throttled,
    environment_switch_changes_what_pages_show,
    members_cannot_manage_keys_or_webhooks,
);
