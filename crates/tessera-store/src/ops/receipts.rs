//! Signed share receipts: in the redemption's own unit of work, the instance signs what the copy
//! held (`tessera_core::receipt`) with its active signing key, and keeps the receipt and the
//! document its digest is taken of on the token. Either side of the token reads it back.

use serde_json::Value;
use tessera_core::id::ShareTokenId;
use tessera_core::receipt::{self, Claims, TravelledVerification};
use tessera_core::share_token::ShareToken;
use tessera_core::share_token::copy::Copy;
use tessera_core::tenancy::Scope;
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::{share_tokens, signing_keys};
use crate::tx::Tx;

/// A token's receipt as its reader gets it.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub token: ShareToken,
    /// The compact JWS.
    pub jws: String,
    /// Its claims (as signed).
    pub claims: Claims,
    /// Exactly the data copied (the document `data-digest` is taken of), for the destination
    /// only; none once the destination's copy was redacted.
    pub data: Option<Value>,
}

/// Signs the receipt of `token`'s redemption, which copied `copy`, and keeps it (with the copied
/// data) on the token; returns the receipt.
pub(crate) async fn issue(tx: &mut Tx, token: &ShareToken, copy: &Copy) -> Result<String, Error> {
    // The server makes the identity at start; a store used without it (tests, tools) makes it
    // here, once (Ed25519, the default). The common path only reads.
    let key = match signing_keys::active(tx).await? {
        Some(k) => k,
        None => {
            signing_keys::ensure(tx, tessera_core::keys::Algorithm::default()).await?;
            signing_keys::active(tx).await?.ok_or_else(|| {
                Error::internal(std::io::Error::other(
                    "no active signing key to sign a receipt",
                ))
            })?
        }
    };
    let iss = match signing_keys::read_instance_id(tx).await? {
        Some(id) => id,
        None => signing_keys::instance_id(tx).await?,
    };
    let redeemed_at = token.redeemed_at.unwrap_or_else(|| tx.now());
    let claims = Claims {
        iss,
        sub: token.id.to_string(),
        iat: redeemed_at.millis().div_euclid(1000),
        source_organization: token.source_org.to_string(),
        destination_organization: token.destination_org.to_string(),
        inquiry_id: token.source_inquiry_id.to_string(),
        redeem_mode: token
            .redeem_mode
            .map(|m| m.as_str())
            .unwrap_or("clone")
            .to_owned(),
        verifications: copy
            .verifications
            .iter()
            .map(|v| TravelledVerification {
                kind: v.kind.as_str().to_owned(),
                status: v.status.as_str().to_owned(),
                completed_at: v.completed_at.to_rfc3339(),
            })
            .collect(),
        redeemed_at: redeemed_at.to_rfc3339(),
        data_digest: copy.digest(),
    };
    let jws = receipt::sign(&claims, &key.key);
    keep(tx, token, jws, copy).await
}

/// Keeps receipt `jws` of `token`'s redemption, which copied `copy`, on the token (with the
/// copied data); returns it.
pub(crate) async fn keep(
    tx: &mut Tx,
    token: &ShareToken,
    jws: String,
    copy: &Copy,
) -> Result<String, Error> {
    tx.execute(
        "update share_tokens set receipt = $1, copy_data = $2 where id = $3",
        args![
            jws.as_str(),
            serde_json::to_string(&copy.data()).unwrap_or_default(),
            &token.id
        ],
    )
    .await?;
    Ok(jws)
}

/// The receipt of token `id`, for either side: 409 `receipt_not_available` until the token is
/// redeemed (and for tokens redeemed before receipts existed).
pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &ShareTokenId) -> Result<Receipt, Error> {
    let token = share_tokens::get(tx, scope, id).await?;
    let Some(jws) = token.receipt.clone() else {
        return Err(Error::conflict(
            codes::RECEIPT_NOT_AVAILABLE,
            "a share token has a receipt once it is redeemed",
        ));
    };
    let claims = receipt::claims_of(&jws)
        .map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    // The copied data is the destination's record: the source, which has (or redacted) its own,
    // is shown the receipt without it.
    let data = if token.is_destination(scope) {
        tx.fetch_one(
            "select copy_data from share_tokens where id = $1",
            args![id],
        )
        .await?
        .opt_json("copy_data")?
    } else {
        None
    };
    Ok(Receipt {
        token,
        jws,
        claims,
        data,
    })
}
