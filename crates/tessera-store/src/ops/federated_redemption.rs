//! A redemption across two instances (issue #17, item 5). The source's instance is the only
//! authority on its token: the destination's instance marks its copy of the token `pending` and
//! writes a `share-token.redeem` message to the outbox (`share_token_redemption::redeem`); the
//! source serves it ([`serve`]) in one unit — the compare-and-set `created → redeemed`, the plan of
//! the copy, the signed receipt — and the answer is kept in the source's inbox under the message
//! id, so the destination asking again (after a crash, a timeout) gets the same answer and nothing
//! is redeemed twice. The destination lands the answer ([`land`]) in one unit with the message's
//! job: the receipt checked against the peer's trusted keys, the copy against the receipt's
//! digest, then written as a local redemption writes it.

use tessera_core::connection::ConnectionStatus;
use tessera_core::federation::{Peeked, Redeemed, ShareTokenPeek, ShareTokenRedeem, WireCopy};
use tessera_core::id::{JobId, OrganizationId, ShareTokenId};
use tessera_core::receipt;
use tessera_core::share_token::{
    RedeemParams, ShareToken, ShareTokenStatus, check_field_mappings, failure,
};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::redemption::{self, Outcome};
use crate::ops::{
    connections, jobs, manifest, peer_messages, peers, receipts, share_token_redemption,
    share_tokens, source_data,
};
use crate::tx::{Tx, json};

fn refused(detail: impl Into<String>) -> Error {
    Error::forbidden(codes::MESSAGE_REFUSED, detail)
}

/// The token `id` of this instance, for its destination `destination`, an organization of peer
/// `from`; 404 for any other (a peer learns nothing of tokens that are not its own).
async fn token_for(
    tx: &mut Tx,
    from: &str,
    id: &ShareTokenId,
    destination: &OrganizationId,
) -> Result<ShareToken, Error> {
    let t = share_tokens::get_unscoped_for_update(tx, id).await?;
    let home = peer_messages::home_of(tx, &t.destination_org).await?;
    if t.destination_org != *destination || home.as_deref() != Some(from) {
        return Err(Error::not_found("share token"));
    }
    Ok(t)
}

/// Serves a redemption peer `from` asked for: the source's decision, final.
pub(crate) async fn serve(tx: &mut Tx, from: &str, r: ShareTokenRedeem) -> Result<Redeemed, Error> {
    let token = token_for(tx, from, &r.share_token_id, &r.destination_organization_id).await?;
    let mappings = check_field_mappings(r.field_mappings, "field-mappings")?;
    token
        .disclosure
        .check_mappings(&mappings, "field-mappings")?;
    let now = tx.now();
    let failed = |reason: &str| Redeemed::Failed {
        reason: reason.to_owned(),
    };
    if token.check_redeemable(now).is_err() {
        return Ok(failed(codes::SHARE_TOKEN_NOT_REDEEMABLE));
    }
    if connections::get_unscoped(tx, &token.connection_id)
        .await?
        .status
        != ConnectionStatus::Active
    {
        return Ok(failed(codes::CONNECTION_NOT_ACTIVE));
    }
    let params = RedeemParams {
        field_mappings: mappings,
        ..RedeemParams::default()
    };
    let won = tx
        .execute(
            "update share_tokens set status = 'pending', pending_at = $1, updated_at = $1, redeem_params = $2, redeem_mode = $3
             where id = $4 and status = 'created' and expires_at > $1",
            args![now, json(&params), r.redeem_mode.as_str(), &token.id],
        )
        .await?;
    if won != 1 {
        return Ok(failed(codes::SHARE_TOKEN_NOT_REDEEMABLE));
    }
    let token = ShareToken {
        status: ShareTokenStatus::Pending,
        pending_at: Some(now),
        redeem_mode: Some(r.redeem_mode),
        redeem_params: Some(params),
        ..token
    };
    match redemption::source_copy(tx, &token).await? {
        Err(reason) => {
            share_token_redemption::fail(tx, token, reason).await?;
            Ok(failed(reason))
        }
        Ok((copy, bytes)) => {
            let digest = copy.digest();
            let redeemed =
                share_token_redemption::mark_redeemed(tx, token, None, None, &digest).await?;
            let receipt = receipts::issue(tx, &redeemed, &copy).await?;
            Ok(Redeemed::Redeemed {
                copy: WireCopy::of(&copy, &bytes),
                receipt,
                redeemed_at: redeemed.redeemed_at.unwrap_or(now),
            })
        }
    }
}

