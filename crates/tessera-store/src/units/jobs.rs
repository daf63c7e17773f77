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
