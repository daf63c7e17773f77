//! Trust at redemption on the dashboard: a token created from the form shares only what its
//! disclosure inputs name (refused inputs write nothing), both sides see what it shares, and the
//! destination's token page shows the dry run of the template it picks, then records that the
//! copy matched what it previewed.

use serde_json::json;
use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, page, user};
use crate::support::App;

async fn a_partial_token_is_created_previewed_and_redeemed_from_the_pages(backend: Backend) {
    let app = App::new(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let connection = app.active_connection(&a.org, &b.org).await;
    let inquiry = app
        .completed_inquiry(
            &a.org.sandbox,
            json!({"name-first": "Jana", "name-last": "Nowak", "birthdate": "1990-04-01"}),
        )
        .await;
    let template = app
        .template_with(
            &b.org.sandbox,
            json!({"name": "Needs a last name", "required-fields": ["name-first", "name-last"]}),
        )
        .await;

    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let body = page(&web.get("/dashboard/share-tokens").await, 200);
    assert!(body.contains("name=\"allowed_fields\""), "{body}");
    let form = |fields: &'static str, verifications: &'static str| {
        vec![
            ("connection_id", connection.clone()),
            ("inquiry_id", inquiry.clone()),
            ("expires_in", String::from("3600")),
            ("allowed_fields", fields.to_owned()),
            ("allowed_verifications", verifications.to_owned()),
            ("allowed_documents", String::from("none")),
        ]
    };
    // A bad entry: the message, the form as typed, nothing made.
    let fields = form("name-first, bad/name", "");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = page(&web.post("/dashboard/share-tokens", &pairs).await, 422);
    assert!(body.contains("is not a field name"), "{body}");
    assert!(body.contains("value=\"name-first, bad/name\""), "{body}");
    assert!(
        app.all(&a.org.sandbox, "/api/v1/connect/share-tokens")
            .await
            .is_empty()
    );

    let fields = form("name-first birthdate", "none");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = web.post("/dashboard/share-tokens", &pairs).await;
    assert_eq!(r.status.as_u16(), 303);
    let token = r
        .header("location")
        .unwrap()
        .trim_start_matches("/dashboard/share-tokens/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let api = app
        .fetch(
            &a.org.sandbox,
            &format!("/api/v1/connect/share-tokens/{token}"),
        )
        .await;
    assert_eq!(
        api.attr("allowed-fields"),
        &json!(["birthdate", "name-first"])
    );
    assert_eq!(api.attr("allowed-verifications"), &json!([]));
    assert_eq!(api.attr("allowed-documents"), &json!([]));
    let body = page(
        &web.get(&format!("/dashboard/share-tokens/{token}")).await,
        200,
    );
    assert!(body.contains("Fields: birthdate, name-first"), "{body}");
    assert!(
        !body.contains("id=\"manifest\""),
        "the source has no preview"
    );

    // The destination previews against its template: the left-out last name fails.
    let mut web = Browser::new(&app);
    web.sign_in(&b).await;
    let path = format!("/dashboard/share-tokens/{token}");
    let body = page(&web.get(&format!("{path}?template={template}")).await, 200);
    assert!(body.contains("Verifications: none"), "{body}");
    let checks = body
        .split("id=\"dry-run-checks\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .unwrap_or_else(|| panic!("no dry run: {body}"));
    assert!(checks.contains("missing field name-last"), "{checks}");
    assert!(!body.contains("Nowak"), "the hidden field is nowhere");
    let digest = body
        .split("id=\"manifest-digest\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    assert!(body.contains(&format!("name=\"manifest_digest\" value=\"{digest}\"")));

    let r = web
        .post(
            &format!("{path}/redeem"),
            &[
                ("template_id", template.as_str()),
                ("manifest_digest", digest.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", super::html(&r));
    app.drain().await;
    let body = page(&web.get(&path).await, 200);
    assert!(
        body.contains(&digest) && body.contains("matched the preview"),
        "{body}"
    );
    let api = app
        .fetch(
            &b.org.sandbox,
            &format!("/api/v1/connect/share-tokens/{token}"),
        )
        .await;
    assert_eq!(api.attr("manifest-matched"), true);
    assert_eq!(api.attr("copy-digest"), digest.as_str());

    // The signed receipt: shown on the page, downloaded as the API's document, verifying.
    assert!(body.contains("id=\"receipt-download\""), "{body}");
    let r = web.get(&format!("{path}/receipt")).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment"))
    );
    let doc: serde_json::Value = serde_json::from_slice(&r.bytes).unwrap();
    let keys = app.get("/.well-known/jwks.json").send().await.expect(200);
    let keys: Vec<tessera_core::keys::Jwk> =
        serde_json::from_value(keys.json["keys"].clone()).unwrap();
    let claims =
        tessera_core::receipt::verify(doc["data"]["attributes"]["jws"].as_str().unwrap(), &keys)
            .unwrap();
    assert_eq!(claims.data_digest, digest);
    assert_eq!(
        tessera_core::receipt::check_data(&claims, &doc["data"]["attributes"]["data"]),
        Ok(())
    );
}

on_both_backends!(a_partial_token_is_created_previewed_and_redeemed_from_the_pages);
