//! The embedded backend, on SQLite called directly (rusqlite): one writer thread that commits
//! batches of units of work (group commit), and readers that run on the caller's thread. WAL
//! journal, `synchronous=FULL`: an acknowledged write survives a crash.
//!
//! This file is the backend's face ([`SqliteBackend`]: open, write, read, migrate, close). Its
//! parts, one idea a file, in the order they depend on one another:
//! - `connection`: opening a connection with the project's settings; SQLite errors mapped;
//! - `bind`: running a statement with its `Arg`s, reading rows out (used by `crate::tx`);
//! - `readers`: the pool of reader connections (a reader's `Tx` holds one);
//! - `migrate`: the embedded migrations;
//! - `writer`: the group-commit writer thread (builds a `Tx` around its connection).
//!
//! `connection`, `bind` and `readers` sit below `crate::tx` and never name it; `writer` and this
//! face sit above it.

pub(crate) mod bind;
mod connection;
mod migrate;
pub(crate) mod readers;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tessera_core::{Error, SharedClock, Timestamp};

pub(crate) use migrate::MIGRATOR;

use crate::keys::MasterKeys;
use crate::options::StoreOptions;
use crate::tx::{Conn, Tx};
use readers::ReadPool;
use writer::Writer;

pub(crate) struct SqliteBackend {
    writer: Writer,
    readers: Arc<ReadPool>,
    path: String,
    /// Set by `close`: no more reads or writes.
    closed: AtomicBool,
    keys: MasterKeys,
}

impl SqliteBackend {
    pub(crate) async fn open(
        path: &str,
        clock: SharedClock,
        jobs: Arc<tokio::sync::Notify>,
        keys: MasterKeys,
        options: &StoreOptions,
    ) -> anyhow::Result<Self> {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
        if options.migrate {
            migrate::run(path).await?;
        } else {
            migrate::create(path).await?;
        }
        let writer = Writer::spawn(connection::open(path, false)?, clock, jobs, keys.clone())?;
        Ok(Self {
            writer,
            readers: ReadPool::new(path),
            path: path.to_owned(),
            closed: AtomicBool::new(false),
            keys,
        })
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        unit: crate::tx::Unit<T>,
    ) -> Result<T, Error> {
        if self.is_closed() {
            return Err(writer::stopped());
        }
        self.writer.submit(unit).await
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub(crate) fn reader(&self, now: Timestamp) -> Result<Tx, Error> {
        if self.is_closed() {
            return Err(Error::internal(std::io::Error::other(
                "the database is closed",
            )));
        }
        Ok(Tx::new(
            Conn::SqliteRead(self.readers.lease()?),
            now,
            None,
            self.keys.clone(),
        ))
    }

    pub(crate) async fn migrate(&self) -> anyhow::Result<()> {
        migrate::run(&self.path).await
    }

    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.readers.clear();
    }
}
