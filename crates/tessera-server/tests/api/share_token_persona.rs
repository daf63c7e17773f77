//! Share tokens as Persona 2025-12-08 describes them: the 202 of a redemption with its
//! `redeem-mode` (and a hydrate's `destination`), `include` on share-token reads and writes, and
//! tokens that share one verification.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Connected};

fn include(id: &str, names: &str) -> String {
    format!("{}?include={names}", Connected::token_path(id))
}

fn included_types(r: &crate::support::Resp) -> Vec<(String, String)> {
    r.json["included"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|o| {
                    (
                        o["type"].as_str().unwrap_or("").to_owned(),
                        o["id"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn a_hydrate_names_its_destination_in_the_202(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let dst = &w.dst.sandbox;
    let target = app.inquiry(dst, json!({"name-last": "Kept"})).await;
    let token = w.token().await;
    let r = app
        .redeem_with(
            dst,
            &token,
            json!({"data": {"attributes": {"destination-id": target}},
                   "meta": {"field-mappings": [{"source-field-name": "name-first", "destination-field-name": "given-name"}]}}),
        )
        .await
        .expect(202);
    assert_eq!(r.attr("status"), "pending");
    assert_eq!(r.attr("redeem-mode"), "hydrate");
    assert_eq!(
        r.json["data"]["relationships"]["destination"]["data"],
        json!({"type": "inquiry", "id": target})
    );
    assert!(r.json["data"]["relationships"].get("creator").is_none());
    // The pending token reads the same, from the destination; the source sees the mode only.
    let pending = app.fetch(dst, &Connected::token_path(&token)).await;
    assert_eq!(
        pending.related("destination").as_deref(),
        Some(target.as_str())
    );
    assert_eq!(pending.attr("redeem-mode"), "hydrate");
    let source_view = app
        .fetch(&w.src.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(source_view.attr("redeem-mode"), "hydrate");
    assert!(
        source_view.json["data"]["relationships"]
            .get("destination")
            .is_none()
    );
    assert_eq!(app.drain().await, 1);
    let t = app.fetch(dst, &Connected::token_path(&token)).await;
    assert_eq!(t.attr("status"), "redeemed");
    assert_eq!(t.related("destination").as_deref(), Some(target.as_str()));
    // Same-named fields are copied, mappings add their name, the destination keeps its own.
    let d = app.show_inquiry(dst, &target).await;
    let fields = d.attr("fields");
    assert_eq!(fields["name-first"]["value"], "Janeczka");
    assert_eq!(fields["given-name"]["value"], "Janeczka");
    assert_eq!(fields["name-last"]["value"], "Kept");
}

async fn every_view_is_the_sides_own(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    let keys = |r: &crate::support::Resp, member: &str| -> Vec<String> {
        r.json["data"][member]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let out = app
        .fetch(&w.src.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(
        keys(&out, "relationships"),
        ["connection", "creator", "source"]
    );
    assert!(keys(&out, "attributes").contains(&"source-id".to_owned()));
    let inb = app
        .fetch(&w.dst.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(keys(&inb, "relationships"), ["connection", "destination"]);
    assert!(!keys(&inb, "attributes").contains(&"source-id".to_owned()));
    // The same in lists, expiry and its events.
    let listed = app
        .fetch(&w.dst.sandbox, "/api/v1/connect/share-tokens")
        .await;
    let item = &listed.items()[0];
    assert!(item["relationships"].get("creator").is_none(), "{item}");
    assert!(item["attributes"].get("source-id").is_none(), "{item}");
    let expired = app
        .token_action(&w.dst.sandbox, &token, "expire")
        .await
        .expect(200);
    assert_eq!(
        keys(&expired, "relationships"),
        ["connection", "destination"]
    );
    let event = app
        .events_named(&w.dst.sandbox, "connect/share-token.inbound-expired")
        .await;
    let payload = &event[0]["attributes"]["payload"]["data"];
    assert!(
        payload["relationships"].get("creator").is_none(),
        "{payload}"
    );
    assert!(
        payload["relationships"].get("source").is_none(),
        "{payload}"
    );
    let event = app
        .events_named(&w.src.sandbox, "connect/share-token.outbound-expired")
        .await;
    let payload = &event[0]["attributes"]["payload"]["data"];
    assert_eq!(
        payload["relationships"]["creator"]["data"]["type"],
        "api-key"
    );
    assert!(payload["relationships"].get("destination").is_none());
}

async fn a_failure_has_personas_reason_and_tesseras_code(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    // A hydrate into an inquiry that cannot take it any more.
    let done = app
        .completed_inquiry(&w.dst.sandbox, json!({"name-first": "Done"}))
        .await;
    let t = w
        .redeem_now(
            &token,
            json!({"data": {"attributes": {"destination-id": done}}}),
        )
        .await;
    assert_eq!(t.attr("status"), "failed");
    assert_eq!(t.attr("failure-reason"), "import_failed");
    assert_eq!(t.attr("failure-code"), "destination_not_fillable");
    let out = app
        .fetch(&w.src.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(out.attr("failure-reason"), "import_failed");
    // A token that never fails has both null.
    let fine = w.token().await;
    let t = w.redeem_now(&fine, json!({})).await;
    assert_eq!(t.attr("status"), "redeemed");
    assert!(t.attr("failure-reason").is_null() && t.attr("failure-code").is_null());
}

async fn include_names_what_each_side_may_see(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    let all = "connection,source,destination,creator";
    let out = app.fetch(&w.src.sandbox, &include(&token, all)).await;
    assert_eq!(
        included_types(&out),
        [
            ("connect/connection".to_owned(), w.connection.clone()),
            ("inquiry".to_owned(), w.inquiry.clone()),
        ]
    );
    // The destination: the connection; no copy yet.
    let inb = app.fetch(&w.dst.sandbox, &include(&token, all)).await;
    assert_eq!(
        included_types(&inb),
        [("connect/connection".to_owned(), w.connection.clone())]
    );
    assert!(!String::from_utf8_lossy(&inb.bytes).contains(&w.inquiry));
    // One name includes one object; unknown names are refused.
    let one = app
        .fetch(&w.src.sandbox, &include(&token, "connection"))
        .await;
    assert_eq!(included_types(&one).len(), 1);
    app.get(&include(&token, "inquiry"))
        .key(&w.src.sandbox)
        .send()
        .await
        .refused(400, "invalid_query_parameter");
    // After the copy, the destination includes it; the source never does.
    w.redeem_now(&token, json!({})).await;
    let inb = app
        .fetch(&w.dst.sandbox, &include(&token, "destination"))
        .await;
    let copy = inb.related("destination").unwrap();
    assert_eq!(included_types(&inb), [("inquiry".to_owned(), copy.clone())]);
    assert_eq!(inb.json["included"][0]["attributes"]["status"], "completed");
    let out = app
        .fetch(&w.src.sandbox, &include(&token, "destination"))
        .await;
    assert!(included_types(&out).is_empty());
    assert!(!String::from_utf8_lossy(&out.bytes).contains(&copy));
}

/// `include` on create, expire and redeem. Writes refuse query parameters until the
/// cross-cutting change that lets them through; until then this test only checks that refusal.
async fn include_on_writes(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let token = w.token().await;
    let probe = app
        .post(&format!(
            "/api/v1/connect/share-tokens/{token}/expire?include=connection"
        ))
        .key(&w.src.sandbox)
        .send()
        .await;
    if probe.status == 400 {
        assert_eq!(probe.code(), "invalid_query_parameter");
        return;
    }
    assert_eq!(probe.status, 200, "{}", probe.json);
    assert_eq!(
        included_types(&probe),
        [("connect/connection".to_owned(), w.connection.clone())]
    );
    let created = app
        .post("/api/v1/connect/share-tokens?include=source,creator")
        .key(&w.src.sandbox)
        .json(json!({"data": {"attributes": {"connection-id": w.connection, "source-id": w.inquiry}}}))
        .send()
        .await
        .expect(201);
    assert_eq!(
        included_types(&created),
        [("inquiry".to_owned(), w.inquiry.clone())]
    );
    let target = app.inquiry(&w.dst.sandbox, json!({})).await;
    let redeemed = app
        .post(&format!(
            "/api/v1/connect/share-tokens/{}/redeem?include=destination,source",
            created.id()
        ))
        .key(&w.dst.sandbox)
        .json(json!({"data": {"attributes": {"destination-id": target}}}))
        .send()
        .await
        .expect(202);
    assert_eq!(included_types(&redeemed), [("inquiry".to_owned(), target)]);
}

/// A passed verification of the source, to share on its own.
async fn passed_government_id(app: &App, key: &str) -> (String, String) {
    let inquiry = app
        .completed_inquiry(key, json!({"name-first": "Janeczka"}))
        .await;
    let ver = app
        .verification(
            key,
            &inquiry,
            json!({"type": "government-id", "status": "passed",
                   "attributes": {"name-first": "Janeczka", "issuing-country": "US"}}),
        )
        .await;
    (inquiry, ver)
}

async fn a_verification_is_shared_on_its_own(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let (src, dst) = (&w.src.sandbox, &w.dst.sandbox);
    let (inquiry, ver) = passed_government_id(app, src).await;
    // Its inquiry has another verification and a field that must not travel.
    app.verification(src, &inquiry, json!({"type": "selfie", "status": "passed"}))
        .await;
    let created = app
        .create_token(
            src,
            json!({"connection-id": w.connection, "source-id": ver}),
        )
        .await
        .expect(201);
    let token = created.id();
    assert_eq!(created.attr("source-id"), ver.as_str());
    assert_eq!(
        created.json["data"]["relationships"]["source"]["data"],
        json!({"type": "verification/government-id", "id": ver})
    );
    // The destination peeks at the verification alone.
    let peek = app
        .fetch(
            dst,
            &format!("{}?peek-source-data=true", Connected::token_path(&token)),
        )
        .await;
    let data = peek.attr("source-data");
    assert_eq!(
        data["type"],
        "connect/source-data/verification/government-id"
    );
    assert_eq!(data["id"], ver.as_str());
    let a = &data["peekable-attributes"];
    assert_eq!(
        a["status"],
        json!({"visibility": "full", "value": "passed"})
    );
    assert_eq!(
        a["issuing-country"],
        json!({"visibility": "full", "value": "US"})
    );
    assert_eq!(a["name-first"]["visibility"], "presence");
    assert_eq!(a["name-first"]["value"], true);
    assert!(
        a.get("fields").is_none(),
        "verifications have no fields bucket"
    );
    assert!(!String::from_utf8_lossy(&peek.bytes).contains("Janeczka"));
    // Hydrating with a verification is refused; the token stays redeemable.
    let target = app.inquiry(dst, json!({})).await;
    app.redeem_with(
        dst,
        &token,
        json!({"data": {"attributes": {"destination-id": target}}}),
    )
    .await
    .refused(422, "invalid_attribute");
    // A clone: a new inquiry of the destination holding the copy of that one verification.
    let r = app.redeem_with(dst, &token, json!({})).await.expect(202);
    assert_eq!(r.attr("redeem-mode"), "clone");
    assert!(r.json["data"]["relationships"]["destination"]["data"].is_null());
    assert_eq!(app.drain().await, 1);
    let t = app
        .fetch(dst, &include(&token, "destination,connection"))
        .await;
    assert_eq!(t.attr("status"), "redeemed", "{}", t.json);
    let copy = &t.json["data"]["relationships"]["destination"]["data"];
    assert_eq!(copy["type"], "verification/government-id");
    let copy_id = copy["id"].as_str().unwrap().to_owned();
    assert_ne!(copy_id, ver);
    assert!(
        included_types(&t).contains(&("verification/government-id".to_owned(), copy_id.clone()))
    );
    let v = app
        .fetch(dst, &format!("/api/v1/verifications/{copy_id}"))
        .await;
    assert_eq!(v.attr("status"), "passed");
    let holder = v.related("inquiry").unwrap();
    let i = app
        .fetch(
            dst,
            &format!("/api/v1/inquiries/{holder}?include=verifications"),
        )
        .await;
    assert_eq!(
        i.attr("shared-from"),
        &json!({"organization-id": w.src.id, "inquiry-id": inquiry, "share-token-id": token})
    );
    assert!(
        i.attr("fields").as_object().is_none_or(|f| f.is_empty()),
        "no fields travel with a verification: {}",
        i.json
    );
    let kinds: Vec<&str> = i.json["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["verification/government-id", "verification/share-token"]
    );
    // The source sees its own verification as the source, and nothing of the copy.
    let out = app.fetch(src, &include(&token, "source")).await;
    assert_eq!(
        included_types(&out),
        [("verification/government-id".to_owned(), ver.clone())]
    );
    assert!(!String::from_utf8_lossy(&out.bytes).contains(&copy_id));
}

async fn only_a_passed_verification_of_a_live_inquiry_is_shared(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let src = &w.src.sandbox;
    let attrs = |id: &str| json!({"connection-id": w.connection, "source-id": id});
    let inquiry = app.completed_inquiry(src, json!({})).await;
    let failed = app
        .verification(src, &inquiry, json!({"type": "selfie", "status": "failed"}))
        .await;
    let r = app
        .create_token(src, attrs(&failed))
        .await
        .refused(422, "source_not_shareable");
    assert_eq!(r.pointer(), "/data/attributes/source-id");
    // A verification of a redacted inquiry.
    let (gone, ver) = passed_government_id(app, src).await;
    app.delete(&format!("/api/v1/inquiries/{gone}"))
        .key(src)
        .send()
        .await
        .expect(200);
    app.create_token(src, attrs(&ver))
        .await
        .refused(422, "source_not_shareable");
    // Another organization's verification is unknown here.
    let (_, theirs) = passed_government_id(app, &w.dst.sandbox).await;
    let r = app
        .create_token(src, attrs(&theirs))
        .await
        .refused(422, "reference_not_found");
    assert_eq!(r.pointer(), "/data/attributes/source-id");
    // Redacting after creation fails the redemption like an inquiry's.
    let (later, ver) = passed_government_id(app, src).await;
    let token = app.create_token(src, attrs(&ver)).await.expect(201).id();
    app.delete(&format!("/api/v1/inquiries/{later}"))
        .key(src)
        .send()
        .await
        .expect(200);
    let t = w.redeem_now(&token, json!({})).await;
    assert_eq!(
        (t.attr("failure-reason"), t.attr("failure-code")),
        (&json!("source_redacted"), &json!("source_redacted"))
    );
    assert!(t.json["data"]["relationships"]["destination"]["data"].is_null());
}

on_both_backends!(
    a_hydrate_names_its_destination_in_the_202,
    every_view_is_the_sides_own,
    a_failure_has_personas_reason_and_tesseras_code,
    include_names_what_each_side_may_see,
    include_on_writes,
    a_verification_is_shared_on_its_own,
    only_a_passed_verification_of_a_live_inquiry_is_shared,
);
