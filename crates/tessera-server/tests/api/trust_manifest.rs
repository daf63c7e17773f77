//! The preview manifest (issue 18, item 1): before redeeming, the destination sees every field,
//! verification and document that would be copied and a dry run of its template whose checks are
//! the ones the redemption then records; the redemption records the digest of what it copied and
//! whether it matched the manifest the destination looked at.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{Connected, Part};

/// A source inquiry with five fields, a government id checked 200 days ago, a selfie 10 days
/// ago and the front of an identity document.
async fn rich_source(w: &Connected) -> String {
    let (app, src) = (&w.app, &w.src.sandbox);
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
    app.upload(
        src,
        &source,
        &[
            Part::text("kind", "government-id-front"),
            Part::file("front.png", "image/png", vec![7u8; 1234]),
        ],
    )
    .await
    .expect(201);
    app.act(src, &source, "complete").await.expect(200);
    source
}

/// A template the source passes except for freshness: the government id must be 180 days old
/// at most.
async fn strict_template(w: &Connected) -> String {
    w.app
        .template_with(
            &w.dst.sandbox,
            json!({"name": "Strict", "required-fields": ["name-first", "name-last", "birthdate"],
                   "required-verifications": [{"type": "government-id", "max-age-days": 180},
                                              {"type": "selfie", "max-age-days": 30}],
                   "minimum-age": 18, "allowed-countries": ["DE"]}),
        )
        .await
}

fn manifest_path(token: &str, query: &str) -> String {
    format!("/api/v1/connect/share-tokens/{token}/manifest{query}")
}

async fn the_manifest_predicts_the_redemption(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src, dst) = (&w.app, &w.src.sandbox, &w.dst.sandbox);
    let source = rich_source(&w).await;
    let template = strict_template(&w).await;
    let token = app.share_token(src, &w.connection, &source).await;

    let m = app
        .fetch(
            dst,
            &manifest_path(&token, &format!("?inquiry-template-id={template}")),
        )
        .await;
    assert_eq!(m.json["data"]["type"], "connect/share-token-manifest");
    assert_eq!(m.json["data"]["id"], token.as_str());
    let a = m.json["data"]["attributes"].clone();
    assert_eq!(a["redeem-mode"], "clone");
    assert_eq!(a["inquiry-template-id"], template.as_str());
    let fields: Vec<(&str, &str)> = a["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["visibility"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("address-country-code", "full"),
            ("birthdate", "presence"),
            ("expiration-date", "full"),
            ("name-first", "presence"),
            ("name-last", "presence"),
        ]
    );
    let field = |name: &str| {
        a["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(field("address-country-code")["value"], "DE");
    assert_eq!(
        field("name-first")["value"],
        true,
        "personal: presence only"
    );
    assert!(!a.to_string().contains("Jana"), "no personal value: {a}");
    let ages: Vec<(&str, i64)> = a["verifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["type"].as_str().unwrap(), v["age-days"].as_i64().unwrap()))
        .collect();
    assert_eq!(ages, [("government-id", 200), ("selfie", 10)]);
    assert_eq!(
        a["documents"],
        json!([{"kind": "government-id-front", "content-type": "image/png", "byte-size": 1234,
                "expires-on": app.date_years_ago(-4)}])
    );
    assert_eq!(a["dry-run"]["status"], "failed");
    let dry_run = a["dry-run"]["checks"].as_array().unwrap().clone();
    let failed: Vec<&str> = dry_run
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["verification_freshness"]);
    let digest = a["digest"].as_str().unwrap().to_owned();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    // The peek carries the same manifest beside Persona's source-data.
    let peek = app
        .fetch(
            dst,
            &format!(
                "/api/v1/connect/share-tokens/{token}?peek-source-data=true&inquiry-template-id={template}"
            ),
        )
        .await;
    assert!(peek.attr("source-data").is_object());
    assert_eq!(peek.attr("manifest")["digest"], digest.as_str());
    assert_eq!(peek.attr("manifest")["dry-run"], a["dry-run"]);
    // Without peeking, neither.
    let plain = app.fetch(dst, &Connected::token_path(&token)).await;
    assert!(plain.json["data"]["attributes"].get("manifest").is_none());

    // Redeeming records the same checks, the same digest, and that it matched.
    let t = w
        .redeem_now(
            &token,
            json!({"data": {"attributes": {"inquiry-template-id": template}},
                   "meta": {"manifest-digest": digest}}),
        )
        .await;
    assert_eq!(t.attr("status"), "redeemed");
    assert_eq!(t.attr("copy-digest"), digest.as_str());
    assert_eq!(t.attr("manifest-matched"), true);
    let copy = t.related("destination").unwrap();
    let (status, checks) = app.share_token_checks(dst, &copy).await;
    assert_eq!(status, "failed");
    assert_eq!(
        checks, dry_run,
        "the dry run is what the redemption records"
    );
    // The source sees the digest too (it is the data it shared).
    let seen = app.fetch(src, &Connected::token_path(&token)).await;
    assert_eq!(seen.attr("copy-digest"), digest.as_str());

    // A redeemed token has nothing left to preview.
    app.get(&manifest_path(&token, ""))
        .key(dst)
        .send()
        .await
        .refused(409, "share_token_not_redeemable");
}

async fn a_source_that_changes_after_the_manifest_is_recorded_as_a_mismatch(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src, dst) = (&w.app, &w.src.sandbox, &w.dst.sandbox);
    let source = rich_source(&w).await;
    let template = strict_template(&w).await;
    let token = app.share_token(src, &w.connection, &source).await;
    let before = app
        .fetch(
            dst,
            &manifest_path(&token, &format!("?inquiry-template-id={template}")),
        )
        .await;
    let digest = before.attr("digest").as_str().unwrap().to_owned();
    // Asking again for unchanged data gives the same digest.
    let again = app
        .fetch(
            dst,
            &manifest_path(&token, &format!("?inquiry-template-id={template}")),
        )
        .await;
    assert_eq!(again.attr("digest"), digest.as_str());

    // The source re-checks the government id: the freshness check now passes.
    app.verification(
        src,
        &source,
        json!({"type": "government-id", "status": "passed", "completed-at": app.days_ago(1)}),
    )
    .await;
    let after = app
        .fetch(
            dst,
            &manifest_path(&token, &format!("?inquiry-template-id={template}")),
        )
        .await;
    assert_ne!(after.attr("digest"), digest.as_str());
    assert_eq!(after.attr("dry-run")["status"], "passed");

    let t = w
        .redeem_now(
            &token,
            json!({"data": {"attributes": {"inquiry-template-id": template}},
                   "meta": {"manifest-digest": digest}}),
        )
        .await;
    assert_eq!(t.attr("status"), "redeemed", "a mismatch does not refuse");
    assert_eq!(t.attr("manifest-matched"), false);
    assert_eq!(t.attr("copy-digest"), after.attr("digest"));
    let (status, checks) = app
        .share_token_checks(dst, &t.related("destination").unwrap())
        .await;
    assert_eq!(status, "passed");
    assert_eq!(&Value::from(checks), &after.attr("dry-run")["checks"]);
}

