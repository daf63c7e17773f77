//! §3.4–§3.5: connections, share tokens and redemption.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Org};

struct World {
    app: App,
    a: Org,
    b: Org,
    connection: String,
    inquiry: String,
}

async fn world(backend: Backend) -> World {
    let app = App::new(backend).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let connection = app.active_connection(&a, &b).await;
    let inquiry = app
        .completed_inquiry(&a.sandbox, json!({"name-first": "Jane", "name-last": "Doe", "birthdate": "1990-04-01", "address-country-code": "US"}))
        .await;
    World {
        app,
        a,
        b,
        connection,
        inquiry,
    }
}

async fn the_seed_example_works_verbatim(backend: Backend) {
    let w = world(backend).await;
    // The body of the product page's curl example, with real ids.
    let body = format!(
        r#"{{
"data": {{
"attributes": {{
"connection-id": "{}",
"source-id": "{}"
}}
}}
}}"#,
        w.connection, w.inquiry
    );
    let r = w
        .app
        .post("/api/v1/connect/share-tokens")
        .key(&w.a.sandbox)
        .raw("application/json", body)
        .send()
        .await
        .expect(201);
    let d = &r.json["data"];
    assert_eq!(d["type"], "connect/share-token");
    assert!(d["id"].as_str().unwrap().starts_with("cnst_"));
    let a = &d["attributes"];
    assert_eq!(a["status"], "created");
    assert_eq!(a["direction"], "outbound");
    assert_eq!(a["source-id"], w.inquiry.as_str());
    for t in ["created-at", "updated-at", "expires-at"] {
        assert!(a[t].as_str().unwrap().ends_with('Z'), "{t}");
    }
    for n in [
        "pending-at",
        "redeemed-at",
        "failed-at",
        "failure-reason",
        "failure-code",
        "redeem-mode",
    ] {
        assert!(a[n].is_null(), "{n}");
        assert!(a.get(n).is_some(), "{n} is present (null)");
    }
    let rel = &d["relationships"];
    assert_eq!(
        rel["connection"]["data"],
        json!({"type": "connect/connection", "id": w.connection})
    );
    assert!(rel.get("connect-connection").is_none());
    assert_eq!(rel["creator"]["data"]["type"], "api-key");
    assert!(
        rel["creator"]["data"]["id"]
            .as_str()
            .unwrap()
            .starts_with("api_")
    );
    assert_eq!(
        rel["source"]["data"],
        json!({"type": "inquiry", "id": w.inquiry})
    );
    // The source's view: no `destination` (that is the destination organization's object).
    assert!(rel.get("destination").is_none(), "{rel}");
    // Default lifetime: 14 days.
    let created = chrono::DateTime::parse_from_rfc3339(a["created-at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(a["expires-at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 1_209_600);
}

