//! A share token's redemption as the token records it: the one compare-and-set `created →
//! pending` that starts it (with the job that makes the copy, `ops::redemption`), and its end,
//! `redeemed` or `failed`, each with its pair of events.

use tessera_core::connection::ConnectionStatus;
use tessera_core::event::names;
use tessera_core::federation::{Body, ShareTokenRedeem};
use tessera_core::id::{InquiryId, ShareTokenId, VerificationId};
use tessera_core::job::{Job, RedeemShareToken};
use tessera_core::share_token::{RedeemMode, RedeemParams, ShareToken, ShareTokenStatus};
use tessera_core::tenancy::Scope;
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::share_tokens::{emit_pair, get};
use crate::ops::{connections, inquiries, jobs, peer_messages, templates};
use crate::tx::{Tx, json};

/// Starts a redemption: the one compare-and-set `created → pending` that decides the winner,
/// plus the job that makes the copy. The token records its `redeem-mode` and, for a hydrate,
/// its destination at once. Refusals: 403 for the source side, 409 `share_token_expired`,
/// `share_token_not_redeemable` or `connection_not_active`; a template or destination inquiry
/// the caller cannot see is 404; a hydrate of a verification source is 422.
pub(crate) async fn redeem(
    tx: &mut Tx,
    scope: &Scope,
    id: &ShareTokenId,
    params: RedeemParams,
) -> Result<ShareToken, Error> {
    let t = get(tx, scope, id).await?;
    if !t.is_destination(scope) {
        return Err(Error::forbidden(
            codes::WRONG_SIDE,
            "only the destination organization can redeem a share token",
        ));
    }
    if let Some(template) = &params.inquiry_template_id {
        templates::get(tx, scope, template)
            .await
            .map_err(|e| e.at("inquiry-template-id"))?;
    }
    t.disclosure
        .check_mappings(&params.field_mappings, "/meta/field-mappings")?;
    if let Some(destination) = &params.destination_id {
        if t.source_verification.is_some() {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "a shared verification can only be cloned: leave out destination-id",
            )
            .at("destination-id"));
        }
        inquiries::get(tx, scope, destination)
            .await
            .map_err(|e| e.at("destination-id"))?;
    }
    let mode = if params.destination_id.is_some() {
        RedeemMode::Hydrate
    } else {
        RedeemMode::Clone
    };
    let now = tx.now();
    t.check_redeemable(now)?;
    let c = connections::get_unscoped(tx, &t.connection_id).await?;
    if c.status != ConnectionStatus::Active {
        return Err(Error::conflict(
            codes::CONNECTION_NOT_ACTIVE,
            "the connection is not active",
        ));
    }
    let won = tx
        .execute(
            "update share_tokens set status = 'pending', pending_at = $1, updated_at = $1, redeem_params = $2,
                 redeem_mode = $3, destination_inquiry_id = $4
             where id = $5 and status = 'created' and expires_at > $1",
            args![
                now,
                json(&params),
                mode.as_str(),
                params.destination_id.as_ref(),
                id
            ],
        )
        .await?;
    if won != 1 {
        return Err(Error::conflict(
            codes::SHARE_TOKEN_NOT_REDEEMABLE,
            "the share token is being redeemed by another request",
        ));
    }
    // A token of a peer's organization is redeemed by its source instance, the only authority
    // on it: the request goes out through the outbox, and its answer lands the copy
    // (`federated_redemption`).
    // (The caller is the destination: a connection with a peer's side has its source there.)
    if let Some(home) = c.peer_instance.clone() {
        let redeem = ShareTokenRedeem {
            share_token_id: id.clone(),
            destination_organization_id: t.destination_org.clone(),
            redeem_mode: mode,
            field_mappings: params.field_mappings.clone(),
        };
        peer_messages::send(tx, &home, Body::ShareTokenRedeem(redeem)).await?;
    } else {
        // A redemption a workflow started carries the run's cause, so the events of the copy
        // count as that run's (see `workflow_triggers`).
        let job = Job::from(RedeemShareToken {
            share_token_id: id.clone(),
            cause: tx.cause().cloned(),
        });
        jobs::enqueue(tx, &job, now).await?;
    }
    Ok(ShareToken {
        status: ShareTokenStatus::Pending,
        pending_at: Some(now),
        updated_at: now,
        redeem_mode: Some(mode),
        destination_inquiry_id: params.destination_id.clone(),
        redeem_params: Some(params),
        ..t
    })
}

/// Records the outcome of a failed redemption and its events.
pub(crate) async fn fail(tx: &mut Tx, t: ShareToken, reason: &str) -> Result<ShareToken, Error> {
    let now = tx.now();
    tx.execute(
        "update share_tokens set status = 'failed', failed_at = $1, failure_reason = $2, updated_at = $1 where id = $3 and status = 'pending'",
        args![now, reason, &t.id],
    )
    .await?;
    let t = ShareToken {
        status: ShareTokenStatus::Failed,
        failed_at: Some(now),
        failure_reason: Some(reason.to_owned()),
        updated_at: now,
        ..t
    };
    emit_pair(
        tx,
        &t,
        names::SHARE_TOKEN_OUTBOUND_FAILED,
        names::SHARE_TOKEN_INBOUND_FAILED,
    )
    .await?;
    Ok(t)
}

/// Records a finished redemption: the destination inquiry and, for a verification source, the
/// copied verification.
pub(crate) async fn mark_redeemed(
    tx: &mut Tx,
    t: ShareToken,
    destination: Option<&InquiryId>,
    destination_verification: Option<&VerificationId>,
    digest: &str,
) -> Result<ShareToken, Error> {
    let now = tx.now();
    let matched = t
        .redeem_params
        .as_ref()
        .and_then(|p| p.manifest_digest.as_deref())
        .map(|m| m == digest);
    tx.execute(
        "update share_tokens set status = 'redeemed', redeemed_at = $1, updated_at = $1, destination_inquiry_id = $2, destination_verification_id = $3, copy_digest = $4, manifest_matched = $5 where id = $6 and status = 'pending'",
        args![
            now,
            destination,
            destination_verification,
            digest,
            matched.map(i64::from),
            &t.id
        ],
    )
    .await?;
    let t = ShareToken {
        status: ShareTokenStatus::Redeemed,
        redeemed_at: Some(now),
        updated_at: now,
        destination_inquiry_id: destination.cloned(),
        destination_verification_id: destination_verification.cloned(),
        copy_digest: Some(digest.to_owned()),
        manifest_matched: matched,
        ..t
    };
    emit_pair(
        tx,
        &t,
        names::SHARE_TOKEN_OUTBOUND_REDEEMED,
        names::SHARE_TOKEN_INBOUND_REDEEMED,
    )
    .await?;
    Ok(t)
}
