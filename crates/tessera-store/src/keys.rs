//! The master keys a store seals secrets with ([`MasterKeys`]): a [`Keyring`] shared by every
//! unit of work, which can be reloaded from where it came from when a value sealed under a key it
//! does not hold turns up (another process rotated the master key: this one learns the new key
//! without a restart, so a rotation needs no downtime).
//!
//! Units seal with [`crate::tx::Tx::seal`] and open with [`crate::tx::Row::sealed_text`]; the
//! purpose string binds a sealed value to its row and column (see `tessera_core::keys::sealing`).

use std::sync::{Arc, RwLock};

use tessera_core::Error;
use tessera_core::keys::{Keyring, OpenError};
use zeroize::Zeroizing;

type Reload = dyn Fn() -> Result<Keyring, String> + Send + Sync;

/// The store's master keys: cheap to clone.
#[derive(Clone)]
pub struct MasterKeys {
    ring: Arc<RwLock<Arc<Keyring>>>,
    reload: Option<Arc<Reload>>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("kids", &self.current().kids())
            .finish()
    }
}

impl MasterKeys {
    /// A fixed keyring.
    pub fn new(ring: Keyring) -> Self {
        Self {
            ring: Arc::new(RwLock::new(Arc::new(ring))),
            reload: None,
        }
    }

    /// A keyring that `reload` reads again when a value is sealed under a key it lacks.
    pub fn reloading(
        ring: Keyring,
        reload: impl Fn() -> Result<Keyring, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            reload: Some(Arc::new(reload)),
            ..Self::new(ring)
        }
    }

    /// The keyring in use now.
    pub fn current(&self) -> Arc<Keyring> {
        match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Seals `plaintext` for `purpose` under the sealing key.
    pub(crate) fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        self.current().seal(purpose, plaintext)
    }

    /// Opens a value sealed for `purpose`. A value stored before sealing existed (not in the
    /// sealed format) is returned as it is: the store seals those when it opens.
    pub(crate) fn open(&self, purpose: &str, stored: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self.current().open(purpose, stored) {
            Ok(v) => Ok(v),
            Err(OpenError::NotSealed) => Ok(Zeroizing::new(stored.as_bytes().to_vec())),
            Err(OpenError::UnknownKey(kid)) => {
                let ring = self.reloaded(&kid)?;
                ring.open(purpose, stored).map_err(|e| refused(purpose, e))
            }
            Err(e) => Err(refused(purpose, e)),
        }
    }

    /// Opens a sealed UTF-8 secret (see [`MasterKeys::open`]).
    pub(crate) fn open_text(&self, purpose: &str, stored: &str) -> Result<String, Error> {
        String::from_utf8(self.open(purpose, stored)?.to_vec())
            .map_err(|_| refused(purpose, OpenError::Tampered))
    }

    /// Reads the keyring again (when it may have gained `kid`); keeps it if it did.
    fn reloaded(&self, kid: &str) -> Result<Arc<Keyring>, Error> {
        let unknown = || refused("a secret", OpenError::UnknownKey(kid.to_owned()));
        let Some(reload) = &self.reload else {
            return Err(unknown());
        };
        let ring = reload().map_err(|e| {
            Error::internal(std::io::Error::other(format!(
                "reading the master keys again: {e}"
            )))
        })?;
        if !ring.contains(kid) {
            return Err(unknown());
        }
        let ring = Arc::new(ring);
        if let Ok(mut slot) = self.ring.write() {
            *slot = ring.clone();
        }
        tracing::info!(
            kid,
            sealing = ring.sealing_kid(),
            "reloaded the master keys"
        );
        Ok(ring)
    }
}

fn refused(purpose: &str, e: OpenError) -> Error {
    Error::internal(std::io::Error::other(format!("{purpose}: {e}")))
}
