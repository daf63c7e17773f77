//! Keys: the master keys that seal secrets at rest ([`sealing`]) and the instance's signing key
//! pairs, published as a JWKS ([`identity`]). Pure: key bytes come in from the caller (the server
//! reads the master key file; the store keeps the sealed signing keys), nothing here does I/O.

pub mod identity;
pub mod peer;
pub mod sealing;

pub use identity::{Algorithm, InstanceKey, Jwk, ec_thumbprint, jwk_thumbprint};
pub use sealing::{Keyring, MasterKey, OpenError, sealed_kid};
