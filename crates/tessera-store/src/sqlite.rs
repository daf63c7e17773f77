//! The embedded backend, on SQLite called directly (rusqlite): one writer thread that commits
//! batches of units of work (group commit), and readers that run on the caller's thread. WAL
//! journal, `synchronous=FULL`: an acknowledged write survives a crash.
//!
//! The writer takes every unit waiting at that moment, runs each inside a savepoint of one
//! transaction, and commits once: one fsync for the batch instead of one per unit. A unit that
//! fails (or panics) is rolled back to its savepoint and fails alone.
//!
//! Units are async closures over `Tx`, but on SQLite every `Tx` call completes at once (there is
//! no I/O to wait for besides the local file), so the writer thread drives each unit to
//! completion with `block_on`, and a read completes in the first poll on the caller's task.
//! Statements are prepared once per connection and cached.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{OpenFlags, ToSql};
use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use tessera_core::{Error, SharedClock, Timestamp};
use tokio::sync::{mpsc, oneshot};

use crate::StoreOptions;
use crate::tx::{Arg, Conn, Tx};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Most units committed together.
const MAX_BATCH: usize = 256;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;
/// Idle reader connections kept open.
const IDLE_READERS: usize = 8;

type AnyBox = Box<dyn Any + Send>;
type ErasedUnit = Box<
    dyn for<'c> FnOnce(&'c mut Tx) -> futures::future::BoxFuture<'c, Result<AnyBox, Error>> + Send,
>;

struct Job {
    unit: ErasedUnit,
    reply: oneshot::Sender<Result<AnyBox, Error>>,
}

