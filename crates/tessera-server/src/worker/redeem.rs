//! The redemption job: the copy, the verification and the token's final status in one unit of
//! work, together with the job's completion.

use serde_json::Value;
use tessera_core::Error;
use tessera_core::id::ShareTokenId;
use tessera_core::workflow::Cause;
use tessera_store::Tx;
use tessera_store::ops::jobs::{self, Job};
use tessera_store::ops::redemption::{self, Outcome};

use super::{Faults, Worker};

fn token_id(payload: &Value) -> Result<ShareTokenId, Error> {
    payload
        .get("share-token-id")
        .and_then(Value::as_str)
        .and_then(|s| ShareTokenId::parse(s).ok())
        .ok_or_else(|| {
            Error::internal(std::io::Error::other(
                "redemption job without a share token id",
            ))
        })
}

/// The workflow run that started the redemption, if one did: the copy's events count as that
/// run's (depth, chain, not its own workflow).
fn cause(payload: &Value) -> Option<Cause> {
    payload
        .get("cause")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
}

pub(super) async fn run(worker: &Worker, job: &Job) -> Result<(), Error> {
    let id = token_id(&job.payload)?;
    let cause = cause(&job.payload);
    let job_id = job.id.clone();
    let faults = worker.faults.clone();
    let outcome = worker
        .store
        .write(move |tx| {
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

pub(super) async fn give_up(tx: &mut Tx, payload: &Value) -> Result<(), Error> {
    tx.set_cause(cause(payload));
    redemption::give_up(tx, &token_id(payload)?).await
}
