//! `Tx`: one unit of work's connection, on either backend. Units of work are written once
//! against it with `$n` placeholders (both SQLite and PostgreSQL accept them); where the dialects
//! differ, a unit asks [`Tx::dialect`].
//!
//! Below it: the driver-neutral values it binds ([`crate::sql`], re-exported here) and each
//! driver's statement runner (`crate::sqlite::bind`, and PostgreSQL's through sqlx, here). Above
//! it: the backends that build a `Tx` around their connections (`crate::sqlite`'s writer and
//! readers, `crate::postgres`), and every unit of work in `crate::ops`.

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row as _, Transaction};

use crate::keys::MasterKeys;
pub use crate::sql::{Arg, Dialect, Sql, json};
use crate::sqlite::bind::{self, SqliteRow};
use crate::sqlite::readers::ReadConn;
use tessera_core::workflow::Cause;
use tessera_core::{Error, Timestamp};

pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    SqliteRead(ReadConn),
    Postgres(Transaction<'static, Postgres>),
    PostgresRead(PoolConnection<Postgres>),
}

impl Conn {
    /// The connection of a SQLite `Tx`.
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::SqliteRead(r) => r.get(),
            Conn::Postgres(_) | Conn::PostgresRead(_) => None,
        }
    }
}

/// What a unit of work asked to happen once it has committed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AfterCommit {
    pub wake_jobs: bool,
}

/// The connection of one unit of work, and the time it started.
pub(crate) struct Tx {
    pub(crate) conn: Option<Conn>,
    pub(crate) now: Timestamp,
    pub(crate) after: AfterCommit,
    pub(crate) jobs_channel: Option<String>,
    /// The workflow run this unit acts for, if any (see [`Tx::set_cause`]).
    pub(crate) cause: Option<Cause>,
    /// The master keys secrets are sealed with (every row read carries them, to open its own).
    pub(crate) keys: MasterKeys,
}

/// A unit of work's body: runs against a [`Tx`] and returns a value. A [`crate::Write`] or
/// [`crate::Read`] holds one; the backends run it.
pub(crate) type Unit<T> =
    Box<dyn for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T, Error>> + Send>;

/// A row from either backend, with the keys that open the secrets sealed in it.
pub struct Row {
    raw: RawRow,
    keys: MasterKeys,
}

enum RawRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

pub(crate) fn db_err(e: sqlx::Error) -> Error {
    // A unique violation means another unit of work made a conflicting change first (units
    // check uniqueness before they write; this is the race they can lose).
    if e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
    {
        return Error::conflict(
            tessera_core::codes::CONFLICT,
            "a conflicting change was made at the same time; retry",
        );
    }
    Error::internal(e)
}

/// A PostgreSQL statement with its arguments bound.
fn pg_query(sql: &str, args: Vec<Arg>) -> Query<'_, Postgres, PgArguments> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Float(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Blob(v) => q.bind(v),
            Arg::NullInt => q.bind(None::<i64>),
            Arg::NullText => q.bind(None::<String>),
            Arg::NullBlob => q.bind(None::<Vec<u8>>),
        };
    }
    q
}

