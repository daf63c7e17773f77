//! §3.5: share tokens — creation and its validations, listing from both sides, the masked peek,
//! the transitions the contract forbids, and what strangers see.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::Connected;

const TOKENS: &str = "/api/v1/connect/share-tokens";

/// Asserts that creating a token from `attributes` is refused and creates nothing.
async fn refused_creation(
    w: &Connected,
    key: &str,
    attributes: Value,
    status: u16,
    code: &str,
    pointer: &str,
) {
    let before = (
        w.app.events(&w.src.sandbox).await.len(),
        w.app.events(&w.dst.sandbox).await.len(),
    );
    let r = w
        .app
        .create_token(key, attributes.clone())
        .await
        .refused(status, code);
    assert_eq!(r.pointer(), pointer, "{attributes}");
    let after = (
        w.app.events(&w.src.sandbox).await.len(),
        w.app.events(&w.dst.sandbox).await.len(),
    );
    assert_eq!(after, before, "a refused creation emitted events");
    for k in [&w.src.sandbox, &w.dst.sandbox] {
        assert!(w.app.fetch(k, TOKENS).await.ids().is_empty());
    }
}

async fn creation_tells_both_sides(backend: Backend) {
    let w = Connected::new(backend).await;
    let token = w.token().await;
    let out = w
        .app
        .events_named(&w.src.sandbox, "connect/share-token.outbound-created")
        .await;
    let inb = w
        .app
        .events_named(&w.dst.sandbox, "connect/share-token.inbound-created")
        .await;
    assert_eq!((out.len(), inb.len()), (1, 1));
    let (out, inb) = (
        &out[0]["attributes"]["payload"]["data"],
        &inb[0]["attributes"]["payload"]["data"],
    );
    assert_eq!((&out["id"], &inb["id"]), (&json!(token), &json!(token)));
    assert_eq!(out["attributes"]["direction"], "outbound");
    assert_eq!(inb["attributes"]["direction"], "inbound");
    assert_eq!(inb["attributes"]["status"], "created");
    assert_eq!(out["relationships"]["creator"]["data"]["type"], "api-key");
    assert!(inb["relationships"]["creator"]["data"].is_null());
    // The destination reads the token as inbound.
    let t = w
        .app
        .fetch(&w.dst.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(t.attr("direction"), "inbound");
    assert_eq!(t.attr("status"), "created");
    assert!(t.attr("source-data").is_null(), "no peek unless asked");
}

async fn an_idempotent_retry_creates_one_token(backend: Backend) {
    let w = Connected::new(backend).await;
    let body =
        json!({"data": {"attributes": {"connection-id": w.connection, "source-id": w.inquiry}}});
    let send = || {
        w.app
            .post(TOKENS)
            .key(&w.src.sandbox)
            .header("Idempotency-Key", "token-1")
            .json(body.clone())
            .send()
    };
    let first = send().await.expect(201);
    let retry = send().await.expect(201);
    assert_eq!(retry.bytes, first.bytes);
    assert_eq!(
        w.app.fetch(&w.dst.sandbox, TOKENS).await.ids(),
        [first.id()]
    );
    assert_eq!(
        w.app
            .events_named(&w.dst.sandbox, "connect/share-token.inbound-created")
            .await
            .len(),
        1
    );
}

async fn creation_needs_an_active_outbound_connection(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let third = app.org("Gamma").await;
    // The destination of the connection may not create tokens on it.
    let dst_inquiry = app
        .completed_inquiry(&w.dst.sandbox, json!({"name-first": "Bo"}))
        .await;
    refused_creation(
        &w,
        &w.dst.sandbox,
        json!({"connection-id": w.connection, "source-id": dst_inquiry}),
        403,
        "wrong_side",
        "/data/attributes/connection-id",
    )
    .await;
    // A pending and an inactive connection.
    let pending = app
        .create_connection(&w.src.sandbox, &third.id)
        .await
        .expect(201)
        .id();
    refused_creation(
        &w,
        &w.src.sandbox,
        json!({"connection-id": pending, "source-id": w.inquiry}),
        409,
        "connection_not_active",
        "/data/attributes/connection-id",
    )
    .await;
    app.connection_action(&w.src.sandbox, &pending, "deactivate")
        .await
        .expect(200);
    refused_creation(
        &w,
        &w.src.sandbox,
        json!({"connection-id": pending, "source-id": w.inquiry}),
        409,
        "connection_not_active",
        "/data/attributes/connection-id",
    )
    .await;
    // Another organization's connection, and one that does not exist.
    let foreign = app.active_connection(&third, &w.dst).await;
    for c in [foreign.as_str(), "cxn_0000000000000000000000"] {
        refused_creation(
            &w,
            &w.src.sandbox,
            json!({"connection-id": c, "source-id": w.inquiry}),
            404,
            "not_found",
            "/data/attributes/connection-id",
        )
        .await;
    }
    refused_creation(
        &w,
        &w.src.sandbox,
        json!({"connection-id": "inq_0000000000000000000000", "source-id": w.inquiry}),
        422,
        "invalid_id",
        "/data/attributes/connection-id",
    )
    .await;
}

async fn creation_needs_a_shareable_inquiry_of_the_caller(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let key = &w.src.sandbox;
    let attrs = |source: &str| json!({"connection-id": w.connection, "source-id": source});
    let created = app.inquiry(key, json!({"name-first": "Cy"})).await;
    let pending = app.inquiry(key, json!({"name-first": "Pe"})).await;
    let ver = app
        .verification(key, &pending, json!({"type": "selfie", "status": "passed"}))
        .await;
    // Ids of other kinds.
    let (ver, cxn) = (ver.as_str(), w.connection.as_str());
    for other in [ver, cxn, "inquiry-1"] {
        refused_creation(
            &w,
            key,
            attrs(other),
            422,
            "invalid_source_type",
            "/data/attributes/source-id",
        )
        .await;
    }
    // Inquiries the caller cannot see: its other environment, another organization, nowhere.
    let production = app
        .completed_inquiry(&w.src.production, json!({"name-first": "Pia"}))
        .await;
    let foreign = app
        .completed_inquiry(&w.dst.sandbox, json!({"name-first": "Fay"}))
        .await;
    for other in [
        production.as_str(),
        foreign.as_str(),
        "inq_0000000000000000000000",
    ] {
        refused_creation(
            &w,
            key,
            attrs(other),
            404,
            "not_found",
            "/data/attributes/source-id",
        )
        .await;
    }
    // Inquiries that are not (or no longer) shareable.
    let declined = app
        .completed_inquiry(key, json!({"name-first": "De"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{declined}/decline"))
        .key(key)
        .send()
        .await
        .expect(200);
    let review = app
        .completed_inquiry(key, json!({"name-first": "Re"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{review}/mark-for-review"))
        .key(key)
        .send()
        .await
        .expect(200);
    let redacted = app
        .completed_inquiry(key, json!({"name-first": "Ra"}))
        .await;
    app.delete(&format!("/api/v1/inquiries/{redacted}"))
        .key(key)
        .send()
        .await
        .expect(200);
    for (status, id) in [
        ("created", &created),
        ("pending", &pending),
        ("declined", &declined),
        ("needs_review", &review),
        ("redacted", &redacted),
    ] {
        let i = app.fetch(key, &format!("/api/v1/inquiries/{id}")).await;
        if status != "redacted" {
            assert_eq!(i.attr("status"), status);
        }
        refused_creation(
            &w,
            key,
            attrs(id),
            422,
            "source_not_shareable",
            "/data/attributes/source-id",
        )
        .await;
    }
    // Completed and approved inquiries are shared.
    let approved = app
        .completed_inquiry(key, json!({"name-first": "Ava"}))
        .await;
    app.post(&format!("/api/v1/inquiries/{approved}/approve"))
        .key(key)
        .send()
        .await
        .expect(200);
    for id in [&w.inquiry, &approved] {
        let r = app.create_token(key, attrs(id)).await.expect(201);
        assert_eq!(r.attr("status"), "created");
        assert_eq!(r.attr("source-id"), id.as_str());
    }
}

async fn creation_validates_the_body(backend: Backend) {
    let w = Connected::new(backend).await;
    let key = &w.src.sandbox;
    let with = |extra: Value| {
        let mut a = json!({"connection-id": w.connection, "source-id": w.inquiry});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    const EXPIRES: &str = "/data/attributes/expires-in-seconds";
    for (extra, status, code, pointer) in [
        (
            json!({"expires-in-seconds": 59}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": 1_814_401}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": 0}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": -60}),
            422,
            "expires_in_out_of_range",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": "3600"}),
            400,
            "invalid_type",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": 60.5}),
            400,
            "invalid_type",
            EXPIRES,
        ),
        (
            json!({"expires-in-seconds": true}),
            400,
            "invalid_type",
            EXPIRES,
        ),
        (
            json!({"connection-id": 12}),
            400,
            "invalid_type",
            "/data/attributes/connection-id",
        ),
        (
            json!({"source-id": ["inq"]}),
            400,
            "invalid_type",
            "/data/attributes/source-id",
        ),
        (
            json!({"colour": "red"}),
            400,
            "unknown_attribute",
            "/data/attributes/colour",
        ),
    ] {
        refused_creation(&w, key, with(extra), status, code, pointer).await;
    }
    refused_creation(
        &w,
        key,
        json!({"source-id": w.inquiry}),
        422,
        "missing_attribute",
        "/data/attributes/connection-id",
    )
    .await;
    refused_creation(
        &w,
        key,
        json!({"connection-id": w.connection}),
        422,
        "missing_attribute",
        "/data/attributes/source-id",
    )
    .await;
    // The bounds themselves are accepted.
    for seconds in [60, 1_814_400] {
        let r = w
            .app
            .create_token(key, with(json!({"expires-in-seconds": seconds})))
            .await
            .expect(201);
        let at =
            |n: &str| chrono::DateTime::parse_from_rfc3339(r.attr(n).as_str().unwrap()).unwrap();
        assert_eq!((at("expires-at") - at("created-at")).num_seconds(), seconds);
    }
}

async fn tokens_are_listed_from_both_sides(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let (src, dst) = (&w.src.sandbox, &w.dst.sandbox);
    // An inbound connection of the source organization, from a third one.
    let third = app.org("Gamma").await;
    let back = app.active_connection(&third, &w.src).await;
    let third_inquiry = app
        .completed_inquiry(&third.sandbox, json!({"name-first": "Tess"}))
        .await;

    let by_call = w.token().await;
    let by_time = app
        .create_token(
            src,
            json!({"connection-id": w.connection, "source-id": w.inquiry, "expires-in-seconds": 60}),
        )
        .await
        .expect(201)
        .id();
    let redeemed = w.token().await;
    let pending = w.token().await;
    let fresh = w.token().await;
    let inbound = app.share_token(&third.sandbox, &back, &third_inquiry).await;
    app.token_action(dst, &by_call, "expire").await.expect(200);
    app.token_action(dst, &redeemed, "redeem").await.expect(200);
    assert_eq!(app.drain().await, 1);
    app.token_action(dst, &pending, "redeem").await.expect(200);
    app.db.clock.advance_seconds(61);

    let list = |key: &str, q: &str| {
        let path = format!("{TOKENS}{q}");
        let key = key.to_owned();
        async move { app.fetch(&key, &path).await }
    };
    let all = list(src, "?page[size]=100").await;
    assert_eq!(
        all.ids(),
        [
            inbound.as_str(),
            fresh.as_str(),
            pending.as_str(),
            redeemed.as_str(),
            by_time.as_str(),
            by_call.as_str()
        ]
    );
    let seen: Vec<(&Value, &Value)> = all.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (&t["attributes"]["direction"], &t["attributes"]["status"]))
        .collect();
    assert_eq!(
        seen,
        [
            (&json!("inbound"), &json!("created")),
            (&json!("outbound"), &json!("created")),
            (&json!("outbound"), &json!("pending")),
            (&json!("outbound"), &json!("redeemed")),
            (&json!("outbound"), &json!("expired")),
            (&json!("outbound"), &json!("expired")),
        ]
    );
    assert_eq!(
        list(src, "?filter[direction]=inbound").await.ids(),
        [inbound.as_str()]
    );
    assert_eq!(
        list(src, "?filter[direction]=outbound&filter[status]=created")
            .await
            .ids(),
        [fresh.as_str()]
    );
    // Status filters use the status as reported: a token past its time is expired at once.
    assert_eq!(
        list(src, "?filter[status]=expired").await.ids(),
        [by_time.as_str(), by_call.as_str()]
    );
    assert_eq!(
        list(src, "?filter[status]=created").await.ids(),
        [inbound.as_str(), fresh.as_str()]
    );
    assert_eq!(
        list(src, "?filter[status]=pending,redeemed").await.ids(),
        [pending.as_str(), redeemed.as_str()]
    );
    assert_eq!(
        list(src, &format!("?filter[connection-id]={back}"))
            .await
            .ids(),
        [inbound.as_str()]
    );
    // The destination sees the tokens of its connection, inbound; not the third's.
    let theirs = list(dst, "").await;
    assert_eq!(
        theirs.ids(),
        [
            fresh.as_str(),
            pending.as_str(),
            redeemed.as_str(),
            by_time.as_str(),
            by_call.as_str()
        ]
    );
    assert!(
        theirs.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["attributes"]["direction"] == "inbound")
    );
    assert!(
        list(dst, "?filter[direction]=outbound")
            .await
            .ids()
            .is_empty()
    );
    assert!(
        list(dst, &format!("?filter[connection-id]={back}"))
            .await
            .ids()
            .is_empty()
    );

    // Pages of two, forwards and back, keeping the filter.
    let mut path = format!("{TOKENS}?filter[direction]=outbound&page[size]=2");
    let mut pages = Vec::new();
    loop {
        let r = app.fetch(src, &path).await;
        assert!(r.ids().len() <= 2);
        pages.push(r.ids());
        if pages.len() > 1 {
            assert!(r.json["links"]["prev"].is_string(), "{}", r.json);
        }
        match r.json["links"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(TOKENS), "{next}");
                assert!(next.contains("outbound"), "the filter is kept: {next}");
                path = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(
        pages.concat(),
        [
            fresh.as_str(),
            pending.as_str(),
            redeemed.as_str(),
            by_time.as_str(),
            by_call.as_str()
        ]
    );
    assert!(pages.len() >= 3, "{pages:?}");

    for bad in [
        "filter[status]=gone",
        "filter[direction]=up",
        "filter[connection-id]=nope",
        "page[size]=0",
        "page[size]=101",
    ] {
        app.get(&format!("{TOKENS}?{bad}"))
            .key(src)
            .send()
            .await
            .refused(400, "invalid_query_parameter");
    }
}

/// A source inquiry with every kind of field and two verifications.
async fn rich_source(w: &Connected) -> String {
    let key = &w.src.sandbox;
    let inquiry = w
        .app
        .inquiry(
            key,
            json!({
                "name-first": "Janeczka", "name-last": "Doeberg", "birthdate": "1987-06-15",
                "address-street-1": "742 Evergreen Terrace", "address-country-code": "US",
                "email-address": "janeczka@example.org", "phone-number": "+15550104477",
                "identification-number": "D98765432", "issuing-country": "US",
                "expiration-date": "2031-05-06", "loyalty-points": 123456, "vip": true,
                "dependants": 42, "name-middle": "Q"
            }),
        )
        .await;
    w.app
        .verification(
            key,
            &inquiry,
            json!({"type": "government-id", "status": "passed", "completed-at": w.app.days_ago(20),
                   "attributes": {"identification-number": "D98765432", "name-first": "Janeczka"}}),
        )
        .await;
    w.app
        .verification(key, &inquiry, json!({"type": "selfie", "status": "failed"}))
        .await;
    w.app
        .post(&format!("/api/v1/inquiries/{inquiry}/complete"))
        .key(key)
        .send()
        .await
        .expect(200);
    inquiry
}

const SECRETS: [&str; 8] = [
    "Janeczka",
    "Doeberg",
    "1987-06-15",
    "Evergreen",
    "janeczka@example.org",
    "5550104477",
    "98765432",
    "123456",
];

async fn the_destination_peeks_at_masked_data(backend: Backend) {
    let w = Connected::new(backend).await;
    let source = rich_source(&w).await;
    let token = w
        .app
        .share_token(&w.src.sandbox, &w.connection, &source)
        .await;
    let path = format!("{}?peek-source-data=true", Connected::token_path(&token));
    let r = w.app.fetch(&w.dst.sandbox, &path).await;
    let body = String::from_utf8(r.bytes.clone()).unwrap();
    for secret in SECRETS {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }
    let data = r.attr("source-data");
    assert_eq!(data["type"], "inquiry");
    assert_eq!(data["id"], source.as_str());
    assert_eq!(data["peekable-attributes"]["status"], "completed");
    let fields = &data["peekable-attributes"]["fields"];
    let field = |name: &str| {
        (
            fields[name]["visibility"].as_str().unwrap_or("absent"),
            fields[name]["value"].clone(),
        )
    };
    assert_eq!(field("name-first"), ("masked", json!("J***")));
    assert_eq!(field("name-last"), ("masked", json!("D***")));
    assert_eq!(field("birthdate"), ("masked", json!("1987")));
    assert_eq!(
        field("identification-number"),
        ("masked", json!("*******32"))
    );
    assert_eq!(field("phone-number").0, "masked");
    assert!(field("phone-number").1.as_str().unwrap().ends_with("77"));
    assert_eq!(field("loyalty-points"), ("masked", json!("****56")));
    // Never a whole value, however short.
    assert_eq!(field("dependants"), ("masked", json!("**")));
    assert_eq!(field("name-middle"), ("masked", json!("***")));
    assert_eq!(field("email-address").0, "masked");
    assert_eq!(field("address-street-1"), ("masked", json!("7***")));
    assert_eq!(field("address-country-code"), ("visible", json!("US")));
    assert_eq!(field("issuing-country"), ("visible", json!("US")));
    assert_eq!(field("expiration-date"), ("visible", json!("2031-05-06")));
    assert_eq!(field("vip"), ("visible", json!(true)));
    let related = data["related-objects"].as_array().unwrap();
    let kinds: Vec<(&Value, &Value)> = related
        .iter()
        .map(|v| (&v["type"], &v["peekable-attributes"]["status"]))
        .collect();
    assert_eq!(
        kinds,
        [
            (&json!("verification/government-id"), &json!("passed")),
            (&json!("verification/selfie"), &json!("failed")),
        ]
    );
    assert!(related[0]["peekable-attributes"]["completed-at"].is_string());
    assert!(related[0]["id"].as_str().unwrap().starts_with("ver_"));

    // Field names are the stored ones in any key inflection.
    let camel = w
        .app
        .get(&path)
        .key(&w.dst.sandbox)
        .header("Key-Inflection", "camel")
        .send()
        .await
        .expect(200);
    let fields = &camel.json["data"]["attributes"]["sourceData"]["peekableAttributes"]["fields"];
    assert_eq!(fields["name-first"]["value"], "J***");

    // Peeking changed nothing; the token is still redeemable.
    let t = w
        .app
        .fetch(&w.dst.sandbox, &Connected::token_path(&token))
        .await;
    assert_eq!(t.attr("status"), "created");
    assert!(t.attr("source-data").is_null());
    let off = w
        .app
        .fetch(
            &w.dst.sandbox,
            &format!("{}?peek-source-data=false", Connected::token_path(&token)),
        )
        .await;
    assert!(off.attr("source-data").is_null());
}

async fn only_a_redeemable_token_is_peeked_at_by_its_destination(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let peek = |id: &str| format!("{}?peek-source-data=true", Connected::token_path(id));
    let token = w.token().await;
    let r = app
        .get(&peek(&token))
        .key(&w.src.sandbox)
        .send()
        .await
        .refused(403, "wrong_side");
    assert!(!String::from_utf8_lossy(&r.bytes).contains("Janeczka"));
    for value in ["maybe", "1", "TRUE", ""] {
        let r = app
            .get(&format!(
                "{}?peek-source-data={value}",
                Connected::token_path(&token)
            ))
            .key(&w.dst.sandbox)
            .send()
            .await
            .refused(400, "invalid_query_parameter");
        assert_eq!(
            r.json["errors"][0]["source"]["parameter"], "peek-source-data",
            "{value}"
        );
    }

    let expired = w.token().await;
    app.token_action(&w.src.sandbox, &expired, "expire")
        .await
        .expect(200);
    let timed_out = app
        .create_token(
            &w.src.sandbox,
            json!({"connection-id": w.connection, "source-id": w.inquiry, "expires-in-seconds": 60}),
        )
        .await
        .expect(201)
        .id();
    let redeemed = w.token().await;
    app.token_action(&w.dst.sandbox, &redeemed, "redeem")
        .await
        .expect(200);
    app.drain().await;
    let still_pending = w.token().await;
    app.token_action(&w.dst.sandbox, &still_pending, "redeem")
        .await
        .expect(200);
    app.db.clock.advance_seconds(60);
    for id in [
        expired.as_str(),
        timed_out.as_str(),
        redeemed.as_str(),
        still_pending.as_str(),
    ] {
        let r = app
            .get(&peek(id))
            .key(&w.dst.sandbox)
            .send()
            .await
            .expect(409);
        assert!(r.code().starts_with("share_token_"), "{}", r.json);
        assert!(!String::from_utf8_lossy(&r.bytes).contains("Janeczka"));
    }
}

async fn forbidden_token_transitions_change_nothing(backend: Backend) {
    let w = Connected::new(backend).await;
    let app = &w.app;
    let (src, dst) = (&w.src.sandbox, &w.dst.sandbox);

    let expired_by_call = w.token().await;
    app.token_action(src, &expired_by_call, "expire")
        .await
        .expect(200);
    let redeemed = w.token().await;
    app.token_action(dst, &redeemed, "redeem").await.expect(200);
    app.drain().await;
    // The source is redacted before the copy runs: the redemption fails.
    let other_source = app
        .completed_inquiry(src, json!({"name-first": "Gone"}))
        .await;
    let failed_on_redaction = app.share_token(src, &w.connection, &other_source).await;
    app.token_action(dst, &failed_on_redaction, "redeem")
        .await
        .expect(200);
    app.delete(&format!("/api/v1/inquiries/{other_source}"))
        .key(src)
        .send()
        .await
        .expect(200);
    app.drain().await;
    let pending = w.token().await;
    app.token_action(dst, &pending, "redeem").await.expect(200);
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
        // A token cannot be made on someone else's connection either.
        let r = app
            .create_token(
                key,
                json!({"connection-id": w.connection, "source-id": w.inquiry}),
            )
            .await
            .refused(404, "not_found");
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
    creation_tells_both_sides,
    an_idempotent_retry_creates_one_token,
    creation_needs_an_active_outbound_connection,
    creation_needs_a_shareable_inquiry_of_the_caller,
    creation_validates_the_body,
    tokens_are_listed_from_both_sides,
    the_destination_peeks_at_masked_data,
    only_a_redeemable_token_is_peeked_at_by_its_destination,
    forbidden_token_transitions_change_nothing,
    a_stranger_sees_no_token,
);