/// What a token would copy now, for its destination on peer `from` looking before it redeems:
/// the masked peek and the manifest of a clone judged by the destination's template.
pub(crate) async fn peek(tx: &mut Tx, from: &str, p: ShareTokenPeek) -> Result<Peeked, Error> {
    let token = token_for(tx, from, &p.share_token_id, &p.destination_organization_id).await?;
    token.check_redeemable(tx.now())?;
    let mappings = check_field_mappings(p.field_mappings, "field-mappings")?;
    token
        .disclosure
        .check_mappings(&mappings, "field-mappings")?;
    let source_data = source_data::document(tx, &token).await?;
    let manifest = match manifest::of_clone(tx, &token, p.template.as_ref(), &mappings).await {
        Ok(m) => Some(m),
        Err(e) if e.is(codes::SOURCE_REDACTED) => None,
        Err(e) => return Err(e),
    };
    Ok(Peeked {
        source_data,
        manifest,
    })
}

/// Failure codes a source may answer with, as this instance records them; anything else is
/// recorded as `redemption_error`.
const KNOWN_FAILURES: &[&str] = &[
    failure::SOURCE_NOT_FOUND,
    failure::SOURCE_REDACTED,
    codes::SHARE_TOKEN_NOT_REDEEMABLE,
    codes::CONNECTION_NOT_ACTIVE,
];

/// Lands the answer of peer `from` to the redemption of token `token_id` this instance asked
/// for, completing job `job` in the same unit. A token no longer `pending` (an earlier run landed
/// it) is left as it is.
pub(crate) async fn land(
    tx: &mut Tx,
    job: &JobId,
    from: &str,
    token_id: &ShareTokenId,
    answer: Redeemed,
) -> Result<Outcome, Error> {
    let token = match share_tokens::get_unscoped_for_update(tx, token_id).await {
        Ok(t) if t.status == ShareTokenStatus::Pending => t,
        Ok(_) => {
            jobs::complete(tx, job).await?;
            return Ok(Outcome::Nothing);
        }
        Err(e) if e.is(codes::NOT_FOUND) => {
            jobs::complete(tx, job).await?;
            return Ok(Outcome::Nothing);
        }
        Err(e) => return Err(e),
    };
    let outcome = match answer {
        Redeemed::Failed { reason } => {
            let reason = KNOWN_FAILURES
                .iter()
                .find(|k| **k == reason)
                .copied()
                .unwrap_or(failure::REDEMPTION_ERROR);
            Outcome::Failed(share_token_redemption::fail(tx, token, reason).await?)
        }
        Redeemed::Redeemed { copy, receipt, .. } => {
            let jwks = peers::trusted_jwks(tx, from).await?;
            let claims = receipt::verify(&receipt, &jwks)
                .map_err(|e| refused(format!("the source's receipt does not verify: {e}")))?;
            if claims.iss != from
                || claims.sub != token.id.as_str()
                || claims.destination_organization != token.destination_org.as_str()
            {
                return Err(refused("the source's receipt is for another redemption"));
            }
            let (copy, bytes) = copy.into_copy(&token.source_inquiry_id, tx.now())?;
            if copy.digest() != claims.data_digest {
                return Err(refused(
                    "the copy is not the data the source's receipt describes",
                ));
            }
            redemption::land(tx, token, &copy, bytes, Some(receipt)).await?
        }
    };
    jobs::complete(tx, job).await?;
    Ok(outcome)
}
