//! Issue #17 items 1 and 7 through the real router: the instance publishes its identity
//! (`/.well-known/jwks.json`, `/.well-known/tessera`) to anyone, keeps retired keys published
//! after a rotation, and the secrets the API hands out are sealed in the database — while the
//! worker still signs deliveries with them.

use serde_json::json;
use tessera_core::keys::jwk_thumbprint;
use tessera_core::signing::verify_persona_signature;
use tessera_store::testing::{Backend, sql};
use tessera_store::units::keys;
use tessera_store::{args, on_both_backends};

use crate::receiver::Receiver;
use crate::support::App;

async fn the_instance_publishes_its_identity(backend: Backend) {
    let app = App::with_config(backend, |c| {
        c.public_base_url = Some("https://tessera.example.com/".into());
    })
    .await;
    // No key needed, cacheable.
    let jwks = app.get("/.well-known/jwks.json").send().await.expect(200);
    assert_eq!(jwks.header("content-type"), Some("application/json"));
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=300"));
    let published = jwks.json["keys"].as_array().unwrap().clone();
    assert_eq!(published.len(), 1, "one key, made at first start");
    let first = &published[0];
    assert_eq!(first["kty"], "OKP");
    assert_eq!(first["crv"], "Ed25519");
    assert_eq!(first["alg"], "EdDSA");
    assert_eq!(first["use"], "sig");
    let x = first["x"].as_str().unwrap();
    assert_eq!(first["kid"], jwk_thumbprint("OKP", "Ed25519", x).as_str());
    assert!(first.get("d").is_none(), "no private half");

    let doc = app.get("/.well-known/tessera").send().await.expect(200);
    assert_eq!(doc.header("cache-control"), Some("public, max-age=300"));
    let instance = doc.json["instance-id"].as_str().unwrap().to_owned();
    assert!(instance.starts_with("ins_"));
    assert_eq!(doc.json["public-base-url"], "https://tessera.example.com");
    assert_eq!(
        doc.json["jwks-uri"],
        "https://tessera.example.com/.well-known/jwks.json"
    );
    assert_eq!(doc.json["protocol-version"], "1");
    assert_eq!(doc.json["api-versions"][0], "2025-12-08");
    assert_eq!(doc.json["signing-key-id"], first["kid"]);

    // `tessera keys rotate`: a new active key; the old one stays published.
    let new = app
        .db
        .store
        .write(keys::rotate_signing_key(
            tessera_store::units::keys::Algorithm::EdDSA,
        ))
        .await
        .unwrap();
    let jwks = app.get("/.well-known/jwks.json").send().await.expect(200);
    let kids: Vec<_> = jwks.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kids,
        vec![new.clone(), first["kid"].as_str().unwrap().to_owned()]
    );
    let doc = app.get("/.well-known/tessera").send().await.expect(200);
    assert_eq!(doc.json["signing-key-id"], new.as_str());
    assert_eq!(doc.json["instance-id"], instance.as_str(), "the id is kept");
    // Built again (a restart): nothing new is made.
    let again = App::new(backend).await;
    let before = again.get("/.well-known/jwks.json").send().await.expect(200);
    let (_, state) =
        tessera_server::app::build(again.db.store.clone(), (*again.state.config).clone())
            .await
            .unwrap();
    let after = state.store.read(keys::published_keys()).await.unwrap();
    assert_eq!(after.len(), before.json["keys"].as_array().unwrap().len());
    // Not part of the tenant API's description.
    let openapi = app.get("/api/v1/openapi.json").send().await.expect(200);
    assert!(!openapi.json["paths"].to_string().contains(".well-known"));
}

/// Every value of the columns that hold secrets, and every text of those rows, read directly.
async fn stored_text(app: &App) -> String {
    let mut out = String::new();
    for table in ["webhooks", "workflows", "signing_keys"] {
        let q = match backend_of(app) {
            Backend::Postgres => format!("select cast(t.* as text) as v from {table} t"),
            Backend::Sqlite => format!("select * from {table}"),
        };
        for r in sql::fetch_all(&app.db.store, &q, args![]).await.unwrap() {
            match backend_of(app) {
                Backend::Postgres => out.push_str(&r.text("v").unwrap()),
                Backend::Sqlite => {
                    for col in ["secret", "previous_secret", "private_key"] {
                        if let Ok(Some(v)) = r.opt_text(col) {
                            out.push_str(&v);
                        }
                    }
                }
            }
        }
    }
    if let Some(path) = app.db.url.strip_prefix("sqlite://") {
        // The file itself, and its write-ahead log.
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(file) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    out
}

fn backend_of(app: &App) -> Backend {
    if app.db.schema.is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

async fn secrets_the_api_hands_out_are_sealed_in_the_database(backend: Backend) {
    let app = crate::webhooks::app(backend).await;
    let org = app.org("Acme").await;
    let rx = Receiver::start().await;
    let made = app
        .post("/api/v1/webhooks")
        .key(&org.sandbox)
        .json(json!({"data": {"attributes": {"url": rx.url(), "enabled-events": ["inquiry.created"]}}}))
        .send()
        .await
        .expect(201);
    let (id, first) = (
        made.id(),
        made.json["meta"]["secret"].as_str().unwrap().to_owned(),
    );
    let rotated = app
        .post(&format!("/api/v1/webhooks/{id}/rotate-secret"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    let secret = rotated.json["meta"]["secret"].as_str().unwrap().to_owned();
    let workflow = app
        .post("/api/v1/workflows")
        .key(&org.sandbox)
        .json(
            json!({"data": {"attributes": {"name": "w", "trigger": {"event": "inquiry.approved"},
            "steps": [{"type": "tag-inquiry", "tag": "seen"}]}}}),
        )
        .send()
        .await
        .expect(201);
    let workflow_secret = workflow.json["meta"]["secret"].as_str().unwrap().to_owned();

    let stored = stored_text(&app).await;
    assert!(stored.contains("v1:mk-"), "the sealed values are read");
    for s in [&first, &secret, &workflow_secret] {
        assert!(!stored.contains(s.as_str()), "{s} is stored in the clear");
    }
    // The API still shows the secret to a key that may write webhooks…
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .key(&org.sandbox)
        .send()
        .await
        .expect(200);
    assert_eq!(shown.attr("secret"), secret.as_str());
    // …and the worker signs with it.
    app.inquiry(&org.sandbox, json!({})).await;
    app.worker().drain().await.unwrap();
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let now = chrono::Utc::now().timestamp();
    verify_persona_signature(
        got[0].header("persona-signature"),
        &secret,
        &got[0].body,
        now,
        300,
    )
    .unwrap();
}

on_both_backends!(
    the_instance_publishes_its_identity,
    secrets_the_api_hands_out_are_sealed_in_the_database,
);
