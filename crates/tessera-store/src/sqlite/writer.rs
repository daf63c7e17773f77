//! The writer thread: group commit. It takes every unit waiting at that moment, runs each inside
//! a savepoint of one transaction, and commits once: one fsync for the batch instead of one per
//! unit. A unit that fails (or panics) is rolled back to its savepoint and fails alone.
//!
//! Units are async closures over `Tx`, but on SQLite every `Tx` call completes at once (there is
//! no I/O to wait for besides the local file), so the writer thread drives each unit to
//! completion with `block_on`.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tessera_core::{Error, SharedClock};
use tokio::sync::{mpsc, oneshot};

use super::connection::exec_plain;
use crate::keys::MasterKeys;
use crate::tx::{Conn, Tx, Unit};

/// Most units committed together.
const MAX_BATCH: usize = 256;
/// Units waiting for the writer before `submit` waits too.
const QUEUE: usize = 4096;

type AnyBox = Box<dyn Any + Send>;
type ErasedUnit = Box<
    dyn for<'c> FnOnce(&'c mut Tx) -> futures::future::BoxFuture<'c, Result<AnyBox, Error>> + Send,
>;

struct Job {
    unit: ErasedUnit,
    reply: oneshot::Sender<Result<AnyBox, Error>>,
}

/// The handle to the writer thread; the thread ends when the last handle is dropped.
pub(super) struct Writer {
    sender: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(super) fn spawn(
        conn: rusqlite::Connection,
        clock: SharedClock,
        jobs: Arc<tokio::sync::Notify>,
        keys: MasterKeys,
    ) -> std::io::Result<Self> {
        let (sender, rx) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("tessera-sqlite-writer".into())
            .spawn(move || run(conn, rx, clock, jobs, keys))?;
        Ok(Self { sender })
    }

    /// Queues a unit of work and waits until its batch has committed (or it failed).
    pub(super) async fn submit<T: Send + 'static>(&self, unit: Unit<T>) -> Result<T, Error> {
        let erased: ErasedUnit = Box::new(move |tx: &mut Tx| {
            Box::pin(unit(tx).map(|r| r.map(|v| Box::new(v) as AnyBox)))
        });
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job {
                unit: erased,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        let value = answer.await.map_err(|_| stopped())??;
        value.downcast::<T>().map(|b| *b).map_err(|_| {
            Error::internal(std::io::Error::other(
                "unit of work returned the wrong type",
            ))
        })
    }
}

pub(super) fn stopped() -> Error {
    Error::internal(std::io::Error::other("the database writer has stopped"))
}

fn run(
    mut conn: rusqlite::Connection,
    mut rx: mpsc::Receiver<Job>,
    clock: SharedClock,
    jobs: Arc<tokio::sync::Notify>,
    keys: MasterKeys,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        conn = commit_batch(conn, &mut batch, &clock, &jobs, &keys);
    }
}

/// Runs one batch: every unit in its own savepoint, one commit. Returns the connection.
fn commit_batch(
    conn: rusqlite::Connection,
    batch: &mut Vec<Job>,
    clock: &SharedClock,
    jobs: &tokio::sync::Notify,
    keys: &MasterKeys,
) -> rusqlite::Connection {
    let mut tx = Tx::new(Conn::Sqlite(conn), clock.now(), None, keys.clone());
    if let Err(e) = with_conn(&tx, |c| exec_plain(c, "begin immediate")) {
        let msg = e.to_string();
        for job in batch.drain(..) {
            let _ = job
                .reply
                .send(Err(Error::internal(std::io::Error::other(msg.clone()))));
        }
        return take_conn(tx);
    }
    let mut done: Vec<(oneshot::Sender<Result<AnyBox, Error>>, AnyBox)> =
        Vec::with_capacity(batch.len());
    let mut wake = false;
    for job in batch.drain(..) {
        // Each unit starts from a clean Tx: nothing of the previous unit's in the batch — its
        // after-commit effects, or the workflow run it acted for (a unit inheriting another's
        // cause would skip that run's workflow when its own events should start it).
        tx.now = clock.now();
        tx.after = Default::default();
        tx.cause = None;
        if let Err(e) = with_conn(&tx, |c| exec_plain(c, "savepoint unit")) {
            let _ = job.reply.send(Err(e));
            continue;
        }
        let outcome =
            futures::executor::block_on(AssertUnwindSafe((job.unit)(&mut tx)).catch_unwind());
        let result = outcome.unwrap_or_else(|_| {
            Err(Error::internal(std::io::Error::other(
                "a unit of work panicked",
            )))
        });
        match result {
            Ok(value) => match with_conn(&tx, |c| exec_plain(c, "release unit")) {
                Ok(()) => {
                    wake |= tx.after.wake_jobs;
                    done.push((job.reply, value));
                }
                Err(e) => {
                    let _ = with_conn(&tx, |c| exec_plain(c, "rollback to unit; release unit"));
                    let _ = job.reply.send(Err(e));
                }
            },
            Err(err) => {
                let rolled = with_conn(&tx, |c| exec_plain(c, "rollback to unit; release unit"));
                let _ = job.reply.send(Err(err));
                if let Err(e) = rolled {
                    tracing::error!(error = %e, "could not roll back a failed unit; abandoning the batch");
                    let _ = with_conn(&tx, |c| exec_plain(c, "rollback"));
                    for (reply, _) in done.drain(..) {
                        let _ = reply.send(Err(Error::internal(std::io::Error::other(
                            "the batch was rolled back",
                        ))));
                    }
                    return take_conn(tx);
                }
            }
        }
    }
    match with_conn(&tx, |c| exec_plain(c, "commit")) {
        Ok(()) => {
            // Units per commit is what group commit buys: the benchmark reads these.
            metrics::counter!("tessera_sqlite_commits_total").increment(1);
            metrics::counter!("tessera_sqlite_units_committed_total").increment(done.len() as u64);
            for (reply, value) in done {
                let _ = reply.send(Ok(value));
            }
            if wake {
                jobs.notify_one();
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the whole batch is rolled back");
            let _ = with_conn(&tx, |c| exec_plain(c, "rollback"));
            for (reply, _) in done {
                let _ = reply.send(Err(Error::internal(std::io::Error::other(e.to_string()))));
            }
        }
    }
    take_conn(tx)
}

fn with_conn<T>(
    tx: &Tx,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    match tx.conn.as_ref().and_then(Conn::sqlite) {
        Some(c) => f(c),
        None => Err(Error::internal(std::io::Error::other(
            "lost the writer connection",
        ))),
    }
}

fn take_conn(mut tx: Tx) -> rusqlite::Connection {
    match tx.conn.take() {
        Some(Conn::Sqlite(c)) => c,
        // The writer only ever builds a Tx around its own connection.
        _ => unreachable!("the writer's Tx always holds the writer connection"),
    }
}
