//! Secrets at rest: which columns hold sealed secrets, the purpose each value is sealed for (its
//! table, column and row, so a value moved to another row does not open), and the sweeps over
//! all of them — which master keys seal them, sealing the ones stored in the clear, and sealing
//! again under the newest key during a rotation.
//!
//! Reading and writing a secret is the owning op's job (`webhooks`, `workflow_definitions`,
//! `signing_keys`) through `Tx::seal` and `Row::sealed_text`, with the purpose made here.

use std::collections::BTreeMap;

use tessera_core::Error;
use tessera_core::keys::sealed_kid;

use crate::args;
use crate::tx::Tx;

/// A column holding a sealed secret.
pub(crate) struct SealedColumn {
    pub table: &'static str,
    /// The column naming the row (part of the purpose).
    pub id: &'static str,
    pub column: &'static str,
}

/// A webhook's signing secret.
pub(crate) const WEBHOOK_SECRET: SealedColumn = SealedColumn {
    table: "webhooks",
    id: "id",
    column: "secret",
};
/// A webhook's rotated-out secret, while it still signs.
pub(crate) const WEBHOOK_PREVIOUS_SECRET: SealedColumn = SealedColumn {
    table: "webhooks",
    id: "id",
    column: "previous_secret",
};
/// A workflow's signing secret (for `http-request` steps).
pub(crate) const WORKFLOW_SECRET: SealedColumn = SealedColumn {
    table: "workflows",
    id: "id",
    column: "secret",
};
/// The instance's signing private keys.
pub(crate) const SIGNING_KEY: SealedColumn = SealedColumn {
    table: "signing_keys",
    id: "kid",
    column: "private_key",
};

/// Every sealed column.
pub(crate) const ALL: [SealedColumn; 4] = [
    WEBHOOK_SECRET,
    WEBHOOK_PREVIOUS_SECRET,
    WORKFLOW_SECRET,
    SIGNING_KEY,
];

impl SealedColumn {
    /// Writes `new` into row `id`'s column only if it still holds `old` (so a concurrent sweep or
    /// a change in between is left alone); returns how many rows changed (0 or 1).
    async fn replace(&self, tx: &mut Tx, id: &str, old: &str, new: String) -> Result<u64, Error> {
        tx.execute(
            &format!(
                "update {table} set {col} = $1 where {id} = $2 and {col} = $3",
                table = self.table,
                col = self.column,
                id = self.id
            ),
            args![new, id, old],
        )
        .await
    }

    /// What a value of this column in row `id` is sealed for: `<table>.<column>:<id>`.
    pub(crate) fn purpose(&self, id: &str) -> String {
        format!("{}.{}:{id}", self.table, self.column)
    }
}

/// How many stored secrets each master key seals (`""`: stored in the clear).
pub(crate) async fn kids_in_use(tx: &mut Tx) -> Result<BTreeMap<String, i64>, Error> {
    let mut out = BTreeMap::new();
    for c in ALL {
        let rows = tx
            .fetch_all(
                &format!(
                    "select {col} as v from {table} where {col} is not null",
                    col = c.column,
                    table = c.table
                ),
                args![],
            )
            .await?;
        for r in rows {
            let v = r.text("v")?;
            *out.entry(sealed_kid(&v).unwrap_or_default().to_owned())
                .or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Seals, under the sealing key, up to `limit` stored secrets that are not sealed under it (in
/// the clear, or under an older master key); returns how many. A value is replaced only if it is
/// still the one read (compare-and-set), so a concurrent change wins.
pub(crate) async fn reseal(tx: &mut Tx, limit: i64) -> Result<u64, Error> {
    let ring = tx.keys().current();
    let current = format!("v1:{}:%", ring.sealing_kid());
    let mut done = 0u64;
    for c in ALL {
        let left = limit - done as i64;
        if left <= 0 {
            break;
        }
        let rows = tx
            .fetch_all(
                &format!(
                    "select {id} as id, {col} as v from {table} where {col} is not null and {col} not like $1 limit $2",
                    id = c.id,
                    col = c.column,
                    table = c.table
                ),
                args![current.clone(), left],
            )
            .await?;
        for r in rows {
            let id = r.text("id")?;
            let stored = r.text("v")?;
            let purpose = c.purpose(&id);
            let plain = tx.keys().open(&purpose, &stored)?;
            let sealed = tx.keys().seal(&purpose, &plain);
            done += c.replace(tx, &id, &stored, sealed).await?;
        }
    }
    Ok(done)
}

/// What the store found when it opened: the master keys its secrets need that it lacks (nothing
/// was written then), or how many secrets in the clear it sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealReport {
    pub missing_kids: Vec<String>,
    pub sealed: u64,
}

/// Refuses (writing nothing) when a secret is sealed under a master key the store lacks; else
/// seals every secret stored in the clear. Secrets under an older key the keyring still holds
/// stay as they are (a rotation seals them again).
pub(crate) async fn seal_at_rest(tx: &mut Tx) -> Result<SealReport, Error> {
    let ring = tx.keys().current();
    let missing_kids: Vec<String> = kids_in_use(tx)
        .await?
        .into_keys()
        .filter(|k| !k.is_empty() && !ring.contains(k))
        .collect();
    if !missing_kids.is_empty() {
        return Ok(SealReport {
            missing_kids,
            sealed: 0,
        });
    }
    let mut sealed = 0;
    for c in ALL {
        let rows = tx
            .fetch_all(
                &format!(
                    "select {id} as id, {col} as v from {table} where {col} is not null and {col} not like 'v1:%'",
                    id = c.id,
                    col = c.column,
                    table = c.table
                ),
                args![],
            )
            .await?;
        for r in rows {
            let (id, plain) = (r.text("id")?, r.text("v")?);
            let value = tx.seal(&c.purpose(&id), &plain);
            sealed += c.replace(tx, &id, &plain, value).await?;
        }
    }
    Ok(SealReport {
        missing_kids: Vec::new(),
        sealed,
    })
}
