//! The master keys that seal secrets at rest, from where the operator keeps them. In order:
//!
//! 1. `TESSERA_MASTER_KEY` — keys in the environment (comma-separated, the sealing one first);
//! 2. `TESSERA_MASTER_KEY_FILE` (or `master_key_file` in `tessera.toml`) — a file the operator
//!    provides (a mounted secret), one key per line, the sealing one first;
//! 3. otherwise `<data dir>/master-key`, made at first start (mode 0600) like the operator token.
//!
//! 1 and 2 together are refused (which one is meant?). A file source is read again when a
//! secret sealed under a key the process lacks turns up (another process rotated the master
//! key), so a rotation needs no restart. Opening the store checks the keys against the database:
//! a database whose secrets are sealed under another key is refused with nothing written, and a
//! `master-key` file made for that attempt is removed again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tessera_core::keys::{Keyring, MasterKey};
use tessera_edge::config::Config;
use tessera_store::{MasterKeys, Store, StoreOptions};

use crate::secret_file;

/// The name of the master key file in the data directory.
pub const FILE_NAME: &str = "master-key";

/// Where the master keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `TESSERA_MASTER_KEY`.
    Environment,
    /// `TESSERA_MASTER_KEY_FILE`.
    OperatorFile(PathBuf),
    /// `<data dir>/master-key`.
    DataDir(PathBuf),
}

impl Source {
    /// Where the configuration says the keys are.
    pub fn of(config: &Config) -> anyhow::Result<Self> {
        match (&config.master_keys, &config.master_key_file) {
            (Some(_), Some(_)) => anyhow::bail!(
                "TESSERA_MASTER_KEY and TESSERA_MASTER_KEY_FILE are both set: give the master keys one way"
            ),
            (Some(_), None) => Ok(Self::Environment),
            (None, Some(path)) => Ok(Self::OperatorFile(path.clone())),
            (None, None) => Ok(Self::DataDir(config.data_dir.join(FILE_NAME))),
        }
    }

    /// The file the keys are in, if they are in one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::Environment => None,
            Self::OperatorFile(p) | Self::DataDir(p) => Some(p),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => f.write_str("TESSERA_MASTER_KEY"),
            Self::OperatorFile(p) => write!(f, "TESSERA_MASTER_KEY_FILE ({})", p.display()),
            Self::DataDir(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The master keys of a configuration, and whether this call made the data directory's file.
pub struct Loaded {
    pub keys: MasterKeys,
    pub source: Source,
    /// The data directory's file was made by this call (it is removed if the store refuses it).
    pub created: bool,
}

/// Reads a key file.
pub fn read_file(path: &Path) -> anyhow::Result<Keyring> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the master keys from {}", path.display()))?;
    Keyring::parse(&text).map_err(|e| anyhow::anyhow!("the master keys in {}: {e}", path.display()))
}

fn reloading(ring: Keyring, path: &Path) -> MasterKeys {
    let path = path.to_owned();
    MasterKeys::reloading(ring, move || read_file(&path).map_err(|e| format!("{e:#}")))
}

/// Loads the master keys; on first start with neither variable set, makes the data directory's
/// `master-key` file.
pub fn load(config: &Config) -> anyhow::Result<Loaded> {
    let source = Source::of(config)?;
    let (keys, created) = match &source {
        Source::Environment => {
            let ring = config.master_keys.clone().unwrap_or_else(|| {
                unreachable!("Source::Environment only when master_keys is set")
            });
            (MasterKeys::new(ring), false)
        }
        Source::OperatorFile(path) => (reloading(read_file(path)?, path), false),
        Source::DataDir(path) => {
            let ring = Keyring::new(vec![MasterKey::generate()]).map_err(anyhow::Error::msg)?;
            match secret_file::create_new(path, &ring.encode()) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), kid = ring.sealing_kid(), "generated the master key: back it up, the database's secrets cannot be read without it");
                    (reloading(ring, path), true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    (reloading(read_file(path)?, path), false)
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("writing the master key to {}", path.display()));
                }
            }
        }
    };
    if let Some(path) = source.file()
        && secret_file::readable_by_others(path)
    {
        tracing::warn!(path = %path.display(), "the master key file is readable by others than its owner (chmod 600 it)");
    }
    Ok(Loaded {
        keys,
        source,
        created,
    })
}

/// Opens the configuration's database with its master keys (see the module's description).
pub async fn open_store(config: &Config, options: StoreOptions) -> anyhow::Result<Store> {
    let loaded = load(config)?;
    let clock: tessera_core::SharedClock = Arc::new(tessera_core::SystemClock);
    match Store::open(&config.database_url, clock, loaded.keys, options).await {
        Ok(store) => Ok(store),
        Err(e) => {
            if loaded.created
                && let Some(path) = loaded.source.file()
            {
                // Made for a database it cannot open: leave nothing behind.
                let _ = std::fs::remove_file(path);
            }
            Err(e).with_context(|| {
                format!(
                    "opening {} with the master keys of {}",
                    config.database_url, loaded.source
                )
            })
        }
    }
}
