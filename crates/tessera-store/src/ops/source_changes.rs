//! The source side of notices after redemption: when the source organization redacts what it
//! shared or deactivates a connection, the unit of work that does it writes one
//! `notify_source_change` job per token whose destination has (or is about to have) a copy — the
//! outbox, committed with the change or not at all. The job itself is `ops::source_notices`.
//!
//! Tokens are picked while `pending` or `redeemed`: a `pending` token's copy is made after this
//! change (by the notice itself if its redemption job has not run, see `source_notices`). The rows
//! are locked, so on PostgreSQL a redemption committing concurrently is either seen `redeemed`
//! here or sees this change when it copies.

use tessera_core::Error;
use tessera_core::document::DocumentKind;
use tessera_core::id::{ConnectionId, EnvironmentId, InquiryId, ShareTokenId, VerificationId};
use tessera_core::job::{Job, NotifySourceChange};
use tessera_core::share_token::Disclosure;
use tessera_core::source_status::SourceChange;
use tessera_core::verification::VerificationKind;

use crate::args;
use crate::ops::{jobs, lock};
use crate::sql::Arg;
use crate::tx::Tx;

/// What the source changed, and so which of its tokens are affected.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Changed<'a> {
    /// The inquiry was redacted: every token of it, whole or of one of its verifications.
    Inquiry(&'a InquiryId),
    /// One verification of the inquiry was redacted: the tokens of the whole inquiry that
    /// disclose its type, and those of that verification.
    Verification(&'a InquiryId, &'a VerificationId, VerificationKind),
    /// One document of the inquiry was redacted: the tokens of the whole inquiry that disclose
    /// its kind (a token of one verification shares no documents).
    Document(&'a InquiryId, DocumentKind),
    /// The connection was deactivated by its source: every token on it.
    Connection(&'a ConnectionId),
}

/// Writes a `notify_source_change` job for every `pending` or `redeemed` token of the source
/// environment `env` that `changed` affects (and that shared what changed, by its disclosure);
/// returns how many.
pub(crate) async fn notify(
    tx: &mut Tx,
    env: &EnvironmentId,
    changed: Changed<'_>,
    change: SourceChange,
) -> Result<usize, Error> {
    let (condition, mut args): (&str, Vec<Arg>) = match changed {
        Changed::Inquiry(i) => ("source_inquiry_id = $2", args![i]),
        Changed::Verification(i, v, _) => (
            "source_inquiry_id = $2 and (source_verification_id is null or source_verification_id = $3)",
            args![i, v],
        ),
        Changed::Document(i, _) => (
            "source_inquiry_id = $2 and source_verification_id is null",
            args![i],
        ),
        Changed::Connection(c) => ("connection_id = $2", args![c]),
    };
    args.insert(0, env.into());
    let rows = tx
        .fetch_all(
            &format!(
                "select id, disclosure from share_tokens where source_env = $1 and {condition}
                 and status in ('pending', 'redeemed') order by seq{}",
                lock(tx)
            ),
            args,
        )
        .await?;
    let now = tx.now();
    let cause = tx.cause().cloned();
    let mut told = 0;
    for r in &rows {
        // A token that did not disclose what was redacted never copied it: nothing to tell.
        let disclosure: Disclosure = r.opt_json("disclosure")?.unwrap_or_default();
        let shared = match changed {
            Changed::Verification(_, _, kind) => disclosure.allows_verification(kind),
            Changed::Document(_, kind) => disclosure.allows_document(kind),
            Changed::Inquiry(_) | Changed::Connection(_) => true,
        };
        if !shared {
            continue;
        }
        told += 1;
        let job = Job::from(NotifySourceChange {
            share_token_id: ShareTokenId::from_db(r.text("id")?),
            change,
            changed_at: now,
            cause: cause.clone(),
        });
        jobs::enqueue(tx, &job, now).await?;
    }
    Ok(told)
}
