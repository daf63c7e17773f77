//! The redemption job: the copy, the verification and the token's final status in one unit of
//! work, together with the job's completion.

use tessera_core::Error;
use tessera_core::id::JobId;
use tessera_core::job::RedeemShareToken;
use tessera_store::Tx;
use tessera_store::ops::jobs;
use tessera_store::ops::redemption::{self, Outcome};

use super::{Faults, Worker};

/// Runs a redemption. The workflow run that started it, if one did, is its cause: the copy's
/// events count as that run's (depth, chain, not its own workflow).
pub(super) async fn run(worker: &Worker, job: &JobId, p: &RedeemShareToken) -> Result<(), Error> {
    let id = p.share_token_id.clone();
    let cause = p.cause.clone();
    let job_id = job.clone();
    let faults = worker.faults.clone();
    let outcome = worker
        .store
        .write_tx(move |tx| {
            Box::pin(async move {
                tx.set_cause(cause);
                let outcome = redemption::run(tx, &id).await?;
                if matches!(outcome, Outcome::Redeemed(_))
                    && Faults::take(&faults.fail_redemptions_after_copy)
                {
                    return Err(Error::internal(std::io::Error::other(
                        "injected fault: the worker died after staging the copy",
                    )));
                }
                jobs::complete(tx, &job_id).await?;
                Ok(outcome)
            })
        })
        .await?;
    match outcome {
        Outcome::Redeemed(t) => tracing::info!(share_token.id = %t.id, "share token redeemed"),
        Outcome::Failed(t) => {
            tracing::info!(share_token.id = %t.id, reason = t.failure_reason.as_deref().unwrap_or(""), "share token redemption failed");
        }
        Outcome::Nothing => {}
    }
    Ok(())
}

pub(super) async fn give_up(tx: &mut Tx, p: &RedeemShareToken) -> Result<(), Error> {
    tx.set_cause(p.cause.clone());
    redemption::give_up(tx, &p.share_token_id).await
}
