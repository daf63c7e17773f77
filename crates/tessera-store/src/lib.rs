//! Tessera's storage: one [`Store`] over two drivers. Every unit of work is written once and runs
//! on both the embedded SQLite database and PostgreSQL.
//!
//! The API is [`units`]: functions that return a [`Write`] (one transaction holding the change,
//! its events, the jobs they cause and the idempotency record, committed together) or a [`Read`].
//! The transaction they run in never leaves this crate: the rules of each change live here, in
//! `ops` (the statements) and `units` (what a caller may ask for).

mod keys;
mod ops;
mod options;
pub mod paging;
mod postgres;
mod signal;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;
pub mod units;
mod work;

use std::sync::Arc;

use tessera_core::{Error, SharedClock};

pub use keys::MasterKeys;
pub use options::StoreOptions;
pub use paging::{Cursor, Page, PageRequest};
pub use signal::JobSignal;
pub use tx::{Arg, Dialect, Row, Sql};
pub use work::{Read, Reads, Work, Write, Writes};

enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgBackend),
}

struct Inner {
    backend: Backend,
    clock: SharedClock,
    jobs: Arc<tokio::sync::Notify>,
    keys: MasterKeys,
}

/// The store: a cheap, clonable handle.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect())
            .finish()
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`), whose secrets are sealed
    /// under `keys`. With `options.migrate`, it also brings the secrets at rest up to date (see
    /// [`Store::seal_at_rest`]): refused, with nothing written, when a secret is sealed under a
    /// master key `keys` lacks.
    pub async fn open(
        url: &str,
        clock: SharedClock,
        keys: MasterKeys,
        options: StoreOptions,
    ) -> anyhow::Result<Self> {
        let jobs = Arc::new(tokio::sync::Notify::new());
        let backend = if let Some(path) = url.strip_prefix("sqlite://") {
            Backend::Sqlite(
                sqlite::SqliteBackend::open(
                    path,
                    clock.clone(),
                    jobs.clone(),
                    keys.clone(),
                    &options,
                )
                .await?,
            )
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(
                postgres::PgBackend::open(url, jobs.clone(), keys.clone(), &options).await?,
            )
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite://PATH or postgres://…)");
        };
        let store = Self {
            inner: Arc::new(Inner {
                backend,
                clock,
                jobs,
                keys,
            }),
        };
        if options.migrate {
            store.seal_at_rest().await?;
        }
        Ok(store)
    }

    /// The master keys this store seals secrets with.
    pub fn keys(&self) -> &MasterKeys {
        &self.inner.keys
    }

    /// Checks that every sealed secret is under a master key this store holds (else an error
    /// naming the keys, with nothing written), then seals every secret still stored in the clear
    /// (written before sealing existed), in one transaction. Runs when the store opens with
    /// `migrate`; running it again changes nothing.
    pub async fn seal_at_rest(&self) -> anyhow::Result<u64> {
        let report = self.write(units::keys::seal_at_rest()).await?;
        if !report.missing_kids.is_empty() {
            anyhow::bail!(
                "the database's secrets are sealed under master key {}, which the configured master keys ({}) do not include: start with the master key this database was made with (TESSERA_MASTER_KEY, TESSERA_MASTER_KEY_FILE or the data directory's master-key file); nothing was changed",
                report.missing_kids.join(", "),
                self.keys().current().kids().join(", ")
            );
        }
        let sealed = report.sealed;
        if sealed > 0 {
            tracing::info!(
                sealed,
                "sealed secrets stored in the clear under the master key"
            );
        }
        Ok(sealed)
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Runs a unit of work in its own transaction and commits it.
    pub async fn write<T: Send + 'static>(&self, unit: Write<T>) -> Result<T, Error> {
        match &self.inner.backend {
            Backend::Sqlite(b) => b.write(unit.body).await,
            Backend::Postgres(b) => b.write(self.inner.clock.now(), unit.body).await,
        }
    }

    /// Runs a read on a reader connection (no transaction).
    pub async fn read<T: Send + 'static>(&self, read: Read<T>) -> Result<T, Error> {
        let now = self.inner.clock.now();
        let mut tx = match &self.inner.backend {
            Backend::Sqlite(b) => b.reader(now)?,
            Backend::Postgres(b) => b.reader(now).await?,
        };
        read.run(&mut tx).await
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.inner.backend {
            Backend::Sqlite(b) => b.migrate().await,
            Backend::Postgres(b) => b.migrate().await,
        }
    }

    /// Whether the database answers and every migration has been applied.
    pub async fn ready(&self) -> Result<(), Error> {
        let latest = match &self.inner.backend {
            Backend::Sqlite(_) => sqlite::MIGRATOR.iter().map(|m| m.version).max(),
            Backend::Postgres(_) => postgres::MIGRATOR.iter().map(|m| m.version).max(),
        }
        .unwrap_or(0);
        let applied = self
            .read(Read::new(|tx| {
                Box::pin(async move {
                    let row = tx
                        .fetch_one(
                            "select coalesce(max(version), 0) as v from _sqlx_migrations where success",
                            vec![],
                        )
                        .await?;
                    row.i64("v")
                })
            }))
            .await?;
        if applied < latest {
            return Err(Error::new(
                tessera_core::Status::Unavailable,
                tessera_core::codes::UNAVAILABLE,
                "database migrations are pending",
            ));
        }
        Ok(())
    }

    /// The worker's signal that new jobs may be due, firing at least every `poll`.
    pub async fn job_signal(&self, poll: std::time::Duration) -> JobSignal {
        let postgres = match &self.inner.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(b) => Some((&b.pool, b.jobs_channel.as_str())),
        };
        JobSignal::new(self.inner.jobs.clone(), postgres, poll).await
    }

    /// Wakes this process's worker, as a committed unit that enqueued a job would.
    pub fn wake_jobs(&self) {
        self.inner.jobs.notify_one();
    }

    /// Closes connections (the SQLite writer finishes its queue first).
    pub async fn close(&self) {
        match &self.inner.backend {
            Backend::Sqlite(b) => b.close().await,
            Backend::Postgres(b) => b.pool.close().await,
        }
    }
}