/// The connection a statement runs on, whichever kind of `Conn` holds it.
enum Driver<'c> {
    // `&mut`: a shared reference to a connection is not `Send`, and units' futures must be.
    Sqlite(&'c mut rusqlite::Connection),
    Postgres(&'c mut PgConnection),
}

impl Tx {
    pub(crate) fn new(
        conn: Conn,
        now: Timestamp,
        jobs_channel: Option<String>,
        keys: MasterKeys,
    ) -> Self {
        Self {
            conn: Some(conn),
            now,
            after: AfterCommit::default(),
            jobs_channel,
            cause: None,
            keys,
        }
    }

    /// Seals a secret for `purpose` (which names its row and column) under the sealing master
    /// key; [`Row::sealed_text`] opens it.
    pub(crate) fn seal(&self, purpose: &str, plaintext: &str) -> String {
        self.keys.seal(purpose, plaintext.as_bytes())
    }

    /// The store's master keys.
    pub(crate) fn keys(&self) -> &MasterKeys {
        &self.keys
    }

    fn row(&self, raw: RawRow) -> Row {
        Row {
            raw,
            keys: self.keys.clone(),
        }
    }

    /// Marks this unit as acting for a step of a workflow run: the events it emits then carry
    /// the run's cause, so they never start the run's own workflow and chains stay bounded.
    pub fn set_cause(&mut self, cause: Option<Cause>) {
        self.cause = cause;
    }

    /// The workflow run this unit acts for, if any.
    pub fn cause(&self) -> Option<&Cause> {
        self.cause.as_ref()
    }

    /// The time this unit of work started, from the store's clock.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Some(Conn::Sqlite(_) | Conn::SqliteRead(_)) | None => Dialect::Sqlite,
            Some(Conn::Postgres(_) | Conn::PostgresRead(_)) => Dialect::Postgres,
        }
    }

    fn driver(&mut self) -> Result<Driver<'_>, Error> {
        match self.conn.as_mut() {
            Some(Conn::Postgres(c)) => Ok(Driver::Postgres(c)),
            Some(Conn::PostgresRead(c)) => Ok(Driver::Postgres(c)),
            Some(Conn::Sqlite(c)) => Ok(Driver::Sqlite(c)),
            Some(Conn::SqliteRead(r)) => r
                .get_mut()
                .map(Driver::Sqlite)
                .ok_or_else(|| Error::internal(std::io::Error::other("not a SQLite connection"))),
            None => Err(Error::internal(std::io::Error::other(
                "transaction already finished",
            ))),
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, Error> {
        match self.driver()? {
            Driver::Postgres(c) => Ok(pg_query(sql, args)
                .execute(c)
                .await
                .map_err(db_err)?
                .rows_affected()),
            Driver::Sqlite(c) => bind::execute(c, sql, &args),
        }
    }

    /// Runs a query and returns every row.
    pub async fn fetch_all(&mut self, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>, Error> {
        let raw: Vec<RawRow> = match self.driver()? {
            Driver::Postgres(c) => pg_query(sql, args)
                .fetch_all(c)
                .await
                .map_err(db_err)?
                .into_iter()
                .map(RawRow::Postgres)
                .collect(),
            Driver::Sqlite(c) => bind::query(c, sql, &args)?
                .into_iter()
                .map(RawRow::Sqlite)
                .collect(),
        };
        Ok(raw.into_iter().map(|r| self.row(r)).collect())
    }

    /// Runs a query and returns its first row, if any.
    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<Row>, Error> {
        let raw = match self.driver()? {
            Driver::Postgres(c) => pg_query(sql, args)
                .fetch_optional(c)
                .await
                .map_err(db_err)?
                .map(RawRow::Postgres),
            Driver::Sqlite(c) => bind::query(c, sql, &args)?
                .into_iter()
                .next()
                .map(RawRow::Sqlite),
        };
        Ok(raw.map(|r| self.row(r)))
    }

    /// Runs a query that must return a row.
    pub async fn fetch_one(&mut self, sql: &str, args: Vec<Arg>) -> Result<Row, Error> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or_else(|| Error::internal(std::io::Error::other("query returned no row")))
    }

    /// Asks the worker to look for due jobs once this unit has committed.
    pub async fn wake_jobs(&mut self) -> Result<(), Error> {
        if self.after.wake_jobs {
            return Ok(());
        }
        self.after.wake_jobs = true;
        let on_postgres = matches!(self.conn, Some(Conn::Postgres(_)));
        if let (true, Some(channel)) = (on_postgres, self.jobs_channel.clone()) {
            // NOTIFY is transactional: delivered to listeners only if this unit commits.
            self.execute("select pg_notify($1, '')", vec![Arg::Text(channel)])
                .await?;
        }
        Ok(())
    }
}

