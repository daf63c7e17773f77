//! The job queue (outbox). Rows are written by the unit of work that causes them; a worker claims
//! due rows with a lease and the unit of work that does a job deletes its row, so a job's effect
//! and its completion commit together. A row whose worker died is claimed again after its lease.

use serde_json::Value;
use tessera_core::id::JobId;
use tessera_core::job::{BadJob, Job};
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::tx::{Row, Tx};

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: JobId,
    /// The kind as stored (a metrics label even when the job cannot be read).
    pub kind: String,
    /// The job, or why its row cannot be read (the worker fails such a row, and buries it after
    /// the internal retry policy's attempts).
    pub job: Result<Job, BadJob>,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Adds a job due at `run_at` and wakes the worker when the unit commits.
pub(crate) async fn enqueue(tx: &mut Tx, job: &Job, run_at: Timestamp) -> Result<JobId, Error> {
    let id = JobId::generate();
    let now = tx.now();
    tx.execute(
        "insert into jobs (id, kind, payload, run_at, created_at) values ($1, $2, $3, $4, $5)",
        args![&id, job.kind(), job.payload().to_string(), run_at, now],
    )
    .await?;
    tx.wake_jobs().await?;
    Ok(id)
}

fn from_row(r: &Row) -> Result<Claimed, Error> {
    let kind = r.text("kind")?;
    // A row that cannot be read is one bad job, not a failed claim of every job with it.
    let job = serde_json::from_str::<Value>(&r.text("payload")?)
        .map_err(|e| BadJob::NotJson(e.to_string()))
        .and_then(|payload| Job::parse(&kind, payload));
    Ok(Claimed {
        id: JobId::from_db(r.text("id")?),
        job,
        kind,
        attempts: r.i64("attempts")?,
    })
}

/// Claims up to `limit` due jobs for `worker` until `now + lease_ms`.
pub(crate) async fn claim(
    tx: &mut Tx,
    worker: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>, Error> {
    let now = tx.now();
    let skip_locked = match tx.dialect() {
        crate::Dialect::Postgres => " for update skip locked",
        crate::Dialect::Sqlite => "",
    };
    let rows = tx
        .fetch_all(
            &format!(
                "update jobs set locked_until = $1, locked_by = $2, attempts = attempts + 1
                 where id in (select id from jobs where run_at <= $3 and dead_at is null
                              and (locked_until is null or locked_until <= $3)
                              order by run_at limit $4{skip_locked})
                 returning id, kind, payload, attempts"
            ),
            args![now.plus_millis(lease_ms), worker, now, limit],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// Deletes a finished job (in the unit of work that did it).
pub(crate) async fn complete(tx: &mut Tx, id: &JobId) -> Result<(), Error> {
    tx.execute("delete from jobs where id = $1", args![id])
        .await?;
    Ok(())
}

/// Releases a failed job to run again at `run_at`.
pub(crate) async fn retry(
    tx: &mut Tx,
    id: &JobId,
    run_at: Timestamp,
    error: &str,
) -> Result<(), Error> {
    tx.execute(
        "update jobs set run_at = $1, locked_until = null, locked_by = null, last_error = $2 where id = $3",
        args![run_at, error, id],
    )
    .await?;
    Ok(())
}

/// Pauses a job that is not failing (it waits for something, e.g. the next attempt of an HTTP
/// step) until `run_at`: releases its lease and starts its failure count afresh.
pub(crate) async fn reschedule(tx: &mut Tx, id: &JobId, run_at: Timestamp) -> Result<(), Error> {
    tx.execute(
        "update jobs set run_at = $1, locked_until = null, locked_by = null, attempts = 0 where id = $2",
        args![run_at, id],
    )
    .await?;
    Ok(())
}

/// Keeps a long job's lease: it stays ours until `until`.
pub(crate) async fn extend_lease(tx: &mut Tx, id: &JobId, until: Timestamp) -> Result<(), Error> {
    tx.execute(
        "update jobs set locked_until = $1 where id = $2 and locked_until is not null",
        args![until, id],
    )
    .await?;
    Ok(())
}

/// Gives up on a job: it stays, marked dead, for people to look at.
pub(crate) async fn bury(tx: &mut Tx, id: &JobId, error: &str) -> Result<(), Error> {
    let now = tx.now();
    tx.execute(
        "update jobs set dead_at = $1, locked_until = null, last_error = $2 where id = $3",
        args![now, error, id],
    )
    .await?;
    Ok(())
}

/// Counts for metrics: due or scheduled, running (leased), dead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
}

pub(crate) async fn counts(tx: &mut Tx) -> Result<Counts, Error> {
    let now = tx.now();
    let row = tx
        .fetch_one(
            "select
               coalesce(sum(case when dead_at is null and (locked_until is null or locked_until <= $1) then 1 else 0 end), 0) as queued,
               coalesce(sum(case when dead_at is null and locked_until > $1 then 1 else 0 end), 0) as running,
               coalesce(sum(case when dead_at is not null then 1 else 0 end), 0) as dead
             from jobs",
            args![now],
        )
        .await?;
    Ok(Counts {
        queued: row.i64("queued")?,
        running: row.i64("running")?,
        dead: row.i64("dead")?,
    })
}

/// Puts a job that waits for something back, due again `delay_ms` from now (see [`reschedule`]).
pub(crate) async fn reschedule_after(tx: &mut Tx, id: &JobId, delay_ms: i64) -> Result<(), Error> {
    let at = tx.now().plus_millis(delay_ms);
    reschedule(tx, id, at).await
}
