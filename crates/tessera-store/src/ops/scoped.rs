//! The scoped fetch, written once: one row by id, only if the caller may see it, else 404 (an id
//! alone never finds another tenant's object). Each aggregate describes its table in a
//! [`Table`] constant; the statement is the same text it always was.

use tessera_core::Error;
use tessera_core::tenancy::Scope;

use super::lock;
use crate::sql::Arg;
use crate::tx::{Row, Tx};

/// A row is visible when it belongs to the caller's environment.
pub(crate) const IN_ENVIRONMENT: &str = "environment_id = $2";
/// A row is visible to both sides of a connection (the source and the destination environment).
pub(crate) const ON_EITHER_SIDE: &str = "(source_env = $2 or destination_env = $2)";

/// Where one kind of object is stored, and who may see a row of it.
pub(crate) struct Table<T> {
    /// The table selected from.
    pub table: &'static str,
    /// The columns `from_row` reads.
    pub columns: &'static str,
    /// When the caller may see a row, `$2` standing for the caller's environment
    /// ([`IN_ENVIRONMENT`] or [`ON_EITHER_SIDE`]).
    pub visible: &'static str,
    /// What a 404 calls one ("no such …").
    pub noun: &'static str,
    pub from_row: fn(&Row) -> Result<T, Error>,
}

impl<T> Table<T> {
    /// The object `id` if the caller may see it, or 404.
    pub(crate) async fn get(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        id: impl Into<Arg>,
    ) -> Result<T, Error> {
        self.fetch(tx, Some(scope), id.into(), false).await
    }

    /// The same, locked for the rest of the unit of work.
    pub(crate) async fn get_for_update(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        id: impl Into<Arg>,
    ) -> Result<T, Error> {
        self.fetch(tx, Some(scope), id.into(), true).await
    }

    /// The object `id` by id alone, or 404 (background work that already knows it is allowed).
    pub(crate) async fn get_unscoped(&self, tx: &mut Tx, id: impl Into<Arg>) -> Result<T, Error> {
        self.fetch(tx, None, id.into(), false).await
    }

    /// The same, locked for the rest of the unit of work.
    pub(crate) async fn get_unscoped_for_update(
        &self,
        tx: &mut Tx,
        id: impl Into<Arg>,
    ) -> Result<T, Error> {
        self.fetch(tx, None, id.into(), true).await
    }

    async fn fetch(
        &self,
        tx: &mut Tx,
        scope: Option<&Scope>,
        id: Arg,
        for_update: bool,
    ) -> Result<T, Error> {
        let suffix = if for_update { lock(tx) } else { "" };
        let (columns, table) = (self.columns, self.table);
        let row = match scope {
            Some(scope) => {
                let visible = self.visible;
                tx.fetch_optional(
                    &format!("select {columns} from {table} where id = $1 and {visible}{suffix}"),
                    vec![id, Arg::from(&scope.env)],
                )
                .await?
            }
            None => {
                tx.fetch_optional(
                    &format!("select {columns} from {table} where id = $1{suffix}"),
                    vec![id],
                )
                .await?
            }
        };
        (self.from_row)(&row.ok_or_else(|| Error::not_found(self.noun))?)
    }
}
