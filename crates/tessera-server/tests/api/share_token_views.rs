//! §3.5: what each side sees of share tokens — lists with direction, effective status, filters
//! and paging, and the destination's masked peek at the source.

use serde_json::{Value, json};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::Connected;

const TOKENS: &str = "/api/v1/connect/share-tokens";

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
    app.token_action(dst, &redeemed, "redeem").await.expect(202);
    assert_eq!(app.drain().await, 1);
    app.token_action(dst, &pending, "redeem").await.expect(202);
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
    assert_eq!(data["type"], "connect/source-data/inquiry");
    assert_eq!(data["id"], source.as_str());
    // Scalars are wrappers too.
    assert_eq!(
        data["peekable-attributes"]["status"],
        json!({"visibility": "full", "value": "completed"})
    );
    let fields = &data["peekable-attributes"]["fields"];
    // Personal values: `presence` with a boolean `value`, the partial mask only in `hint`.
    let presence = |name: &str| {
        let f = &fields[name];
        assert_eq!(f["visibility"], "presence", "{name}: {f}");
        assert_eq!(f["value"], true, "{name}: {f}");
        f["hint"].clone()
    };
    assert_eq!(presence("name-first"), json!("J***"));
    assert_eq!(presence("name-last"), json!("D***"));
    assert_eq!(presence("birthdate"), json!("1987"));
    assert_eq!(presence("identification-number"), json!("*******32"));
    assert!(presence("phone-number").as_str().unwrap().ends_with("77"));
    assert_eq!(presence("loyalty-points"), json!("****56"));
    // Never a whole value, however short.
    assert_eq!(presence("dependants"), json!("**"));
    assert_eq!(presence("name-middle"), json!("***"));
    presence("email-address");
    assert_eq!(presence("address-street-1"), json!("7***"));
    // What is not personal: `full` with the raw value.
    let full = |v: Value| json!({"visibility": "full", "value": v});
    assert_eq!(fields["address-country-code"], full(json!("US")));
    assert_eq!(fields["issuing-country"], full(json!("US")));
    assert_eq!(fields["expiration-date"], full(json!("2031-05-06")));
    assert_eq!(fields["vip"], full(json!(true)));
    let related = data["related-objects"].as_array().unwrap();
    let kinds: Vec<(&Value, &Value)> = related
        .iter()
        .map(|v| (&v["type"], &v["peekable-attributes"]["status"]))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                &json!("connect/source-data/verification/government-id"),
                &full(json!("passed"))
            ),
            (
                &json!("connect/source-data/verification/selfie"),
                &full(json!("failed"))
            ),
        ]
    );
    let gov = &related[0]["peekable-attributes"];
    assert_eq!(gov["completed-at"]["visibility"], "full");
    assert!(gov["completed-at"]["value"].is_string());
    // A verification's extracted attributes follow the same policy.
    assert_eq!(gov["name-first"]["visibility"], "presence");
    assert_eq!(gov["identification-number"]["value"], true);
    assert!(related[0]["id"].as_str().unwrap().starts_with("ver_"));
    // Every entry of every bag is a `{visibility, value}` wrapper.
    let wrapper = |name: &str, e: &Value| {
        let ok = match e["visibility"].as_str() {
            Some("full") => e.get("value").is_some(),
            Some("presence") => e["value"].is_boolean(),
            _ => false,
        };
        assert!(ok, "{name}: {e}");
    };
    for (name, e) in fields.as_object().unwrap() {
        wrapper(name, e);
    }
    for (name, e) in data["peekable-attributes"].as_object().unwrap() {
        if name != "fields" {
            wrapper(name, e);
        }
    }
    for r in related {
        for (name, e) in r["peekable-attributes"].as_object().unwrap() {
            wrapper(name, e);
        }
    }

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
    assert_eq!(fields["name-first"]["hint"], "J***");

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

/// Persona: `source-data` is "present only when … the caller is the destination": a peek the
/// caller may not make answers 200 without it, never an error.
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
        .expect(200);
    assert_eq!(r.attr("direction"), "outbound");
    assert!(r.json["data"]["attributes"].get("source-data").is_none());
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
        .expect(202);
    app.drain().await;
    let still_pending = w.token().await;
    app.token_action(&w.dst.sandbox, &still_pending, "redeem")
        .await
        .expect(202);
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
            .expect(200);
        assert_eq!(r.id(), id);
        assert!(
            r.json["data"]["attributes"].get("source-data").is_none(),
            "{}",
            r.json
        );
        assert!(!String::from_utf8_lossy(&r.bytes).contains("Janeczka"));
    }
}

on_both_backends!(
    tokens_are_listed_from_both_sides,
    the_destination_peeks_at_masked_data,
    only_a_redeemable_token_is_peeked_at_by_its_destination,
);
