//! The demo's trust steps: the destination previews the token before redeeming (the manifest's
//! dry run of its template), and the redemption's signed receipt is checked against the
//! instance's published keys, as `tessera receipt verify` would.

use tessera_core::id::{ShareTokenId, TemplateId};
use tessera_core::keys::Jwk;
use tessera_core::receipt;
use tessera_core::tenancy::Scope;
use tessera_store::Store;
use tessera_store::units::keys;
use tessera_store::units::share_tokens::{self, ManifestRequest};

/// The preview of `token` for its destination `scope` against `template`: a line to print and the
/// manifest's digest (sent back with the redemption).
pub async fn preview(
    store: &Store,
    scope: &Scope,
    token: &ShareTokenId,
    template: &TemplateId,
) -> anyhow::Result<(String, String)> {
    let m = store
        .read(share_tokens::manifest(
            scope.clone(),
            token.clone(),
            ManifestRequest {
                inquiry_template_id: Some(template.clone()),
                ..Default::default()
            },
        ))
        .await?;
    let line = format!(
        "previews it first: {} fields, {} verifications, {} documents would travel; the dry run of its template says {} (manifest {}…)",
        m.fields.len(),
        m.verifications.len(),
        m.documents.len(),
        m.dry_run.status.as_str(),
        &m.digest[..19],
    );
    Ok((line, m.digest))
}

/// Checks `token`'s receipt, as its holder (`holder`, read as `scope`) keeps it, against the
/// published keys of the instance that signed it (`issuer`) and the copied data; the receipt's
/// claims.
pub async fn verified_receipt(
    holder: &Store,
    scope: &Scope,
    token: &ShareTokenId,
    issuer: &Store,
) -> anyhow::Result<receipt::Claims> {
    let r = holder
        .read(share_tokens::receipt(scope.clone(), token.clone()))
        .await?;
    let jwks: Vec<Jwk> = issuer
        .read(keys::published_keys())
        .await?
        .into_iter()
        .map(|k| k.jwk)
        .collect();
    let claims = receipt::verify(&r.jws, &jwks)?;
    let data = r
        .data
        .ok_or_else(|| anyhow::anyhow!("the receipt's data is gone"))?;
    receipt::check_data(&claims, &data)?;
    Ok(claims)
}

/// Checks `token`'s receipt (read as `scope`) against the instance's published keys and the
/// copied data; returns a line to print.
pub async fn check_receipt(
    store: &Store,
    scope: &Scope,
    token: &ShareTokenId,
) -> anyhow::Result<String> {
    let claims = verified_receipt(store, scope, token, store).await?;
    Ok(format!(
        "gets a receipt signed by instance {}: it verifies against /.well-known/jwks.json, and the copy is exactly its {}… (`tessera receipt verify`)",
        claims.iss,
        &claims.data_digest[..19]
    ))
}
