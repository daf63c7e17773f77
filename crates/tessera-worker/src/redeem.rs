//! The redemption job: the copy, the verification and the token's final status in one unit of
//! work, together with the job's completion ([`redemption::redeem`]).

use tessera_core::Error;
use tessera_core::id::JobId;
use tessera_core::job::RedeemShareToken;
use tessera_store::units::redemption::{self, Outcome};

use super::{Faults, Worker};

/// Runs a redemption. The workflow run that started it, if one did, is its cause: the copy's
/// events count as that run's (depth, chain, not its own workflow).
pub(super) async fn run(worker: &Worker, job: &JobId, p: &RedeemShareToken) -> Result<(), Error> {
    let faults = worker.faults.clone();
    let unit = redemption::redeem(job.clone(), p.clone()).check(move |outcome| {
        if matches!(outcome, Outcome::Redeemed(_))
            && Faults::take(&faults.fail_redemptions_after_copy)
        {
            return Err(Error::internal(std::io::Error::other(
                "injected fault: the worker died after staging the copy",
            )));
        }
        Ok(())
    });
    match worker.store.write(unit).await? {
        Outcome::Redeemed(t) => tracing::info!(share_token.id = %t.id, "share token redeemed"),
        Outcome::Failed(t) => {
            tracing::info!(share_token.id = %t.id, reason = t.failure_reason.as_deref().unwrap_or(""), "share token redemption failed");
        }
        Outcome::Nothing => {}
    }
    Ok(())
}
