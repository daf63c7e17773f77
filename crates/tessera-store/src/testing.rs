//! Test helpers: a fresh, migrated database of either backend for each test, on a manual clock.
//!
//! PostgreSQL tests need `TESSERA_TEST_POSTGRES_URL` (the project's test script starts a throwaway
//! cluster and sets it); each test gets a schema of its own.

use std::sync::Arc;

use sqlx::Connection;
use tessera_core::ManualClock;

use tessera_core::keys::{Keyring, MasterKey};

use crate::{MasterKeys, Store, StoreOptions};

/// The backends every storage test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use. Panics with directions when it is not configured, so a
/// PostgreSQL test can never pass by being skipped.
pub fn postgres_url() -> String {
    match std::env::var("TESSERA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "TESSERA_TEST_POSTGRES_URL is not set: run the suite with scripts/test, which starts a throwaway PostgreSQL cluster"
        ),
    }
}

/// A fresh database.
pub struct TestDb {
    pub store: Store,
    pub clock: ManualClock,
    /// The URL another process (the real binary) can open this database with.
    pub url: String,
    /// PostgreSQL: the schema holding this test's tables.
    pub schema: Option<String>,
    /// The master keys the store seals secrets with (random, one per test).
    pub keys: MasterKeys,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        Self::with_options(backend, StoreOptions::default()).await
    }

    pub async fn with_options(backend: Backend, options: StoreOptions) -> Self {
        Self::with_keys(backend, random_keys(), options).await
    }

    /// A fresh database whose secrets are sealed under `keys`.
    pub async fn with_keys(backend: Backend, keys: MasterKeys, mut options: StoreOptions) -> Self {
        let clock = ManualClock::starting_now();
        let shared: tessera_core::SharedClock = Arc::new(clock.clone());
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
                let url = format!("sqlite://{}/tessera.db", dir.path().display());
                let store = Store::open(&url, shared, keys.clone(), options)
                    .await
                    .unwrap_or_else(|e| panic!("open sqlite: {e:#}"));
                Self {
                    store,
                    clock,
                    url,
                    schema: None,
                    keys,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let url = postgres_url();
                let schema = format!("t_{}", tessera_core::id::random_base62(16).to_lowercase());
                let mut conn = sqlx::PgConnection::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
                sqlx::query(&format!("create schema {schema}"))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("create schema: {e}"));
                let _ = conn.close().await;
                options.pg_schema = Some(schema.clone());
                options.max_connections = options.max_connections.min(8);
                let store = Store::open(&url, shared, keys.clone(), options)
                    .await
                    .unwrap_or_else(|e| panic!("open postgres: {e:#}"));
                let sep = if url.contains('?') { '&' } else { '?' };
                Self {
                    store,
                    clock,
                    url: format!("{url}{sep}options=-csearch_path%3D{schema}"),
                    schema: Some(schema),
                    keys,
                    _dir: None,
                }
            }
        }
    }
}

impl TestDb {
    /// Opens this database again, as another process would, with `keys` (migrations and the
    /// sealing of secrets at rest run as at any start): an error if the keys cannot open it.
    pub async fn reopen(&self, keys: MasterKeys) -> anyhow::Result<Store> {
        let shared: tessera_core::SharedClock = Arc::new(self.clock.clone());
        let options = StoreOptions {
            pg_schema: self.schema.clone(),
            max_connections: 4,
            ..StoreOptions::default()
        };
        let url = match &self.schema {
            Some(_) => postgres_url(),
            None => self.url.clone(),
        };
        Store::open(&url, shared, keys, options).await
    }

    /// This database's master keys as `TESSERA_MASTER_KEY` takes them (for the real binary).
    pub fn master_key_env(&self) -> String {
        self.keys.current().encode().trim().replace('\n', ",")
    }
}

/// A keyring of one new random master key.
pub fn random_keys() -> MasterKeys {
    MasterKeys::new(random_keyring())
}

/// A keyring of one new random master key.
pub fn random_keyring() -> Keyring {
    Keyring::new(vec![MasterKey::generate()]).unwrap_or_else(|e| panic!("{e}"))
}

/// Defines one test per backend from an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::testing::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::testing::Backend::Postgres).await
            }
        }
    )*};
}

/// Raw SQL, for tests that set up or inspect rows no unit of work makes (a job row as an older
/// version wrote it, a count of a table). Test builds only: the product runs units of work.
pub mod sql {
    use tessera_core::Error;

    use crate::{Arg, Read, Row, Store, Write};

    /// Runs a statement in a unit of its own; returns the number of rows it changed.
    pub async fn execute(store: &Store, sql: &str, args: Vec<Arg>) -> Result<u64, Error> {
        let sql = sql.to_owned();
        store
            .write(Write::new(move |tx| {
                Box::pin(async move { tx.execute(&sql, args).await })
            }))
            .await
    }

    /// Runs a query on a reader connection and returns every row.
    pub async fn fetch_all(store: &Store, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>, Error> {
        let sql = sql.to_owned();
        store
            .read(Read::new(move |tx| {
                Box::pin(async move { tx.fetch_all(&sql, args).await })
            }))
            .await
    }

    /// Runs a query that must return a row.
    pub async fn fetch_one(store: &Store, sql: &str, args: Vec<Arg>) -> Result<Row, Error> {
        let sql = sql.to_owned();
        store
            .read(Read::new(move |tx| {
                Box::pin(async move { tx.fetch_one(&sql, args).await })
            }))
            .await
    }

    /// The store clock's time, as units of work see it.
    pub fn now(store: &Store) -> tessera_core::Timestamp {
        store.clock().now()
    }
}
