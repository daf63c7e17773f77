//! Freshness as policy (issue 18, item 5): a template changed with `PATCH` is what later
//! redemptions are checked against, while copies already made keep their checks. The bank's
//! policy here is the worked example of `docs/TRUST.md` §5, request and recorded checks alike.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{Connected, check};

/// The EU's member states, as the bank lists them.
const EU: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

fn passed(name: &str) -> Value {
    json!({"name": name, "status": "passed", "reasons": [], "requirement": "required", "metadata": {}})
}

async fn a_tightened_template_is_what_later_redemptions_record(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let (src, dst) = (&w.src.sandbox, &w.dst.sandbox);

    // The customer the source verified: a German adult, an identity document checked 200 days
    // ago and a selfie 10 days ago.
    let source = app
        .inquiry(
            src,
            json!({"name-first": "Jana", "name-last": "Nowak", "birthdate": app.date_years_ago(34),
                   "address-country-code": "DE", "expiration-date": app.date_years_ago(-4)}),
        )
        .await;
    for (kind, days) in [("government-id", 200), ("selfie", 10)] {
        app.verification(
            src,
            &source,
            json!({"type": kind, "status": "passed", "completed-at": app.days_ago(days)}),
        )
        .await;
    }
    app.act(src, &source, "complete").await.expect(200);

    // The bank's policy: government id within a year, selfie within 30 days, adults, EU.
    let template = app
        .post("/api/v1/inquiry-templates")
        .key(dst)
        .json(json!({"data": {"attributes": {
            "name": "Retail onboarding (EU)",
            "required-fields": ["name-first", "name-last", "birthdate"],
            "required-verifications": [
                {"type": "government-id", "max-age-days": 365},
                {"type": "selfie", "max-age-days": 30}
            ],
            "minimum-age": 18,
            "allowed-countries": EU
        }}}))
        .send()
        .await
        .expect(201)
        .id();
    let first = w.copy_of(&source, Some(&template)).await;
    let (status, checks) = app.share_token_checks(dst, &first).await;
    assert_eq!(status, "passed");
    assert_eq!(
        checks,
        [
            "required_fields_present",
            "required_verifications_passed",
            "verification_freshness",
            "document_not_expired",
            "minimum_age",
            "country_allowed"
        ]
        .map(passed)
    );

    // The bank tightens the government id to 180 days.
    app.patch(&format!("/api/v1/inquiry-templates/{template}"))
        .key(dst)
        .json(json!({"data": {"attributes": {"required-verifications": [
            {"type": "government-id", "max-age-days": 180},
            {"type": "selfie", "max-age-days": 30}
        ]}}}))
        .send()
        .await
        .expect(200);
    let second = w.copy_of(&source, Some(&template)).await;
    let (status, checks) = app.share_token_checks(dst, &second).await;
    assert_eq!(status, "failed");
    assert_eq!(
        check(&checks, "verification_freshness"),
        &json!({"name": "verification_freshness", "status": "failed",
            "reasons": ["government-id verification completed 200 days ago (at most 180 allowed)"],
            "requirement": "required", "metadata": {}})
    );
    for c in checks
        .iter()
        .filter(|c| c["name"] != "verification_freshness")
    {
        assert_eq!(c["status"], "passed", "{c}");
    }
    assert_eq!(
        app.fetch(dst, &format!("/api/v1/inquiries/{second}"))
            .await
            .attr("status"),
        "needs_review"
    );
    // The copy made before the change keeps the checks it was given.
    let (status, _) = app.share_token_checks(dst, &first).await;
    assert_eq!(status, "passed");
    assert_eq!(
        app.fetch(dst, &format!("/api/v1/inquiries/{first}"))
            .await
            .attr("status"),
        "completed"
    );

    // Cleared requirements stop applying: without an age limit and a country list, and with no
    // maximum age, the same source passes again.
    app.patch(&format!("/api/v1/inquiry-templates/{template}"))
        .key(dst)
        .json(
            json!({"data": {"attributes": {"minimum-age": null, "allowed-countries": null,
            "required-verifications": [{"type": "government-id"}]}}}),
        )
        .send()
        .await
        .expect(200);
    let third = w.copy_of(&source, Some(&template)).await;
    let (status, checks) = app.share_token_checks(dst, &third).await;
    assert_eq!(status, "passed");
    for (name, expected) in [
        ("verification_freshness", "not_applicable"),
        ("minimum_age", "not_applicable"),
        ("country_allowed", "not_applicable"),
        ("required_verifications_passed", "passed"),
        ("document_not_expired", "passed"),
    ] {
        assert_eq!(check(&checks, name)["status"], expected, "{name}");
    }
}

on_both_backends!(a_tightened_template_is_what_later_redemptions_record);
