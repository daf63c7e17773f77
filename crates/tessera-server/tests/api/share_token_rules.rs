//! §3.5: the share-token transitions the contract forbids, and what strangers (a third
//! organization, the other environment) get on every token route.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::Connected;

const TOKENS: &str = "/api/v1/connect/share-tokens";

async fn forbidden_token_transitions_change_nothing(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let (src, dst) = (&w.src.sandbox, &w.dst.sandbox);

    let expired_by_call = w.token().await;
    app.token_action(src, &expired_by_call, "expire")
        .await
        .expect(200);
    let redeemed = w.token().await;
    app.token_action(dst, &redeemed, "redeem").await.expect(202);
    app.drain().await;
    // The source is redacted before the copy runs: the redemption fails.
    let other_source = app
        .completed_inquiry(src, json!({"name-first": "Gone"}))
        .await;
    let failed_on_redaction = app.share_token(src, &w.connection, &other_source).await;
    app.token_action(dst, &failed_on_redaction, "redeem")
        .await
        .expect(202);
    app.delete(&format!("/api/v1/inquiries/{other_source}"))
        .key(src)
        .send()
        .await
        .expect(200);
    app.drain().await;
    let pending = w.token().await;
    app.token_action(dst, &pending, "redeem").await.expect(202);
    let expired_by_time = app
        .create_token(
            src,
            json!({"connection-id": w.connection, "source-id": w.inquiry, "expires-in-seconds": 60}),
        )
        .await
        .expect(201)
        .id();
    app.db.clock.advance_seconds(120);
    let failed = app
        .fetch(src, &Connected::token_path(&failed_on_redaction))
        .await;
    assert_eq!(failed.attr("failure-reason"), "source_redacted");

    let cases: Vec<(&str, &String, &str, &str, &str)> = vec![
        // (status, token, key, action, code)
        (
            "pending",
            &pending,
            src,
            "expire",
            "invalid_status_transition",
        ),
        (
            "pending",
            &pending,
            dst,
            "expire",
            "invalid_status_transition",
        ),
        (
            "pending",
            &pending,
            dst,
            "redeem",
            "share_token_not_redeemable",
        ),
        (
            "redeemed",
            &redeemed,
            src,
            "expire",
            "invalid_status_transition",
        ),
        (
            "redeemed",
            &redeemed,
            dst,
            "expire",
            "invalid_status_transition",
        ),
        (
            "redeemed",
            &redeemed,
            dst,
            "redeem",
            "share_token_not_redeemable",
        ),
        (
            "failed",
            &failed_on_redaction,
            src,
            "expire",
            "invalid_status_transition",
        ),
        (
            "failed",
            &failed_on_redaction,
            dst,
            "expire",
            "invalid_status_transition",
        ),
        (
            "failed",
            &failed_on_redaction,
            dst,
            "redeem",
            "share_token_not_redeemable",
        ),
        (
            "expired",
            &expired_by_call,
            src,
            "expire",
            "invalid_status_transition",
        ),
        (
            "expired",
            &expired_by_call,
            dst,
            "redeem",
            "share_token_expired",
        ),
        // Past its time but not yet swept: reported as expired, and treated as expired.
        (
            "expired",
            &expired_by_time,
            src,
            "expire",
            "invalid_status_transition",
        ),
        (
            "expired",
            &expired_by_time,
            dst,
            "expire",
            "invalid_status_transition",
        ),
        (
            "expired",
            &expired_by_time,
            dst,
            "redeem",
            "share_token_expired",
        ),
    ];
    for (status, token, key, action, code) in cases {
        let before = w.token_snapshot(token).await;
        assert_eq!(before[0]["data"]["attributes"]["status"], status);
        app.token_action(key, token, action)
            .await
            .refused(409, code);
        assert_eq!(
            w.token_snapshot(token).await,
            before,
            "{action} of a {status} token changed something"
        );
    }
    assert_eq!(app.drain().await, 1, "only the pending token's own job");
    // The sweep still persists the time-expired token, once.
    assert_eq!(app.worker().housekeeping().await.unwrap(), 1);
    assert_eq!(
        app.events_named(src, "connect/share-token.outbound-expired")
            .await
            .len(),
        2
    );
}

async fn a_stranger_sees_no_token(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let stranger = app.org("Gamma").await;
    let token = w.token().await;
    let before = w.token_snapshot(&token).await;
    let path = Connected::token_path(&token);
    for key in [
        &stranger.sandbox,
        &stranger.production,
        &w.src.production,
        &w.dst.production,
    ] {
        for p in [path.clone(), format!("{path}?peek-source-data=true")] {
            app.get(&p).key(key).send().await.refused(404, "not_found");
        }
        for action in ["redeem", "expire"] {
            app.token_action(key, &token, action)
                .await
                .refused(404, "not_found");
        }
        app.redeem_with(key, &token, json!({"meta": {"field-mappings": []}}))
            .await
            .refused(404, "not_found");
        assert!(app.fetch(key, TOKENS).await.ids().is_empty());
        // A token cannot be made on someone else's connection either (422: Persona documents
        // no 404 for this operation).
        let r = app
            .create_token(
                key,
                json!({"connection-id": w.connection, "source-id": w.inquiry}),
            )
            .await
            .refused(422, "reference_not_found");
        assert_eq!(r.pointer(), "/data/attributes/connection-id");
    }
    for key in [&stranger.sandbox, &stranger.production] {
        assert!(app.events(key).await.is_empty());
        assert!(
            app.fetch(key, "/api/v1/connect/connections")
                .await
                .ids()
                .is_empty()
        );
    }
    assert_eq!(w.token_snapshot(&token).await, before);
    assert_eq!(app.drain().await, 0);
}

on_both_backends!(
    forbidden_token_transitions_change_nothing,
    a_stranger_sees_no_token,
);
