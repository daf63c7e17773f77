//! The whole flow across two instances: connect (offer, accept), create on A, see it on B, peek
//! through B, redeem on B (clone and hydrate), the copy on B with its verification against B's
//! own rules, the source's signed receipt verified offline by the CLI against A's JWKS, and the
//! events on both sides — on SQLite + SQLite, and SQLite + PostgreSQL.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};
use tessera_store::testing::{Backend, TestDb};

use super::instance::Instance;
use super::{Pair, sqlite};

fn names(events: &Value) -> Vec<String> {
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["attributes"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The stand-in of the peer's organization is no organization of this instance: the operator
/// does not list, show or give it keys or users.
async fn stand_ins_are_not_administered(pair: &Pair) {
    let admin = format!("Bearer {}", super::instance::ADMIN);
    let (status, list) = pair
        .a
        .send("GET", &admin, "/admin/v1/organizations", None)
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![pair.source.id.as_str()], "{list}");
    let stand_in = format!("/admin/v1/organizations/{}", pair.destination.id);
    let (status, _) = pair.a.send("GET", &admin, &stand_in, None).await;
    assert_eq!(status, 404);
    let (status, v) = pair
        .a
        .send(
            "POST",
            &admin,
            &format!("{stand_in}/api-keys"),
            Some(json!({"data": {"attributes": {"name": "sneaky", "environment": "sandbox"}}})),
        )
        .await;
    assert_eq!(status, 404, "{v}");
}

/// A webhook receiver on loopback: the bodies it got, by path.
#[derive(Clone, Default)]
struct Hooks(Arc<Mutex<Vec<(String, String)>>>);

impl Hooks {
    async fn start() -> (Self, std::net::SocketAddr) {
        let hooks = Hooks::default();
        let got = hooks.clone();
        let app = axum::Router::new().route(
            "/{side}",
            axum::routing::post(
                move |axum::extract::Path(side): axum::extract::Path<String>, body: String| {
                    let got = got.clone();
                    async move {
                        got.0.lock().unwrap().push((side, body));
                        "ok"
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (hooks, addr)
    }

    /// Waits until `side`'s webhook got an event named `name`.
    async fn wait_for(&self, side: &str, name: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        let needle = format!("\"{name}\"");
        loop {
            if self
                .0
                .lock()
                .unwrap()
                .iter()
                .any(|(s, b)| s == side && b.contains(&needle))
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{side}'s webhook never got {name}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// A webhook of `org` on `instance` for every event, delivering to `url`.
async fn webhook(instance: &Instance, org: &super::instance::Org, url: String) {
    let (status, v) = instance
        .call(
            org,
            "POST",
            "/api/v1/webhooks",
            Some(json!({"data": {"attributes": {"url": url, "enabled-events": ["*"]}}})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
}

async fn share_across(pair: Pair) {
    stand_ins_are_not_administered(&pair).await;
    let (hooks, at) = Hooks::start().await;
    webhook(&pair.a, &pair.source, format!("http://{at}/a")).await;
    webhook(&pair.b, &pair.destination, format!("http://{at}/b")).await;
    let inquiry = pair.shareable_inquiry("Ada").await;
    let token = pair
        .token(
            &inquiry,
            json!({"allowed-fields": ["name-first", "birthdate"]}),
        )
        .await;
    let (a, b) = (&pair.a, &pair.b);
    let path = format!("/api/v1/connect/share-tokens/{token}");

    // Peek and preview through B: B asks A, which answers masked values and the manifest.
    let peek = b
        .get_json(
            &pair.destination.key,
            &format!("{path}?peek-source-data=true"),
        )
        .await;
    let source_data = &peek["data"]["attributes"]["source-data"];
    assert_eq!(source_data["type"], "connect/source-data/inquiry", "{peek}");
    let peeked = &source_data["peekable-attributes"]["fields"];
    assert!(peeked.get("name-first").is_some(), "{peeked}");
    assert!(peeked.get("name-last").is_none(), "not disclosed: {peeked}");
    let manifest = b
        .get_json(&pair.destination.key, &format!("{path}/manifest"))
        .await;
    let digest = manifest["data"]["attributes"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        peek["data"]["attributes"]["manifest"]["digest"],
        digest.as_str()
    );
    // The source's side may not peek.
    let (status, _) = a
        .call(&pair.source, "GET", &format!("{path}/manifest"), None)
        .await;
    assert_eq!(status, 403);

    // Redeem on B, through B's API, exactly as for a local token: pending at once, then redeemed
    // once A (the authority) answered and B landed the copy.
    let (status, v) = b
        .call(
            &pair.destination,
            "POST",
            &format!("{path}/redeem"),
            Some(json!({"meta": {"manifest-digest": digest}})),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["data"]["attributes"]["status"], "pending");
    let redeemed = b
        .wait_for(&pair.destination, &path, "redeemed on B", |v| {
            v["data"]["attributes"]["status"] == "redeemed"
        })
        .await;
    assert_eq!(
        pair.statuses(&token).await,
        ("redeemed".into(), "redeemed".into())
    );
    // The copy is exactly what the preview promised.
    assert_eq!(
        redeemed["data"]["attributes"]["copy-digest"],
        digest.as_str()
    );
    assert_eq!(redeemed["data"]["attributes"]["manifest-matched"], true);

    // The copy: only the disclosed fields, with the travelled verification and B's own check.
    let copy = redeemed["data"]["relationships"]["destination"]["data"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{redeemed}"))
        .to_owned();
    let inq = b
        .get_json(&pair.destination.key, &format!("/api/v1/inquiries/{copy}"))
        .await;
    let fields = &inq["data"]["attributes"]["fields"];
    assert_eq!(fields["name-first"]["value"], "Ada");
    assert_eq!(fields["birthdate"]["value"], "1990-12-10");
    assert!(fields.get("name-last").is_none(), "{fields}");
    let kinds: Vec<&str> = inq["data"]["relationships"]["verifications"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"verification/government-id"), "{kinds:?}");
    assert!(kinds.contains(&"verification/share-token"), "{kinds:?}");

    // The receipt: signed by A, held by B with the data, verified offline against A's JWKS.
    let receipt = b
        .get_json(&pair.destination.key, &format!("{path}/receipt"))
        .await;
    let claims = &receipt["data"]["attributes"]["claims"];
    assert_eq!(claims["iss"], a.instance_id().await.as_str());
    assert_eq!(claims["sub"], token.as_str());
    assert_eq!(
        claims["destination-organization"],
        pair.destination.id.as_str()
    );
    // Signed with A's active key, in that key's algorithm (EdDSA or ES256).
    let jws = receipt["data"]["attributes"]["jws"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let active = a.get_json("", "/.well-known/jwks.json").await["keys"][0].clone();
    assert_eq!(
        (&header["alg"], &header["kid"]),
        (&active["alg"], &active["kid"])
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), receipt.to_string()).unwrap();
    let jwks = a.url("/.well-known/jwks.json");
    let out = b
        .cli(&[
            "receipt",
            "verify",
            file.path().to_str().unwrap(),
            "--jwks",
            &jwks,
            "--data",
            file.path().to_str().unwrap(),
        ])
        .await;
    assert!(out.contains(&token), "{out}");
    // A holds the same receipt.
    let at_a = a
        .get_json(&pair.source.key, &format!("{path}/receipt"))
        .await;
    assert_eq!(
        at_a["data"]["attributes"]["jws"],
        receipt["data"]["attributes"]["jws"]
    );

    // Events on both sides, each in its own tenant.
    let ev_a = names(
        &a.get_json(&pair.source.key, "/api/v1/events?page[size]=100")
            .await,
    );
    for n in [
        "connect/connection.outbound-created",
        "connect/connection.outbound-activated",
        "connect/share-token.outbound-created",
        "connect/share-token.outbound-redeemed",
    ] {
        assert!(ev_a.iter().any(|e| e == n), "A lacks {n}: {ev_a:?}");
    }
    let ev_b = names(
        &b.get_json(&pair.destination.key, "/api/v1/events?page[size]=100")
            .await,
    );
    for n in [
        "connect/connection.inbound-created",
        "connect/connection.inbound-activated",
        "connect/share-token.inbound-created",
        "connect/share-token.inbound-redeemed",
        "inquiry.created",
    ] {
        assert!(ev_b.iter().any(|e| e == n), "B lacks {n}: {ev_b:?}");
    }

    // And the webhooks of both sides, each from its own instance.
    hooks
        .wait_for("a", "connect/share-token.outbound-redeemed")
        .await;
    hooks
        .wait_for("b", "connect/share-token.inbound-redeemed")
        .await;
    hooks.wait_for("b", "inquiry.created").await;

    // Redeemed once: redeeming again is refused on B, and A keeps one redemption.
    let (status, _) = b
        .call(&pair.destination, "POST", &format!("{path}/redeem"), None)
        .await;
    assert_eq!(status, 409);

    // Hydrate: B fills one of its own inquiries with a second token's copy.
    let second = pair.shareable_inquiry("Grace").await;
    let token2 = pair.token(&second, json!({})).await;
    let (status, own) = b
        .call(
            &pair.destination,
            "POST",
            "/api/v1/inquiries",
            Some(json!({"data": {"attributes": {"fields": {"email-address": "g@example.com"}}}})),
        )
        .await;
    assert_eq!(status, 201, "{own}");
    let own = own["data"]["id"].as_str().unwrap().to_owned();
    let path2 = format!("/api/v1/connect/share-tokens/{token2}");
    // Judged by B's own template (18+, from GB), with a field mapping.
    let (status, template) = b
        .call(
            &pair.destination,
            "POST",
            "/api/v1/inquiry-templates",
            Some(json!({"data": {"attributes": {"name": "Lending", "required-fields": ["name-first", "birthdate"],
                "minimum-age": 18, "allowed-countries": ["GB"]}}})),
        )
        .await;
    assert_eq!(status, 201, "{template}");
    let template = template["data"]["id"].as_str().unwrap().to_owned();
    let (status, v) = b
        .call(
            &pair.destination,
            "POST",
            &format!("{path2}/redeem"),
            Some(json!({
                "data": {"attributes": {"destination-id": own, "inquiry-template-id": template}},
                "meta": {"field-mappings": [{"source-field-name": "name-last", "destination-field-name": "surname"}]},
            })),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    b.wait_for(&pair.destination, &path2, "hydrated on B", |v| {
        v["data"]["attributes"]["status"] == "redeemed"
    })
    .await;
    let filled = b
        .get_json(&pair.destination.key, &format!("/api/v1/inquiries/{own}"))
        .await;
    let fields = &filled["data"]["attributes"]["fields"];
    assert_eq!(fields["name-first"]["value"], "Grace");
    assert_eq!(fields["email-address"]["value"], "g@example.com");
    assert_eq!(fields["surname"]["value"], "Lovelace", "mapped: {fields}");
    // B's share-token verification of the copy passed its template's checks (18+, from GB, the
    // required fields): the copy is completed, not marked for review.
    assert_eq!(
        filled["data"]["attributes"]["status"], "completed",
        "{filled}"
    );
    let claims = b
        .get_json(&pair.destination.key, &format!("{path2}/receipt"))
        .await;
    assert_eq!(
        claims["data"]["attributes"]["claims"]["redeem-mode"],
        "hydrate"
    );

    // A token sharing one verification of an inquiry: its copy on B holds that verification.
    let grace = a
        .get_json(&pair.source.key, &format!("/api/v1/inquiries/{second}"))
        .await;
    let ver = grace["data"]["relationships"]["verifications"]["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token3 = pair.token(&ver, json!({})).await;
    let path3 = format!("/api/v1/connect/share-tokens/{token3}");
    let (status, v) = b
        .call(&pair.destination, "POST", &format!("{path3}/redeem"), None)
        .await;
    assert_eq!(status, 202, "{v}");
    let t3 = b
        .wait_for(
            &pair.destination,
            &path3,
            "a verification redeemed on B",
            |v| v["data"]["attributes"]["status"] == "redeemed",
        )
        .await;
    // Its destination is the copied verification, with its original result.
    let dest3 = &t3["data"]["relationships"]["destination"]["data"];
    assert_eq!(dest3["type"], "verification/government-id", "{t3}");
    let v3 = b
        .get_json(
            &pair.destination.key,
            &format!("/api/v1/verifications/{}", dest3["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(v3["data"]["attributes"]["status"], "passed", "{v3}");
    let r3 = b
        .get_json(&pair.destination.key, &format!("{path3}/receipt"))
        .await;
    assert_eq!(
        r3["data"]["attributes"]["claims"]["verifications"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Expiring a token by call, on either side, is told to the other.
    for (by, other) in [(a, b), (b, a)] {
        let t = pair.token(&second, json!({})).await;
        let path = format!("/api/v1/connect/share-tokens/{t}");
        let (who, other_org) = if by.name == "A" {
            (&pair.source, &pair.destination)
        } else {
            (&pair.destination, &pair.source)
        };
        let (status, v) = by.call(who, "POST", &format!("{path}/expire"), None).await;
        assert_eq!(status, 200, "{v}");
        other
            .wait_for(other_org, &path, "told of the expiry", |v| {
                v["data"]["attributes"]["status"] == "expired"
            })
            .await;
    }

    // Notices after redemption cross too: A redacts the inquiry it shared; B's copy is told.
    let (status, v) = a
        .call(
            &pair.source,
            "DELETE",
            &format!("/api/v1/inquiries/{inquiry}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let told = b
        .wait_for(
            &pair.destination,
            &format!("/api/v1/inquiries/{copy}"),
            "told of the source's redaction",
            |v| v["data"]["attributes"]["source-status"] == "redacted",
        )
        .await;
    assert!(
        told["data"]["attributes"]["source-status-changed-at"].is_string(),
        "{told}"
    );
    let ev_b = names(
        &b.get_json(&pair.destination.key, "/api/v1/events?page[size]=100")
            .await,
    );
    assert!(
        ev_b.iter().any(|e| e == "inquiry.source-redacted"),
        "{ev_b:?}"
    );
    // The hydrated copy of the other inquiry was not told anything.
    let other = b
        .get_json(&pair.destination.key, &format!("/api/v1/inquiries/{own}"))
        .await;
    assert_ne!(other["data"]["attributes"]["source-status"], "redacted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_on_one_sqlite_instance_is_redeemed_on_another() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Instance::start("A", da.path(), &sqlite(da.path())).await;
    let b = Instance::start("B", db.path(), &sqlite(db.path())).await;
    share_across(Pair::connect(a, b).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_on_sqlite_is_redeemed_on_postgres() {
    let pg = TestDb::new(Backend::Postgres).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Instance::start("A", da.path(), &sqlite(da.path())).await;
    let b = Instance::start("B", db.path(), &pg.url).await;
    share_across(Pair::connect(a, b).await).await;
}

/// A's key is ES256 (the operator asked, `TESSERA_SIGNING_ALGORITHM=ES256`), B's Ed25519: B pins
/// A's EC key, A's messages are signed `ecdsa-p256-sha256` and B's `ed25519`, and A's receipt is
/// an ES256 JWS the CLI verifies against A's JWKS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_on_an_es256_instance_is_redeemed_on_an_ed25519_one() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Instance::start_es256("A", da.path(), &sqlite(da.path())).await;
    let b = Instance::start("B", db.path(), &sqlite(db.path())).await;
    let jwks = reqwest::get(a.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256")),
        "{jwks}"
    );
    assert_eq!(key["kid"], a.pin().await.as_str());
    share_across(Pair::connect(a, b).await).await;
}
