//! The destination side of notices after redemption: the `notify_source_change` job's unit.
//! It marks the copy a token made (`source-status` `current` → `redacted` | `revoked`, with the
//! time the source changed), emits `inquiry.source-redacted` on the copy or
//! `connect/share-token.source-revoked` on the token to the destination, and — when the
//! destination's template says `on-source-redaction: redact` — redacts the copy, all with the
//! job's completion. A copy that already knows (the same notice again, a job run twice) changes
//! nothing and emits nothing.
//!
//! A token still `pending` when the source changed has its copy made first, here, by the
//! redemption op (its own job then finds the token redeemed and does nothing): whichever of the
//! two jobs runs first, the copy is made once and told once, and nothing waits on the other.

use tessera_core::connection::Direction;
use tessera_core::event::names;
use tessera_core::federation::{Body, ShareTokenSourceChanged};
use tessera_core::id::{InquiryId, JobId};
use tessera_core::job::NotifySourceChange;
use tessera_core::share_token::ShareTokenStatus;
use tessera_core::source_status::{OnSourceRedaction, SourceChange, SourceStatus};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::{
    fanout, inquiries, inquiry_redaction, jobs, peer_messages, redemption, share_tokens, templates,
};
use crate::tx::Tx;

/// What a notice job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The copy was marked with `status` and the event emitted; `redacted` when the
    /// destination's policy redacted the copy too.
    Marked {
        copy: InquiryId,
        status: SourceStatus,
        redacted: bool,
    },
    /// The copy already knew this (or more): nothing changed, nothing was emitted.
    Unchanged,
    /// There is no copy to tell: the token was never redeemed or its redemption failed, or the
    /// token or copy is gone.
    NoCopy,
    /// The copy is on a peer instance: the notice was sent there (`share-token.source-changed`).
    Forwarded,
}

/// The job `job`: tells the destination of the token named in `p`, and completes the job with it.
pub(crate) async fn notify(
    tx: &mut Tx,
    job: &JobId,
    p: &NotifySourceChange,
) -> Result<Notice, Error> {
    let notice = tell(tx, p).await?;
    jobs::complete(tx, job).await?;
    Ok(notice)
}

/// Tells the copy of the token named in `p`: here, or on the peer instance its destination
/// lives on (a message, in this unit). On the destination's instance of a token from a peer, a
/// token still `pending` cannot be told yet (its copy waits for the source's answer): 409, and
/// the source's message is sent again later.
pub(crate) async fn tell(tx: &mut Tx, p: &NotifySourceChange) -> Result<Notice, Error> {
    let mut token = match share_tokens::get_unscoped_for_update(tx, &p.share_token_id).await {
        Ok(t) => t,
        Err(e) if e.is(codes::NOT_FOUND) => return Ok(Notice::NoCopy),
        Err(e) => return Err(e),
    };
    if let Some(home) = peer_messages::home_of(tx, &token.destination_org).await? {
        if token.status != ShareTokenStatus::Redeemed {
            return Ok(Notice::NoCopy);
        }
        let changed = ShareTokenSourceChanged {
            share_token_id: token.id.clone(),
            change: p.change,
            changed_at: p.changed_at,
        };
        peer_messages::send(tx, &home, Body::ShareTokenSourceChanged(changed)).await?;
        return Ok(Notice::Forwarded);
    }
    if token.status == ShareTokenStatus::Pending
        && peer_messages::home_of(tx, &token.source_org)
            .await?
            .is_some()
    {
        return Err(Error::conflict(
            codes::SHARE_TOKEN_NOT_REDEEMABLE,
            "the copy of this token is still being made: tell it again once it is",
        ));
    }
    if token.status == ShareTokenStatus::Pending {
        // The copy is being made: make it now (after the change, it sees it), then tell it.
        match redemption::run(tx, &token.id).await? {
            redemption::Outcome::Redeemed(t) => token = t,
            _ => return Ok(Notice::NoCopy),
        }
    }
    if token.status != ShareTokenStatus::Redeemed {
        return Ok(Notice::NoCopy);
    }
    let Some(copy_id) = token.destination_inquiry_id.clone() else {
        return Ok(Notice::NoCopy);
    };
    let scope = token.destination_scope();
    let mut copy = match inquiries::get_for_update(tx, &scope, &copy_id).await {
        Ok(c) => c,
        Err(e) if e.is(codes::NOT_FOUND) => return Ok(Notice::NoCopy),
        Err(e) => return Err(e),
    };
    let from = copy.source_status.unwrap_or(SourceStatus::Current);
    let Some(to) = from.after(p.change) else {
        return Ok(Notice::Unchanged);
    };
    tx.execute(
        "update inquiries set source_status = $1, source_status_changed_at = $2 where id = $3 and environment_id = $4",
        args![to.as_str(), p.changed_at, &copy.id, &scope.env],
    )
    .await?;
    copy.source_status = Some(to);
    copy.source_status_changed_at = Some(p.changed_at);
    let mut redacted = false;
    match p.change {
        SourceChange::Redacted => {
            inquiries::emit(tx, &scope, names::INQUIRY_SOURCE_REDACTED, &copy).await?;
            // The template the copy was checked against is the destination's policy for it.
            let template = token
                .redeem_params
                .as_ref()
                .and_then(|r| r.inquiry_template_id.clone())
                .or_else(|| copy.template_id.clone());
            let policy = match template {
                Some(t) => match templates::get(tx, &scope, &t).await {
                    Ok(t) => t.on_source_redaction,
                    Err(e) if e.is(codes::NOT_FOUND) => OnSourceRedaction::Keep,
                    Err(e) => return Err(e),
                },
                None => OnSourceRedaction::Keep,
            };
            if policy == OnSourceRedaction::Redact && copy.redacted_at.is_none() {
                inquiry_redaction::redact(tx, &scope, &copy.id).await?;
                redacted = true;
            }
        }
        SourceChange::Revoked => {
            let now = tx.now();
            let data = token.to_resource(Direction::Inbound, now, None).to_value();
            fanout::emit(tx, &scope.env, names::SHARE_TOKEN_SOURCE_REVOKED, data).await?;
        }
    }
    Ok(Notice::Marked {
        copy: copy.id,
        status: to,
        redacted,
    })
}