async fn redemption_copies_and_verifies(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    // The source has a passed government id (done 30 days ago), a selfie and a document.
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let source = app
        .inquiry(
            &w.a.sandbox,
            json!({"name-first": "Jane", "birthdate": "1990-04-01", "address-country-code": "US"}),
        )
        .await;
    app.post("/api/v1/verifications")
        .key(&w.a.sandbox)
        .json(json!({"data": {"attributes": {"inquiry-id": source, "type": "government-id", "status": "passed",
            "completed-at": long_ago, "attributes": {"identification-number": "X123"},
            "checks": [{"name": "id_not_expired", "status": "passed"}]}}}))
        .send()
        .await
        .expect(201);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let boundary = "XyZ";
    let mut form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ngovernment-id-front\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"front.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    form.extend_from_slice(&bytes);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    app.post(&format!("/api/v1/inquiries/{source}/documents"))
        .key(&w.a.sandbox)
        .raw(&format!("multipart/form-data; boundary={boundary}"), form)
        .send()
        .await
        .expect(201);
    app.post(&format!("/api/v1/inquiries/{source}/complete"))
        .key(&w.a.sandbox)
        .send()
        .await
        .expect(200);
    // The destination requires a fresh government id, a first name, a tax id (the source has
    // none) and adulthood in the US.
    let template = app
        .post("/api/v1/inquiry-templates")
        .key(&w.b.sandbox)
        .json(json!({"data": {"attributes": {"name": "KYC", "required-fields": ["name-first", "birthdate", "tax-id"],
            "required-verifications": [{"type": "government-id", "max-age-days": 365}],
            "minimum-age": 18, "allowed-countries": ["US", "CA"]}}}))
        .send()
        .await
        .expect(201)
        .id();
    let token = app.share_token(&w.a.sandbox, &w.connection, &source).await;
    let r = app
        .post(&format!("/api/v1/connect/share-tokens/{token}/redeem"))
        .key(&w.b.sandbox)
        .json(json!({"data": {"attributes": {"inquiry-template-id": template}},
                     "meta": {"field-mappings": [{"source-field-name": "name-first", "destination-field-name": "given-name"},
                                                 {"source-field-name": "absent", "destination-field-name": "x"}]}}))
        .send()
        .await
        .expect(202);
    assert_eq!(r.attr("status"), "pending");
    assert_eq!(r.attr("redeem-mode"), "clone");
    assert_eq!(r.attr("direction"), "inbound");
    assert!(r.attr("pending-at").is_string());
    assert_eq!(app.worker().drain().await.unwrap(), 1);

    let t = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(t.attr("status"), "redeemed");
    assert!(t.attr("redeemed-at").is_string());
    let dest = t.json["data"]["relationships"]["destination"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The source sees the same token as outbound, without the destination's inquiry.
    let ts = app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&w.a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        (ts.attr("direction").as_str(), ts.attr("status").as_str()),
        (Some("outbound"), Some("redeemed"))
    );
    assert!(
        ts.json["data"]["relationships"]
            .get("destination")
            .is_none()
    );
    assert_eq!(ts.attr("redeem-mode"), "clone");

    // Adding a source field after the fact does not reach the copy.
    app.patch(&format!("/api/v1/inquiries/{source}"))
        .key(&w.a.sandbox)
        .json(json!({"data": {"attributes": {"fields": {"name-last": "Later"}}}}))
        .send()
        .await
        .expect(200);
    let d = app
        .get(&format!(
            "/api/v1/inquiries/{dest}?include=verifications,documents"
        ))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    let attrs = &d.json["data"]["attributes"];
    // Same-named fields are copied; a mapping adds the mapped name (row 2.5.4).
    assert_eq!(
        attrs["fields"]["given-name"]["value"], "Jane",
        "added by the mapping"
    );
    assert_eq!(attrs["fields"]["name-first"]["value"], "Jane", "kept");
    assert!(
        attrs["fields"].get("x").is_none(),
        "an absent field maps to nothing"
    );
    assert!(
        attrs["fields"].get("name-last").is_none(),
        "the copy is a snapshot"
    );
    assert_eq!(
        attrs["shared-from"],
        json!({"organization-id": w.a.id, "inquiry-id": source, "share-token-id": token})
    );
    assert_eq!(
        d.json["data"]["relationships"]["share-token"]["data"]["id"],
        token.as_str()
    );
    // Required field tax-id is missing: the check fails and the copy needs review.
    assert_eq!(attrs["status"], "needs_review");
    let included = d.json["included"].as_array().unwrap();
    let gov = included
        .iter()
        .find(|r| r["type"] == "verification/government-id")
        .unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(gov["attributes"]["completed-at"].as_str().unwrap())
            .unwrap()
            .timestamp()
            / 10,
        chrono::DateTime::parse_from_rfc3339(&long_ago)
            .unwrap()
            .timestamp()
            / 10,
        "original completed-at kept"
    );
    assert_eq!(
        gov["attributes"]["attributes"]["identification-number"],
        "X123"
    );
    let st = included
        .iter()
        .find(|r| r["type"] == "verification/share-token")
        .unwrap();
    assert_eq!(st["attributes"]["status"], "failed");
    let checks = st["attributes"]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 6);
    let check = |n: &str| checks.iter().find(|c| c["name"] == n).unwrap().clone();
    assert_eq!(check("required_fields_present")["status"], "failed");
    assert!(
        check("required_fields_present")["reasons"][0]
            .as_str()
            .unwrap()
            .contains("tax-id")
    );
    for n in [
        "required_verifications_passed",
        "verification_freshness",
        "minimum_age",
        "country_allowed",
    ] {
        assert_eq!(check(n)["status"], "passed", "{n}");
    }
    assert_eq!(check("document_not_expired")["status"], "not_applicable");
    let doc = included
        .iter()
        .find(|r| r["type"].as_str().unwrap().starts_with("document/"))
        .unwrap();
    let file = app
        .get(&format!(
            "/api/v1/documents/{}/file",
            doc["id"].as_str().unwrap()
        ))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(file.bytes, bytes);
    assert_eq!(file.header("content-type"), Some("image/png"));
    // Events, to each side.
    let a_events = app.event_log(&w.a.sandbox).await;
    assert!(
        a_events.ends_with(&[
            "connect/share-token.outbound-created".into(),
            "connect/share-token.outbound-redeemed".into(),
            "inquiry.updated".into()
        ]),
        "{a_events:?}"
    );
    let b_events = app.event_log(&w.b.sandbox).await;
    let tail: Vec<&str> = b_events.iter().map(String::as_str).rev().take(5).collect();
    assert_eq!(
        tail,
        [
            "connect/share-token.inbound-redeemed",
            "inquiry.transitioned",
            "inquiry.marked-for-review",
            "inquiry.created",
            "connect/share-token.inbound-created"
        ]
    );
}

