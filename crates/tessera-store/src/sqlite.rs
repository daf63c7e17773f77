//! The embedded backend: one writer task that commits batches of units of work (group commit),
//! and a pool of readers. WAL journal, `synchronous=FULL`: an acknowledged write survives a crash.
//!
//! The writer takes every unit waiting at that moment, runs each inside a savepoint of one
//! transaction, and commits once: one fsync for the batch instead of one per unit. A unit that
//! fails is rolled back to its savepoint and fails alone.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tessera_core::{Error, SharedClock, Timestamp};
use tokio::sync::{mpsc, oneshot};

use crate::StoreOptions;
use crate::tx::{Conn, Tx};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Most units committed together.
const MAX_BATCH: usize = 256;

type AnyBox = Box<dyn Any + Send>;
type ErasedUnit = Box<
    dyn for<'c> FnOnce(&'c mut Tx) -> futures::future::BoxFuture<'c, Result<AnyBox, Error>> + Send,
>;

struct Job {
    unit: ErasedUnit,
    reply: oneshot::Sender<Result<AnyBox, Error>>,
}

pub(crate) struct SqliteBackend {
    sender: mpsc::Sender<Job>,
    readers: SqlitePool,
    path: String,
}

fn connect_options(path: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

impl SqliteBackend {
    pub(crate) async fn open(
        path: &str,
        clock: SharedClock,
        jobs: Arc<tokio::sync::Notify>,
        options: &StoreOptions,
    ) -> anyhow::Result<Self> {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut writer = SqliteConnection::connect_with(&connect_options(path)?).await?;
        if options.migrate {
            MIGRATOR.run(&mut writer).await?;
        }
        let readers = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .min_connections(1)
            .connect_with(connect_options(path)?.read_only(true))
            .await?;
        let (tx, rx) = mpsc::channel::<Job>(4096);
        // The writer ends when the last handle to this backend is dropped.
        tokio::spawn(run_writer(writer, rx, clock, jobs));
        Ok(Self {
            sender: tx,
            readers,
            path: path.to_owned(),
        })
    }

    pub(crate) async fn write<T: Send + 'static>(&self, unit: crate::Unit<T>) -> Result<T, Error> {
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
            .map_err(|_| {
                Error::internal(std::io::Error::other("the database writer has stopped"))
            })?;
        let value = answer.await.map_err(|_| {
            Error::internal(std::io::Error::other("the database writer has stopped"))
        })??;
        value.downcast::<T>().map(|b| *b).map_err(|_| {
            Error::internal(std::io::Error::other(
                "unit of work returned the wrong type",
            ))
        })
    }

    pub(crate) async fn reader(&self, now: Timestamp) -> Result<Tx, Error> {
        let conn = self.readers.acquire().await.map_err(Error::internal)?;
        Ok(Tx::new(Conn::SqliteRead(conn), now, None))
    }

    pub(crate) async fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = SqliteConnection::connect_with(&connect_options(&self.path)?).await?;
        MIGRATOR.run(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    pub(crate) async fn close(&self) {
        self.readers.close().await;
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

async fn run_writer(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Job>,
    clock: SharedClock,
    jobs: Arc<tokio::sync::Notify>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        conn = commit_batch(conn, &mut batch, &clock, &jobs).await;
    }
}

/// Runs one batch: every unit in its own savepoint, one commit. Returns the connection.
async fn commit_batch(
    conn: SqliteConnection,
    batch: &mut Vec<Job>,
    clock: &SharedClock,
    jobs: &tokio::sync::Notify,
) -> SqliteConnection {
    let mut tx = Tx::new(Conn::Sqlite(conn), clock.now(), None);
    let begun = match tx.conn.as_mut() {
        Some(Conn::Sqlite(c)) => exec(c, "begin immediate").await,
        _ => Ok(()),
    };
    if let Err(e) = begun {
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
        tx.now = clock.now();
        tx.after = Default::default();
        tx.cause = None;
        if let Some(Conn::Sqlite(c)) = tx.conn.as_mut()
            && let Err(e) = exec(c, "savepoint unit").await
        {
            let _ = job.reply.send(Err(Error::internal(e)));
            continue;
        }
        let outcome = AssertUnwindSafe((job.unit)(&mut tx)).catch_unwind().await;
        let result = match outcome {
            Ok(r) => r,
            Err(_) => Err(Error::internal(std::io::Error::other(
                "a unit of work panicked",
            ))),
        };
        let Some(Conn::Sqlite(c)) = tx.conn.as_mut() else {
            let _ = job.reply.send(Err(Error::internal(std::io::Error::other(
                "lost connection",
            ))));
            continue;
        };
        match result {
            Ok(value) => match exec(c, "release unit").await {
                Ok(()) => {
                    wake |= tx.after.wake_jobs;
                    done.push((job.reply, value));
                }
                Err(e) => {
                    let _ = exec(c, "rollback to unit").await;
                    let _ = exec(c, "release unit").await;
                    let _ = job.reply.send(Err(Error::internal(e)));
                }
            },
            Err(err) => {
                let rolled = exec(c, "rollback to unit")
                    .await
                    .and(exec(c, "release unit").await);
                let _ = job.reply.send(Err(err));
                if let Err(e) = rolled {
                    tracing::error!(error = %e, "could not roll back a failed unit; abandoning the batch");
                    let _ = exec(c, "rollback").await;
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
    let committed = match tx.conn.as_mut() {
        Some(Conn::Sqlite(c)) => exec(c, "commit").await,
        _ => Ok(()),
    };
    match committed {
        Ok(()) => {
            for (reply, value) in done {
                let _ = reply.send(Ok(value));
            }
            if wake {
                jobs.notify_one();
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the whole batch is rolled back");
            if let Some(Conn::Sqlite(c)) = tx.conn.as_mut() {
                let _ = exec(c, "rollback").await;
            }
            for (reply, _) in done {
                let _ = reply.send(Err(Error::internal(std::io::Error::other(e.to_string()))));
            }
        }
    }
    take_conn(tx)
}

fn take_conn(mut tx: Tx) -> SqliteConnection {
    match tx.conn.take() {
        Some(Conn::Sqlite(c)) => c,
        // The writer only ever builds a Tx around its own connection.
        _ => unreachable!("the writer's Tx always holds the writer connection"),
    }
}
