//! A claimed job whose run failed: released to run again, or — out of attempts — given up as
//! its kind says and buried. Above the queue (`jobs`) and the work each kind of job does, whose
//! own "give up" it calls.

use tessera_core::Error;
use tessera_core::federation::Body;
use tessera_core::job::Job;
use tessera_core::retry::RetryPolicy;

use crate::ops::jobs::{self, Claimed};
use crate::ops::{redemption, share_token_batches, webhook_deliveries, workflow_advance};
use crate::tx::Tx;

/// Records a failed run of a claimed job: released to run again on `policy` (after
/// `job.attempts` attempts, from now, with `jitter`), or — out of attempts — given up per its
/// kind (the token's redemption fails, acting for the run that started it; the workflow run
/// fails; the delivery fails; a batch's unprocessed items fail) and buried with `message`.
pub(crate) async fn fail(
    tx: &mut Tx,
    job: &Claimed,
    policy: RetryPolicy,
    jitter: f64,
    message: &str,
) -> Result<(), Error> {
    let attempts = u32::try_from(job.attempts.max(0)).unwrap_or(u32::MAX);
    if let Some(at) = policy.next_retry_at(tx.now(), attempts, jitter, None) {
        return jobs::retry(tx, &job.id, at, message).await;
    }
    match &job.job {
        Ok(Job::RedeemShareToken(p)) => {
            tx.set_cause(p.cause.clone());
            redemption::give_up(tx, &p.share_token_id).await?;
        }
        Ok(Job::RunWorkflow(p)) => workflow_advance::give_up(tx, &p.workflow_run_id).await?,
        Ok(Job::DeliverWebhook(p)) => webhook_deliveries::give_up(tx, &p.delivery_id).await?,
        // A notice has nothing to give up: the copy stays as it was, the buried row says why.
        Ok(Job::NotifySourceChange(_)) => {}
        Ok(Job::ProcessShareTokenBatch(p)) => {
            share_token_batches::give_up(tx, &p.share_token_batch_id).await?;
        }
        // A redemption the destination asked a peer for is never given up: the source may have
        // redeemed already, and only its answer can say so. It is asked again at the policy's
        // longest delay until it answers (the token stays `pending` meanwhile).
        Ok(Job::SendPeerMessage(p)) if matches!(p.message.body, Body::ShareTokenRedeem(_)) => {
            let at = tx
                .now()
                .plus_millis(policy.base_delay(policy.max_attempts).as_millis() as i64);
            return jobs::retry(tx, &job.id, at, message).await;
        }
        // Any other message out of attempts is buried: the buried job says why; the peer's
        // health shows the failures.
        Ok(Job::SendPeerMessage(_)) => {}
        Err(_) => {}
    }
    jobs::bury(tx, &job.id, message).await
}
