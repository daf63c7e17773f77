//! Tessera's server-to-server messages between instances (issue #17): pure functions, no I/O, no
//! store. Depends on nothing of ours; used by tessera-api (receiving) and tessera-worker (sending).
//!
//! [`signature`] signs and verifies a request with RFC 9421 HTTP Message Signatures (Ed25519),
//! binding its method, target URI, body (RFC 9530 `content-digest`), date and sending instance.

pub mod signature;
