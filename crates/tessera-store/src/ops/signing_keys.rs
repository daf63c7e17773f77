//! The instance's identity: its id (made once, kept) and its signing keys — Ed25519 or ECDSA
//! P-256 key pairs (the `algorithm` column: `EdDSA` or `ES256`) whose private halves (the
//! Ed25519 seed, or the P-256 scalar; 32 bytes either way) are sealed under the master key. One key is active (it signs); a rotation
//! retires it and makes a new one; retired keys stay published so what they signed still
//! verifies.

use tessera_core::keys::InstanceKey;
use tessera_core::keys::identity::{Algorithm, Jwk, stored_public_jwk};
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::ops::sealed::SIGNING_KEY;
use crate::tx::{Row, Tx};

/// A signing key as published: its public half, status and dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub jwk: Jwk,
    pub algorithm: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

/// The active signing key, private half opened, for signing.
#[derive(Debug)]
pub struct ActiveKey {
    pub kid: String,
    pub key: InstanceKey,
}

/// The instance's id: `ins_` and random characters, made once.
pub(crate) async fn instance_id(tx: &mut Tx) -> Result<String, Error> {
    let now = tx.now();
    let fresh = format!("ins_{}", tessera_core::id::random_base62(24));
    tx.execute(
        "insert into instance (id, instance_id, created_at) values (1, $1, $2) on conflict do nothing",
        args![fresh, now],
    )
    .await?;
    read_instance_id(tx)
        .await?
        .ok_or_else(|| Error::internal(std::io::Error::other("the instance id was not stored")))
}

/// The instance's id, if it has been made.
pub(crate) async fn read_instance_id(tx: &mut Tx) -> Result<Option<String>, Error> {
    let row = tx
        .fetch_optional("select instance_id from instance where id = 1", args![])
        .await?;
    row.map(|r| r.text("instance_id")).transpose()
}

fn published(r: &Row) -> Result<PublishedKey, Error> {
    let algorithm = r.text("algorithm")?;
    let jwk = stored_public_jwk(&algorithm, &r.text("public_key")?)
        .map_err(|e| Error::internal(std::io::Error::other(e)))?;
    if jwk.kid != r.text("kid")? {
        return Err(Error::internal(std::io::Error::other(
            "a signing key's kid is not its thumbprint",
        )));
    }
    Ok(PublishedKey {
        jwk,
        algorithm,
        active: r.text("status")? == "active",
        created_at: r.time("created_at")?,
        retired_at: r.opt_time("retired_at")?,
    })
}

/// Every signing key, newest first.
pub(crate) async fn published_keys(tx: &mut Tx) -> Result<Vec<PublishedKey>, Error> {
    tx.fetch_all(
        "select kid, algorithm, public_key, status, created_at, retired_at from signing_keys order by seq desc",
        args![],
    )
    .await?
    .iter()
    .map(published)
    .collect()
}

async fn insert(tx: &mut Tx, algorithm: Algorithm) -> Result<String, Error> {
    let key = InstanceKey::generate_with(algorithm);
    let kid = key.kid();
    let sealed = tx
        .keys()
        .seal(&SIGNING_KEY.purpose(&kid), key.private_bytes().as_ref());
    tx.execute(
        "insert into signing_keys (kid, algorithm, public_key, private_key, status, created_at) values ($1, $2, $3, $4, 'active', $5)",
        args![&kid, key.algorithm(), key.public_stored(), sealed, tx.now()],
    )
    .await?;
    Ok(kid)
}

/// Makes the instance's id and first signing key (of `algorithm`) unless they exist; returns the
/// active kid. An existing key stays, whatever its algorithm.
pub(crate) async fn ensure(tx: &mut Tx, algorithm: Algorithm) -> Result<String, Error> {
    instance_id(tx).await?;
    let row = tx
        .fetch_optional(
            "select kid from signing_keys where status = 'active'",
            args![],
        )
        .await?;
    match row {
        Some(r) => r.text("kid"),
        None => insert(tx, algorithm).await,
    }
}

/// Retires the active signing key (if any) and makes a new active one of `algorithm`; returns its
/// kid.
pub(crate) async fn rotate(tx: &mut Tx, algorithm: Algorithm) -> Result<String, Error> {
    instance_id(tx).await?;
    tx.execute(
        "update signing_keys set status = 'retired', retired_at = $1 where status = 'active'",
        args![tx.now()],
    )
    .await?;
    insert(tx, algorithm).await
}

/// The active signing key with its private half, or `None` before the first one is made.
pub(crate) async fn active(tx: &mut Tx) -> Result<Option<ActiveKey>, Error> {
    let Some(r) = tx
        .fetch_optional(
            "select kid, algorithm, private_key from signing_keys where status = 'active'",
            args![],
        )
        .await?
    else {
        return Ok(None);
    };
    let kid = r.text("kid")?;
    let stored = r.text("private_key")?;
    let seed = tx.keys().open(&SIGNING_KEY.purpose(&kid), &stored)?;
    let key = r
        .text("algorithm")?
        .parse::<Algorithm>()
        .and_then(|algorithm| InstanceKey::from_stored(algorithm, &seed))
        .map_err(|e| Error::internal(std::io::Error::other(e)))?;
    if key.kid() != kid {
        return Err(Error::internal(std::io::Error::other(
            "the active signing key's private half does not match its kid",
        )));
    }
    Ok(Some(ActiveKey { kid, key }))
}