async fn a_hydrate_dry_run_counts_what_the_inquiry_already_has(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, dst) = (&w.app, &w.dst.sandbox);
    // The source shares only a first name; the destination's own inquiry has the last name.
    let source = app
        .completed_inquiry(&w.src.sandbox, json!({"name-first": "Jana"}))
        .await;
    let token = app
        .share_token(&w.src.sandbox, &w.connection, &source)
        .await;
    let template = app
        .template_with(
            dst,
            json!({"name": "Names", "required-fields": ["name-first", "name-last"]}),
        )
        .await;
    let own = app.inquiry(dst, json!({"name-last": "Nowak"})).await;
    let query = format!("?inquiry-template-id={template}");
    let clone = app.fetch(dst, &manifest_path(&token, &query)).await;
    assert_eq!(clone.attr("dry-run")["status"], "failed");
    let hydrate = app
        .fetch(
            dst,
            &manifest_path(&token, &format!("{query}&destination-id={own}")),
        )
        .await;
    assert_eq!(hydrate.attr("redeem-mode"), "hydrate");
    assert_eq!(hydrate.attr("dry-run")["status"], "passed");
    // A mapping shows where a field would land.
    let mapped = app
        .fetch(
            dst,
            &manifest_path(&token, "?field-mappings=name-first:given-name"),
        )
        .await;
    let names: Vec<&str> = mapped
        .attr("fields")
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["given-name", "name-first"]);

    let t = w
        .redeem_now(
            &token,
            json!({"data": {"attributes": {"inquiry-template-id": template, "destination-id": own}},
                   "meta": {"manifest-digest": hydrate.attr("digest")}}),
        )
        .await;
    assert_eq!(t.attr("manifest-matched"), true);
    let (status, checks) = app.share_token_checks(dst, &own).await;
    assert_eq!(status, "passed");
    assert_eq!(&Value::from(checks), &hydrate.attr("dry-run")["checks"]);
}

async fn the_manifest_is_the_destinations_alone(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src, dst) = (&w.app, &w.src.sandbox, &w.dst.sandbox);
    let token = w.token().await;
    let before = w.token_snapshot(&token).await;
    app.get(&manifest_path(&token, ""))
        .key(src)
        .send()
        .await
        .refused(403, "wrong_side");
    let stranger = app.org("Stranger").await;
    app.get(&manifest_path(&token, ""))
        .key(&stranger.sandbox)
        .send()
        .await
        .refused(404, "not_found");
    // The source's own template is not the destination's to use.
    let theirs = app.template(src, "Source's").await;
    let r = app
        .get(&manifest_path(
            &token,
            &format!("?inquiry-template-id={theirs}"),
        ))
        .key(dst)
        .send()
        .await
        .refused(404, "not_found");
    assert_eq!(r.parameter(), "inquiry-template-id");
    for (query, parameter) in [
        ("?inquiry-template-id=nope", "inquiry-template-id"),
        ("?destination-id=inq_x", "destination-id"),
        ("?field-mappings=no-colon", "field-mappings"),
        ("?field-mappings=a%20b:c", "field-mappings"),
        (
            &*format!("?field-mappings={}", "a:b,".repeat(300)),
            "field-mappings",
        ),
        ("?peek=1", "peek"),
    ] {
        let r = app
            .get(&manifest_path(&token, query))
            .key(dst)
            .send()
            .await
            .refused(400, "invalid_query_parameter");
        assert_eq!(r.parameter(), parameter, "{query}");
    }
    let r = app
        .redeem_with(
            dst,
            &token,
            json!({"meta": {"manifest-digest": "sha256:not-hex"}}),
        )
        .await
        .refused(422, "invalid_attribute");
    assert_eq!(r.pointer(), "/meta/manifest-digest");
    assert_eq!(
        w.token_snapshot(&token).await,
        before,
        "refusals change nothing"
    );
}

on_both_backends!(
    the_manifest_predicts_the_redemption,
    a_source_that_changes_after_the_manifest_is_recorded_as_a_mismatch,
    a_hydrate_dry_run_counts_what_the_inquiry_already_has,
    the_manifest_is_the_destinations_alone,
);
