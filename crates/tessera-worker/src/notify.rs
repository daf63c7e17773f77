//! The notice job: tells the destination of a redeemed token that its source changed — the copy
//! marked, the event emitted, the destination's policy applied — in one unit of work with the
//! job's completion ([`source_notices::notify`]). A failure is retried on the internal policy.

use tessera_core::Error;
use tessera_core::id::JobId;
use tessera_core::job::NotifySourceChange;
use tessera_store::units::source_notices::{self, Notice};

use super::{Faults, Worker};

pub(super) async fn run(worker: &Worker, job: &JobId, p: &NotifySourceChange) -> Result<(), Error> {
    let faults = worker.faults.clone();
    let unit = source_notices::notify(job.clone(), p.clone()).check(move |notice| {
        if matches!(notice, Notice::Marked { .. }) && Faults::take(&faults.fail_source_notices) {
            return Err(Error::internal(std::io::Error::other(
                "injected fault: the worker died after staging the notice",
            )));
        }
        Ok(())
    });
    if let Notice::Marked { copy, status, .. } = worker.store.write(unit).await? {
        tracing::info!(share_token.id = %p.share_token_id, inquiry.id = %copy, source_status = status.as_str(), "destination told of a source change");
    }
    Ok(())
}