fn wrong_type(col: &str) -> Error {
    Error::internal(std::io::Error::other(format!(
        "column {col} has an unexpected type"
    )))
}

/// Reads a column of either backend: `$pg` is the sqlx type, `$lite` converts SQLite's value.
macro_rules! get {
    ($self:expr, $col:expr, $pg:ty, $lite:expr) => {
        match &$self.raw {
            RawRow::Sqlite(r) => ($lite)(r.value($col)?).ok_or_else(|| wrong_type($col)),
            RawRow::Postgres(r) => r.try_get::<$pg, _>($col).map_err(db_err),
        }
    };
}

use rusqlite::types::Value as Lite;

impl Row {
    pub fn i64(&self, col: &str) -> Result<i64, Error> {
        get!(self, col, i64, |v: &Lite| match v {
            Lite::Integer(i) => Some(*i),
            _ => None,
        })
    }

    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>, Error> {
        get!(self, col, Option<i64>, |v: &Lite| match v {
            Lite::Integer(i) => Some(Some(*i)),
            Lite::Null => Some(None),
            _ => None,
        })
    }

    pub fn f64(&self, col: &str) -> Result<f64, Error> {
        get!(self, col, f64, |v: &Lite| match v {
            Lite::Real(f) => Some(*f),
            Lite::Integer(i) => Some(*i as f64),
            _ => None,
        })
    }

    pub fn bool(&self, col: &str) -> Result<bool, Error> {
        Ok(self.i64(col)? != 0)
    }

    pub fn text(&self, col: &str) -> Result<String, Error> {
        get!(self, col, String, |v: &Lite| match v {
            Lite::Text(s) => Some(s.clone()),
            _ => None,
        })
    }

    pub fn opt_text(&self, col: &str) -> Result<Option<String>, Error> {
        get!(self, col, Option<String>, |v: &Lite| match v {
            Lite::Text(s) => Some(Some(s.clone())),
            Lite::Null => Some(None),
            _ => None,
        })
    }

    pub fn bytes(&self, col: &str) -> Result<Vec<u8>, Error> {
        get!(self, col, Vec<u8>, |v: &Lite| match v {
            Lite::Blob(b) => Some(b.clone()),
            Lite::Text(s) => Some(s.clone().into_bytes()),
            _ => None,
        })
    }

    pub fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, Error> {
        get!(self, col, Option<Vec<u8>>, |v: &Lite| match v {
            Lite::Blob(b) => Some(Some(b.clone())),
            Lite::Text(s) => Some(Some(s.clone().into_bytes())),
            Lite::Null => Some(None),
            _ => None,
        })
    }

    pub fn time(&self, col: &str) -> Result<Timestamp, Error> {
        self.i64(col).map(Timestamp::from_millis)
    }

    pub fn opt_time(&self, col: &str) -> Result<Option<Timestamp>, Error> {
        Ok(self.opt_i64(col)?.map(Timestamp::from_millis))
    }

    /// A JSON TEXT column, decoded.
    pub fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T, Error> {
        let s = self.text(col)?;
        serde_json::from_str(&s).map_err(Error::internal)
    }

    /// A secret column sealed for `purpose` (see [`Tx::seal`]), opened. A value sealed for another
    /// row or column, or altered, is an error; so is one under a master key the store lacks.
    pub fn sealed_text(&self, col: &str, purpose: &str) -> Result<String, Error> {
        self.keys.open_text(purpose, &self.text(col)?)
    }

    /// A nullable sealed secret column, opened.
    pub fn opt_sealed_text(&self, col: &str, purpose: &str) -> Result<Option<String>, Error> {
        self.opt_text(col)?
            .map(|v| self.keys.open_text(purpose, &v))
            .transpose()
    }

    /// A nullable JSON TEXT column, decoded.
    pub fn opt_json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>, Error> {
        match self.opt_text(col)? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s).map(Some).map_err(Error::internal),
        }
    }
}