/// Opens a connection with the project's settings.
fn open_connection(path: &str, read_only: bool) -> rusqlite::Result<rusqlite::Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Reader connections, reused.
struct ReadPool {
    path: String,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// A reader connection; goes back to the pool when dropped.
pub(crate) struct ReadConn {
    conn: Option<rusqlite::Connection>,
    pool: Arc<ReadPool>,
}

impl ReadConn {
    fn get(&self) -> Option<&rusqlite::Connection> {
        self.conn.as_ref()
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.pool.idle.lock())
            && idle.len() < IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

pub(crate) struct SqliteBackend {
    sender: mpsc::Sender<Job>,
    readers: Arc<ReadPool>,
    path: String,
    /// Set by `close`: no more reads or writes.
    closed: std::sync::atomic::AtomicBool,
}

fn migration_options(path: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

/// Applies the embedded migrations (sqlx's migrator, on a connection of its own).
async fn run_migrations(path: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::SqliteConnection::connect_with(&migration_options(path)?).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
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
        if options.migrate {
            run_migrations(path).await?;
        } else {
            // Creates the file (and WAL mode) when it is new.
            drop(sqlx::SqliteConnection::connect_with(&migration_options(path)?).await?);
        }
        let writer = open_connection(path, false)?;
        let (tx, rx) = mpsc::channel::<Job>(4096);
        // The writer ends when the last handle to this backend is dropped.
        std::thread::Builder::new()
            .name("tessera-sqlite-writer".into())
            .spawn(move || run_writer(writer, rx, clock, jobs))?;
        Ok(Self {
            sender: tx,
            readers: Arc::new(ReadPool {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            path: path.to_owned(),
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub(crate) async fn write<T: Send + 'static>(&self, unit: crate::Unit<T>) -> Result<T, Error> {
        let erased: ErasedUnit = Box::new(move |tx: &mut Tx| {
            Box::pin(unit(tx).map(|r| r.map(|v| Box::new(v) as AnyBox)))
        });
        let (reply, answer) = oneshot::channel();
        let stopped = || Error::internal(std::io::Error::other("the database writer has stopped"));
        if self.is_closed() {
            return Err(stopped());
        }
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

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn reader(&self, now: Timestamp) -> Result<Tx, Error> {
        if self.is_closed() {
            return Err(Error::internal(std::io::Error::other(
                "the database is closed",
            )));
        }
        let pooled = self
            .readers
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.readers.path, true).map_err(db_err)?,
        };
        Ok(Tx::new(
            Conn::SqliteRead(ReadConn {
                conn: Some(conn),
                pool: self.readers.clone(),
            }),
            now,
            None,
        ))
    }

    pub(crate) async fn migrate(&self) -> anyhow::Result<()> {
        run_migrations(&self.path).await
    }

    pub(crate) async fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut idle) = self.readers.idle.lock() {
            idle.clear();
        }
    }
}

/// A row, read out of SQLite.
pub struct SqliteRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl SqliteRow {
    pub(crate) fn value(&self, col: &str) -> Result<&Value, Error> {
        self.names
            .iter()
            .position(|n| n == col)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::internal(std::io::Error::other(format!("no column {col}"))))
    }
}

/// Maps SQLite errors like the PostgreSQL driver does: a unique violation is a 409 (another unit
/// made a conflicting change first), anything else is internal.
pub(crate) fn db_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    {
        return Error::conflict(
            tessera_core::codes::CONFLICT,
            "a conflicting change was made at the same time; retry",
        );
    }
    Error::internal(e)
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for (i, a) in args.iter().enumerate() {
        let Some(index) = stmt.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        let v: &dyn ToSql = match a {
            Arg::Int(v) => v,
            Arg::Float(v) => v,
            Arg::Text(v) => v,
            Arg::Blob(v) => v,
            Arg::NullInt | Arg::NullText | Arg::NullBlob => &rusqlite::types::Null,
        };
        stmt.raw_bind_parameter(index, v)?;
    }
    Ok(())
}

/// Runs a statement; the number of rows it changed.
pub(crate) fn execute(conn: &rusqlite::Connection, sql: &str, args: &[Arg]) -> Result<u64, Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    bind(&mut stmt, args).map_err(db_err)?;
    let changed = if stmt.column_count() > 0 {
        // A query (or `… returning`) run for its effect: step through it.
        let read_only = stmt.readonly();
        let mut rows = stmt.raw_query();
        while rows.next().map_err(db_err)?.is_some() {}
        if read_only { 0 } else { conn.changes() }
    } else {
        stmt.raw_execute().map_err(db_err)? as u64
    };
    Ok(changed)
}

/// Runs a query; every row.
pub(crate) fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg],
) -> Result<Vec<SqliteRow>, Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    bind(&mut stmt, args).map_err(db_err)?;
    let names: Arc<[String]> = stmt
        .column_names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let width = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i).map_err(db_err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Integer(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(SqliteRow {
            names: names.clone(),
            values,
        });
    }
    Ok(out)
}

/// The connection of a SQLite `Tx`.
pub(crate) fn conn_of(conn: &Conn) -> Option<&rusqlite::Connection> {
    match conn {
        Conn::Sqlite(c) => Some(c),
        Conn::SqliteRead(r) => r.get(),
        _ => None,
    }
}

fn exec_plain(conn: &rusqlite::Connection, sql: &str) -> Result<(), Error> {
    conn.execute_batch(sql).map_err(db_err)
}

fn run_writer(
    mut conn: rusqlite::Connection,
    mut rx: mpsc::Receiver<Job>,
    clock: SharedClock,
    jobs: Arc<tokio::sync::Notify>,
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
        conn = commit_batch(conn, &mut batch, &clock, &jobs);
    }
}

/// Runs one batch: every unit in its own savepoint, one commit. Returns the connection.
fn commit_batch(
    conn: rusqlite::Connection,
    batch: &mut Vec<Job>,
    clock: &SharedClock,
    jobs: &tokio::sync::Notify,
) -> rusqlite::Connection {
    let mut tx = Tx::new(Conn::Sqlite(conn), clock.now(), None);
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
    match tx.conn.as_ref().and_then(conn_of) {
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
