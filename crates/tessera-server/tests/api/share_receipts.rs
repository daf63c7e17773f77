//! Signed share receipts (issue 17, item 6): every redemption yields a receipt signed by the
//! instance under a published key; it names the token, both organizations, the inquiry, the
//! redeem mode, the verifications that travelled and the digest of exactly the data copied. It
//! verifies against `/.well-known/jwks.json` — also after a key rotation — and tampering with a
//! claim, the data or the key fails.

use serde_json::{Value, json};
use tessera_core::keys::Jwk;
use tessera_core::receipt::{self, ReceiptError};
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use crate::support::{App, Connected};

async fn jwks(app: &App) -> Vec<Jwk> {
    let doc = app.get("/.well-known/jwks.json").send().await.expect(200);
    serde_json::from_value(doc.json["keys"].clone()).unwrap()
}

fn receipt_path(token: &str) -> String {
    format!("/api/v1/connect/share-tokens/{token}/receipt")
}

fn kid_of(jws: &str) -> String {
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jws.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_redemption_yields_a_receipt_that_verifies(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, src, dst) = (&w.app, &w.src.sandbox, &w.dst.sandbox);
    let source = app
        .inquiry(
            src,
            json!({"name-first": "Jana", "birthdate": "1990-04-01"}),
        )
        .await;
    app.verification(
        src,
        &source,
        json!({"type": "government-id", "status": "passed", "completed-at": app.days_ago(40)}),
    )
    .await;
    app.act(src, &source, "complete").await.expect(200);
    let token = app.share_token(src, &w.connection, &source).await;
    // No receipt before the redemption.
    app.get(&receipt_path(&token))
        .key(dst)
        .send()
        .await
        .refused(409, "receipt_not_available");

    let t = w.redeem_now(&token, json!({})).await;
    assert_eq!(
        t.json["data"]["relationships"]["receipt"]["data"],
        json!({"type": "connect/share-token-receipt", "id": token})
    );
    let r = app.fetch(dst, &receipt_path(&token)).await;
    assert_eq!(r.json["data"]["type"], "connect/share-token-receipt");
    let jws = r.attr("jws").as_str().unwrap().to_owned();
    let keys = jwks(app).await;
    let claims = receipt::verify(&jws, &keys).expect("the receipt verifies");
    assert_eq!(serde_json::to_value(&claims).unwrap(), *r.attr("claims"));
    let instance = app.get("/.well-known/tessera").send().await.expect(200);
    let instance_id = instance.json["instance-id"]
        .as_str()
        .or_else(|| instance.json["id"].as_str())
        .unwrap_or_else(|| panic!("no instance id in {}", instance.json));
    assert_eq!(claims.iss, instance_id);
    assert_eq!(claims.sub, token);
    assert_eq!(claims.source_organization, w.src.id);
    assert_eq!(claims.destination_organization, w.dst.id);
    assert_eq!(claims.inquiry_id, source);
    assert_eq!(claims.redeem_mode, "clone");
    assert_eq!(claims.verifications.len(), 1);
    assert_eq!(claims.verifications[0].kind, "government-id");
    assert_eq!(claims.verifications[0].status, "passed");
    assert_eq!(claims.verifications[0].completed_at, app.days_ago(40));
    assert_eq!(claims.redeemed_at, t.attr("redeemed-at").as_str().unwrap());
    assert_eq!(claims.data_digest, t.attr("copy-digest").as_str().unwrap());
    // The data given beside it is exactly what was copied; other data is not.
    let data = r.attr("data").clone();
    assert_eq!(data["fields"]["name-first"]["value"], "Jana");
    assert_eq!(receipt::check_data(&claims, &data), Ok(()));
    let mut other = data.clone();
    other["fields"]["name-first"]["value"] = json!("Janet");
    assert!(matches!(
        receipt::check_data(&claims, &other),
        Err(ReceiptError::DataMismatch { .. })
    ));
    // The source holds the same receipt; a stranger sees none.
    let at_source = app.fetch(src, &receipt_path(&token)).await;
    assert_eq!(at_source.attr("jws"), jws.as_str());
    assert!(
        at_source.attr("data").is_null(),
        "the copied data is the destination's record, not shown to the source"
    );
    let stranger = app.org("Stranger").await;
    app.get(&receipt_path(&token))
        .key(&stranger.sandbox)
        .send()
        .await
        .refused(404, "not_found");
}

async fn a_receipt_signed_before_a_rotation_still_verifies(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, dst) = (&w.app, &w.dst.sandbox);
    let first = w.token().await;
    w.redeem_now(&first, json!({})).await;
    let old = app
        .fetch(dst, &receipt_path(&first))
        .await
        .attr("jws")
        .as_str()
        .unwrap()
        .to_owned();
    app.db
        .store
        .write(tessera_store::units::keys::rotate_signing_key(
            tessera_store::units::keys::Algorithm::EdDSA,
        ))
        .await
        .unwrap();
    let keys = jwks(app).await;
    assert!(
        receipt::verify(&old, &keys).is_ok(),
        "the old key stays published"
    );
    let second = w.token().await;
    w.redeem_now(&second, json!({})).await;
    let new = app
        .fetch(dst, &receipt_path(&second))
        .await
        .attr("jws")
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(kid_of(&old), kid_of(&new), "signed with the new key");
    assert!(receipt::verify(&new, &keys).is_ok());
    // A JWKS without the old key no longer verifies the old receipt.
    let without: Vec<Jwk> = keys.into_iter().filter(|k| k.kid != kid_of(&old)).collect();
    assert!(matches!(
        receipt::verify(&old, &without),
        Err(ReceiptError::UnknownKey(_))
    ));
}

async fn a_redacted_copy_keeps_its_receipt_without_the_data(backend: Backend) {
    let w = Connected::new(backend).await;
    let (app, dst) = (&w.app, &w.dst.sandbox);
    let token = w.token().await;
    let copy = w
        .redeem_now(&token, json!({}))
        .await
        .related("destination")
        .unwrap();
    app.delete(&format!("/api/v1/inquiries/{copy}"))
        .key(dst)
        .send()
        .await
        .expect(200);
    let r = app.fetch(dst, &receipt_path(&token)).await;
    assert!(r.attr("data").is_null(), "the copied data is gone");
    assert!(receipt::verify(r.attr("jws").as_str().unwrap(), &jwks(app).await).is_ok());
    assert!(!r.json.to_string().contains("Janeczka"));
}

on_both_backends!(
    a_redemption_yields_a_receipt_that_verifies,
    a_receipt_signed_before_a_rotation_still_verifies,
    a_redacted_copy_keeps_its_receipt_without_the_data,
);
