//! Units of work on the secrets at rest and the instance's identity: sealing secrets stored in
//! the clear and refusing a keyring that lacks a key in use (when the store opens), sealing again
//! under a new master key (a rotation, in batches), the instance id, and its signing keys — made
//! at first start, rotated, published, and the active one handed out for signing.

pub use crate::ops::sealed::SealReport;
pub use crate::ops::signing_keys::{ActiveKey, PublishedKey};

use std::collections::BTreeMap;

pub use tessera_core::keys::Algorithm;

use crate::ops::{sealed, signing_keys as op};

crate::work::units! { sealed;
    /// Refuses (writing nothing) when a secret is sealed under a master key the store lacks;
    /// else seals every secret stored in the clear. [`crate::Store::open`] runs it.
    Write seal_at_rest() -> SealReport = seal_at_rest();
    /// Seals up to `limit` secrets not yet under the sealing key; returns how many (0: done).
    Write reseal(limit: i64) -> u64 = reseal(limit);
    /// How many stored secrets each master key seals (`""`: in the clear).
    Read kids_in_use() -> BTreeMap<String, i64> = kids_in_use();
}

crate::work::units! { op;
    /// Makes the instance id and the first signing key (of `algorithm`) unless they exist;
    /// returns the active kid.
    Write ensure_identity(algorithm: Algorithm) -> String = ensure(algorithm);
    /// Retires the active signing key and makes a new active one of `algorithm`; returns the new
    /// kid.
    Write rotate_signing_key(algorithm: Algorithm) -> String = rotate(algorithm);
    /// Every signing key (active and retired), newest first: the JWKS.
    Read published_keys() -> Vec<PublishedKey> = published_keys();
    /// The instance id, if made.
    Read instance_id() -> Option<String> = read_instance_id();
    /// The active signing key, its private half opened, for signing.
    Read active_signing_key() -> Option<ActiveKey> = active();
}
