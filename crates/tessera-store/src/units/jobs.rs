//! Units of work on jobs: each runs the op of the same name in `crate::ops::jobs` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::jobs::*;

use crate::ops::jobs as op;
use tessera_core::Timestamp;
use tessera_core::id::JobId;
use tessera_core::job::Job;

crate::work::units! { op;
    Write enqueue(job: Job, run_at: Timestamp) -> JobId = enqueue(&job, run_at);
    Write claim(worker: String, lease_ms: i64, limit: i64) -> Vec<Claimed> = claim(&worker, lease_ms, limit);
    Write complete(id: JobId) -> () = complete(&id);
    Write retry(id: JobId, run_at: Timestamp, error: String) -> () = retry(&id, run_at, &error);
    Write reschedule(id: JobId, run_at: Timestamp) -> () = reschedule(&id, run_at);
    Write extend_lease(id: JobId, until: Timestamp) -> () = extend_lease(&id, until);
    Write bury(id: JobId, error: String) -> () = bury(&id, &error);
    Read counts() -> Counts = counts();
}

/// Records that a claimed job's run failed with `message`: the job runs again when `policy`
/// (with `jitter`, from now) allows another attempt; after its last attempt it is given up per
/// its kind (a redemption fails its token, acting for the run that started it; a workflow run
/// fails at its step; a delivery fails) and buried, for people to look at.
pub fn fail(
    job: Claimed,
    policy: tessera_core::retry::RetryPolicy,
    jitter: f64,
    message: String,
) -> crate::Write<()> {
    crate::Write::new(move |tx| {
        Box::pin(
            async move { crate::ops::job_failures::fail(tx, &job, policy, jitter, &message).await },
        )
    })
}

/// Puts a job that waits for something (not a failure) back, due again `delay_ms` from now.
pub fn reschedule_after(id: JobId, delay_ms: i64) -> crate::Write<()> {
    crate::Write::new(move |tx| {
        Box::pin(async move { op::reschedule_after(tx, &id, delay_ms).await })
    })
}
