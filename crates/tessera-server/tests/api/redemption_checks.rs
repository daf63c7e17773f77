//! §3.5 redemption, step 3: the `share-token` verification of the copy against the destination's
//! template — freshness on the manual clock, each requirement's reasons, and no template at all.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{Connected, check};

async fn verification_freshness_follows_the_clock(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let src = &w.src.sandbox;
    let source = app.inquiry(src, json!({"name-first": "Janeczka"})).await;
    let gov = app
        .verification(
            src,
            &source,
            json!({"type": "government-id", "status": "passed", "completed-at": app.days_ago(300)}),
        )
        .await;
    app.post(&format!("/api/v1/inquiries/{source}/complete"))
        .key(src)
        .send()
        .await
        .expect(200);
    let template = app
        .template_with(
            &w.dst.sandbox,
            json!({"name": "fresh id", "required-verifications": [{"type": "government-id", "max-age-days": 365}]}),
        )
        .await;

    let fresh = w.copy_of(&source, Some(&template)).await;
    let (status, checks) = app.share_token_checks(&w.dst.sandbox, &fresh).await;
    assert_eq!(status, "passed");
    assert_eq!(check(&checks, "verification_freshness")["status"], "passed");
    assert_eq!(
        check(&checks, "required_verifications_passed")["status"],
        "passed"
    );
    assert_eq!(
        app.fetch(&w.dst.sandbox, &format!("/api/v1/inquiries/{fresh}"))
            .await
            .attr("status"),
        "completed"
    );

    app.db.clock.advance_seconds(100 * 86_400);
    let stale = w.copy_of(&source, Some(&template)).await;
    let (status, checks) = app.share_token_checks(&w.dst.sandbox, &stale).await;
    assert_eq!(status, "failed");
    let freshness = check(&checks, "verification_freshness");
    assert_eq!(freshness["status"], "failed");
    assert_eq!(freshness["requirement"], "required");
    let reason = freshness["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("government-id") && reason.contains("400 days"),
        "{reason}"
    );
    assert_eq!(
        check(&checks, "required_verifications_passed")["status"],
        "passed"
    );
    assert_eq!(
        app.fetch(&w.dst.sandbox, &format!("/api/v1/inquiries/{stale}"))
            .await
            .attr("status"),
        "needs_review"
    );
    let review = app
        .events_named(&w.dst.sandbox, "inquiry.marked-for-review")
        .await;
    assert_eq!(review.len(), 1);
    assert_eq!(
        review[0]["attributes"]["payload"]["data"]["id"],
        stale.as_str()
    );
    // The copy of the government id keeps its original completion time.
    let d = app
        .fetch(
            &w.dst.sandbox,
            &format!("/api/v1/inquiries/{stale}?include=verifications"),
        )
        .await;
    let copied = d.json["included"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["type"] == "verification/government-id")
        .unwrap();
    let original = app
        .fetch(src, &format!("/api/v1/verifications/{gov}"))
        .await;
    assert_eq!(
        copied["attributes"]["completed-at"],
        *original.attr("completed-at")
    );
}

async fn each_requirement_fails_with_a_reason(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let template = app
        .template_with(
            &w.dst.sandbox,
            json!({"name": "adult in US", "minimum-age": 18, "allowed-countries": ["US"]}),
        )
        .await;
    let adult = app.date_years_ago(30);
    let child = app.date_years_ago(17);
    let past = app.days_ago(1)[..10].to_owned();
    let future = app.date_years_ago(-3);
    let good = json!({"birthdate": adult, "address-country-code": "US", "expiration-date": future});
    let with = |k: &str, v: &str| {
        let mut f = good.clone();
        f[k] = json!(v);
        f
    };
    let cases = [
        (
            with("birthdate", &child),
            "minimum_age",
            "younger than 18".to_owned(),
        ),
        (
            with("address-country-code", "FR"),
            "country_allowed",
            "country FR is not allowed".into(),
        ),
        (
            with("expiration-date", &past),
            "document_not_expired",
            format!("expired on {past}"),
        ),
    ];
    // The copy of good data passes every check that applies.
    let source = app.completed_inquiry(&w.src.sandbox, good.clone()).await;
    let copy = w.copy_of(&source, Some(&template)).await;
    let (status, checks) = app.share_token_checks(&w.dst.sandbox, &copy).await;
    assert_eq!(status, "passed", "{checks:?}");
    for name in ["minimum_age", "country_allowed", "document_not_expired"] {
        assert_eq!(check(&checks, name)["status"], "passed", "{name}");
    }
    for (fields, failing, reason) in cases {
        let source = app.completed_inquiry(&w.src.sandbox, fields).await;
        let copy = w.copy_of(&source, Some(&template)).await;
        let (status, checks) = app.share_token_checks(&w.dst.sandbox, &copy).await;
        assert_eq!(status, "failed", "{failing}");
        for c in &checks {
            let expected = if c["name"] == failing {
                "failed"
            } else if ["minimum_age", "country_allowed", "document_not_expired"]
                .contains(&c["name"].as_str().unwrap())
            {
                "passed"
            } else {
                "not_applicable"
            };
            assert_eq!(c["status"], expected, "{failing}: {c}");
        }
        let reasons = check(&checks, failing)["reasons"].to_string();
        assert!(reasons.contains(&reason), "{failing}: {reasons}");
        assert_eq!(
            app.fetch(&w.dst.sandbox, &format!("/api/v1/inquiries/{copy}"))
                .await
                .attr("status"),
            "needs_review"
        );
    }
    // A template named by the destination inquiry itself is used when the redeem names none.
    let source = app
        .completed_inquiry(&w.src.sandbox, with("address-country-code", "FR"))
        .await;
    let target = app
        .post("/api/v1/inquiries")
        .key(&w.dst.sandbox)
        .json(json!({"data": {"attributes": {"inquiry-template-id": template}}}))
        .send()
        .await
        .expect(201)
        .id();
    let token = app
        .share_token(&w.src.sandbox, &w.connection, &source)
        .await;
    w.redeem_now(
        &token,
        json!({"data": {"attributes": {"destination-id": target}}}),
    )
    .await;
    let (_, checks) = app.share_token_checks(&w.dst.sandbox, &target).await;
    assert_eq!(check(&checks, "country_allowed")["status"], "failed");
}

async fn without_a_template_nothing_applies(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    // Data that would fail every requirement, were there any.
    let source = app
        .completed_inquiry(
            &w.src.sandbox,
            json!({"birthdate": app.date_years_ago(5), "address-country-code": "KP",
                   "expiration-date": "2001-01-01"}),
        )
        .await;
    let copy = w.copy_of(&source, None).await;
    let (status, checks) = app.share_token_checks(&w.dst.sandbox, &copy).await;
    assert_eq!(status, "passed");
    assert_eq!(checks.len(), 6);
    for c in &checks {
        assert_eq!(
            (&c["status"], &c["requirement"]),
            (&json!("not_applicable"), &json!("not_required")),
            "{c}"
        );
    }
    let d = app
        .fetch(&w.dst.sandbox, &format!("/api/v1/inquiries/{copy}"))
        .await;
    assert_eq!(d.attr("status"), "completed");
    let names: Vec<String> = app
        .events(&w.dst.sandbox)
        .await
        .iter()
        .rev()
        .take(4)
        .map(|e| e["attributes"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "connect/share-token.inbound-redeemed",
            "inquiry.transitioned",
            "inquiry.completed",
            "inquiry.created"
        ]
    );
}

on_both_backends!(
    verification_freshness_follows_the_clock,
    each_requirement_fails_with_a_reason,
    without_a_template_nothing_applies,
);
