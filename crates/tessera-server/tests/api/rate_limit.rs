//! §1 rate limits: per API key, a one-minute window on the store's clock.

use tessera_core::Clock;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Resp};

fn header_u64(r: &Resp, name: &str) -> u64 {
    r.header(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .parse()
        .unwrap()
}

async fn each_key_gets_its_limit_per_minute(backend: Backend) {
    let app = App::with_config(backend, |c| c.rate_limit_per_minute = 3).await;
    let org = app.org("Acme").await;
    let k = &org.sandbox;
    // Start at the beginning of a window, so the whole test stays inside it.
    let now = app.db.clock.now().millis();
    app.db.clock.advance_millis(60_000 - now.rem_euclid(60_000));
    for remaining in [2, 1, 0] {
        let r = app.get("/api/v1/inquiries").key(k).send().await.expect(200);
        assert_eq!(header_u64(&r, "ratelimit-limit"), 3);
        assert_eq!(header_u64(&r, "ratelimit-remaining"), remaining);
        assert_eq!(header_u64(&r, "ratelimit-reset"), 60);
    }
    app.db.clock.advance_seconds(15);
    // Writes and errors count the same, and the 429 is an error document with Retry-After.
    let r = app
        .post("/api/v1/inquiries")
        .key(k)
        .send()
        .await
        .expect(429);
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(header_u64(&r, "retry-after"), 45);
    assert_eq!(header_u64(&r, "ratelimit-remaining"), 0);
    assert_eq!(header_u64(&r, "ratelimit-reset"), 45);
    assert!(r.header("request-id").is_some());
    // A refused request is still an authenticated one: it says whose it was.
    assert_eq!(r.header("persona-organization-id"), Some(org.id.as_str()));
    assert!(
        r.header("persona-environment-id")
            .is_some_and(|e| e.starts_with("env_"))
    );
    // Other keys, even of the same organization, have their own count.
    let r = app
        .get("/api/v1/inquiries")
        .key(&org.production)
        .send()
        .await
        .expect(200);
    assert_eq!(header_u64(&r, "ratelimit-remaining"), 2);
    // Refused requests did not run.
    assert!(
        app.all(&org.production, "/api/v1/inquiries")
            .await
            .is_empty()
    );
    app.db.clock.advance_seconds(44);
    app.get("/api/v1/inquiries").key(k).send().await.expect(429);
    // The window resets when the clock passes the minute.
    app.db.clock.advance_seconds(1);
    let r = app.get("/api/v1/inquiries").key(k).send().await.expect(200);
    assert_eq!(header_u64(&r, "ratelimit-remaining"), 2);
    assert!(app.all(k, "/api/v1/inquiries").await.is_empty());
}

async fn unauthenticated_and_operator_requests_are_not_counted(backend: Backend) {
    let app = App::with_config(backend, |c| c.rate_limit_per_minute = 1).await;
    let org = app.org("Acme").await;
    for _ in 0..3 {
        let r = app.get("/api/v1/inquiries").send().await.expect(401);
        assert_eq!(r.header("ratelimit-limit"), None);
        app.get("/admin/v1/organizations")
            .key(crate::support::ADMIN)
            .send()
            .await
            .expect(200);
        app.get("/healthz").send().await.expect(200);
    }
    let r = app
        .get("/api/v1/inquiries")
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(header_u64(&r, "ratelimit-remaining"), 0);
}

async fn zero_means_unlimited(backend: Backend) {
    let app = App::with_config(backend, |c| c.rate_limit_per_minute = 0).await;
    let org = app.org("Acme").await;
    for _ in 0..20 {
        let r = app
            .get("/api/v1/organization")
            .key(&org.sandbox)
            .send()
            .await
            .expect(200);
        // Never refused; the headers (sent on every authenticated response) report an
        // unlimited window.
        assert_eq!(header_u64(&r, "ratelimit-limit"), u64::from(u32::MAX));
        assert_eq!(header_u64(&r, "ratelimit-remaining"), u64::from(u32::MAX));
    }
}

on_both_backends!(
    each_key_gets_its_limit_per_minute,
    unauthenticated_and_operator_requests_are_not_counted,
    zero_means_unlimited,
);
