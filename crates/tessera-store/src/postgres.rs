//! The scale-out backend: a PostgreSQL pool; each unit of work is one transaction. Any number of
//! processes may share the database (jobs are claimed with `FOR UPDATE SKIP LOCKED`; new jobs are
//! announced with `NOTIFY`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tessera_core::{Error, Timestamp};

use crate::keys::MasterKeys;
use crate::options::StoreOptions;
use crate::tx::{Conn, Tx};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub(crate) struct PgBackend {
    pub(crate) pool: PgPool,
    pub(crate) jobs_channel: String,
    jobs: Arc<tokio::sync::Notify>,
    keys: MasterKeys,
}

impl PgBackend {
    pub(crate) async fn open(
        url: &str,
        jobs: Arc<tokio::sync::Notify>,
        keys: MasterKeys,
        options: &StoreOptions,
    ) -> anyhow::Result<Self> {
        let mut connect = PgConnectOptions::from_str(url)?;
        let mut jobs_channel = String::from("tessera_jobs");
        if let Some(schema) = &options.pg_schema {
            connect = connect.options([("search_path", schema.as_str())]);
            jobs_channel = format!("tessera_jobs_{schema}");
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect)
            .await?;
        if options.migrate {
            MIGRATOR.run(&pool).await?;
        }
        Ok(Self {
            pool,
            jobs_channel,
            jobs,
            keys,
        })
    }

    pub(crate) async fn write<T, F>(&self, now: Timestamp, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T, Error>> + Send + 'static,
    {
        let transaction = self.pool.begin().await.map_err(Error::internal)?;
        let mut tx = Tx::new(
            Conn::Postgres(transaction),
            now,
            Some(self.jobs_channel.clone()),
            self.keys.clone(),
        );
        // A panicking unit fails alone, as on SQLite; its transaction rolls back when dropped.
        let value = match AssertUnwindSafe(f(&mut tx))
            .catch_unwind()
            .await
            .map_err(|_| Error::internal(std::io::Error::other("a unit of work panicked")))?
        {
            Ok(value) => value,
            Err(e) => {
                // A refused unit has rolled back when `write` answers. (Dropped, the transaction
                // would roll back only when sqlx next uses its connection, in a task of its own:
                // meanwhile the unit's row locks stay, and a `skip locked` claim or sweep that
                // follows at once skips the rows it had locked.)
                if let Some(Conn::Postgres(t)) = tx.conn.take() {
                    let _ = t.rollback().await;
                }
                return Err(e);
            }
        };
        let wake = tx.after.wake_jobs;
        match tx.conn.take() {
            Some(Conn::Postgres(t)) => t.commit().await.map_err(Error::internal)?,
            _ => return Err(Error::internal(std::io::Error::other("lost transaction"))),
        }
        if wake {
            self.jobs.notify_one();
        }
        Ok(value)
    }

    pub(crate) async fn reader(&self, now: Timestamp) -> Result<Tx, Error> {
        let conn = self.pool.acquire().await.map_err(Error::internal)?;
        Ok(Tx::new(
            Conn::PostgresRead(conn),
            now,
            Some(self.jobs_channel.clone()),
            self.keys.clone(),
        ))
    }

    pub(crate) async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}