async fn a_passing_copy_is_completed(backend: Backend) {
    let w = world(backend).await;
    let token = w
        .app
        .share_token(&w.a.sandbox, &w.connection, &w.inquiry)
        .await;
    w.app
        .post(&format!("/api/v1/connect/share-tokens/{token}/redeem"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(202);
    w.app.worker().drain().await.unwrap();
    let t = w
        .app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    let dest = t.json["data"]["relationships"]["destination"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = w
        .app
        .get(&format!("/api/v1/inquiries/{dest}"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(d.attr("status"), "completed");
    assert!(d.attr("completed-at").is_string());
    assert_eq!(d.attr("fields")["name-first"]["value"], "Jane");
}

async fn fifty_concurrent_redeems_make_one_copy(backend: Backend) {
    let w = world(backend).await;
    let token = w
        .app
        .share_token(&w.a.sandbox, &w.connection, &w.inquiry)
        .await;
    let path = format!("/api/v1/connect/share-tokens/{token}/redeem");
    let calls = (0..50).map(|_| w.app.post(&path).key(&w.b.sandbox).send());
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 202).count();
    let conflicts = results
        .iter()
        .filter(|r| r.status == 409 && r.code() == "share_token_not_redeemable")
        .count();
    assert_eq!(
        (ok, conflicts),
        (1, 49),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    w.app.worker().drain().await.unwrap();
    let list = w
        .app
        .get("/api/v1/inquiries?page[size]=100")
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        list.json["data"].as_array().unwrap().len(),
        1,
        "exactly one destination inquiry"
    );
}

async fn a_worker_dying_after_the_copy_leaves_one_copy(backend: Backend) {
    let w = world(backend).await;
    let token = w
        .app
        .share_token(&w.a.sandbox, &w.connection, &w.inquiry)
        .await;
    w.app
        .post(&format!("/api/v1/connect/share-tokens/{token}/redeem"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(202);
    let worker = w.app.worker();
    worker
        .faults
        .fail_redemptions_after_copy
        .store(1, std::sync::atomic::Ordering::SeqCst);
    worker.drain().await.unwrap();
    let t = w
        .app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(
        t.attr("status"),
        "pending",
        "the failed attempt left nothing behind"
    );
    let list = w
        .app
        .get("/api/v1/inquiries")
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 0);
    // The job is retried after its backoff.
    w.app.db.clock.advance_seconds(5);
    worker.drain().await.unwrap();
    let t = w
        .app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(t.attr("status"), "redeemed");
    let list = w
        .app
        .get("/api/v1/inquiries")
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);
}

async fn a_dead_workers_job_is_reclaimed_after_its_lease(backend: Backend) {
    let w = world(backend).await;
    let token = w
        .app
        .share_token(&w.a.sandbox, &w.connection, &w.inquiry)
        .await;
    w.app
        .post(&format!("/api/v1/connect/share-tokens/{token}/redeem"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(202);
    // Another worker claims the job and dies without finishing it.
    let claimed = w
        .app
        .db
        .store
        .write(tessera_store::units::jobs::claim(
            "dead-worker".into(),
            60_000,
            10,
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let worker = w.app.worker();
    assert_eq!(
        worker.drain().await.unwrap(),
        0,
        "leased to the dead worker"
    );
    w.app.db.clock.advance_seconds(61);
    assert_eq!(worker.drain().await.unwrap(), 1);
    let t = w
        .app
        .get(&format!("/api/v1/connect/share-tokens/{token}"))
        .key(&w.a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(t.attr("status"), "redeemed");
}

async fn tokens_expire_by_time_and_by_call(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let short = app
        .post("/api/v1/connect/share-tokens")
        .key(&w.a.sandbox)
        .json(json!({"data": {"attributes": {"connection-id": w.connection, "source-id": w.inquiry, "expires-in-seconds": 60}}}))
        .send()
        .await
        .expect(201)
        .id();
    app.db.clock.advance_seconds(60);
    // Reads report the expiry at once, before the sweep.
    let t = app
        .get(&format!("/api/v1/connect/share-tokens/{short}"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(t.attr("status"), "expired");
    let listed = app
        .get("/api/v1/connect/share-tokens?filter[status]=expired")
        .key(&w.a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 1);
    let listed = app
        .get("/api/v1/connect/share-tokens?filter[status]=created")
        .key(&w.a.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 0);
    let r = app
        .post(&format!("/api/v1/connect/share-tokens/{short}/redeem"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(409);
    assert_eq!(r.code(), "share_token_expired");
    assert!(
        !app.event_log(&w.a.sandbox)
            .await
            .contains(&"connect/share-token.outbound-expired".to_owned())
    );
    // The sweep persists it, with one event to each side.
    assert_eq!(app.worker().housekeeping().await.unwrap(), 1);
    assert_eq!(app.worker().housekeeping().await.unwrap(), 0);
    let count = |names: Vec<String>, n: &str| names.iter().filter(|x| *x == n).count();
    assert_eq!(
        count(
            app.event_log(&w.a.sandbox).await,
            "connect/share-token.outbound-expired"
        ),
        1
    );
    assert_eq!(
        count(
            app.event_log(&w.b.sandbox).await,
            "connect/share-token.inbound-expired"
        ),
        1
    );

    // By call, from either side; a second call is a conflict.
    let token = app
        .share_token(&w.a.sandbox, &w.connection, &w.inquiry)
        .await;
    let r = app
        .post(&format!("/api/v1/connect/share-tokens/{token}/expire"))
        .key(&w.b.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(r.attr("status"), "expired");
    assert_eq!(r.attr("direction"), "inbound");
    let r = app
        .post(&format!("/api/v1/connect/share-tokens/{token}/expire"))
        .key(&w.a.sandbox)
        .send()
        .await
        .expect(409);
    assert_eq!(r.code(), "invalid_status_transition");
    assert_eq!(
        count(
            app.event_log(&w.a.sandbox).await,
            "connect/share-token.outbound-expired"
        ),
        2
    );
}

on_both_backends!(
    the_seed_example_works_verbatim,
    redemption_copies_and_verifies,
    a_passing_copy_is_completed,
    fifty_concurrent_redeems_make_one_copy,
    a_worker_dying_after_the_copy_leaves_one_copy,
    a_dead_workers_job_is_reclaimed_after_its_lease,
    tokens_expire_by_time_and_by_call,
);
