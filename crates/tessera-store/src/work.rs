//! Work values: what the store's API ([`crate::units`]) hands out and [`crate::Store`] runs.
//!
//! A [`Write`] is one unit of work: one transaction holding the change, its events, the jobs
//! they cause and (for an idempotent request) the stored response. A [`Read`] runs on a reader
//! connection. Both are built only inside this crate, over a transaction callers never see: a
//! caller may transform a unit's result ([`Write::map`]) or veto its commit
//! ([`Write::check`]), never reach into its transaction.

use std::marker::PhantomData;

use futures::FutureExt;
use futures::future::BoxFuture;
use tessera_core::Error;
use tessera_core::workflow::Cause;

use crate::tx::{Tx, Unit};

/// A unit of work of kind `K` ([`Writes`] or [`Reads`]) that yields a `T`.
#[must_use = "a unit of work does nothing until the store runs it"]
pub struct Work<K, T> {
    pub(crate) body: Unit<T>,
    kind: PhantomData<fn() -> K>,
}

/// The kind of a unit that writes: one transaction, committed by [`crate::Store::write`].
pub enum Writes {}

/// The kind of a unit that only reads, on a reader connection ([`crate::Store::read`]).
pub enum Reads {}

/// A unit of work that writes: run it with [`crate::Store::write`].
pub type Write<T> = Work<Writes, T>;

/// A read-only unit of work: run it with [`crate::Store::read`].
pub type Read<T> = Work<Reads, T>;

impl<K, T: Send + 'static> Work<K, T> {
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T, Error>> + Send + 'static,
    {
        Self {
            body: Box::new(f),
            kind: PhantomData,
        }
    }

    /// Runs inside another unit's transaction (units built from units).
    pub(crate) async fn run(self, tx: &mut Tx) -> Result<T, Error> {
        (self.body)(tx).await
    }

    /// The same unit, its result transformed (for a write: inside the transaction, before the
    /// commit).
    pub fn map<U: Send + 'static>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Work<K, U> {
        let body = self.body;
        Work::new(move |tx| Box::pin(body(tx).map(|r| r.map(f))))
    }
}

impl<K, T: Send + 'static> Work<K, T> {
    /// The same unit, and — in its transaction, when `wanted` (`include=inquiry`) — the inquiry
    /// its result belongs to (`inquiry_of`), read in `scope`.
    pub(crate) fn with_parent_inquiry(
        self,
        scope: tessera_core::tenancy::Scope,
        wanted: bool,
        inquiry_of: fn(&T) -> &tessera_core::id::InquiryId,
    ) -> Work<K, (T, Option<tessera_core::inquiry::Inquiry>)> {
        let body = self.body;
        Work::new(move |tx| {
            Box::pin(async move {
                let value = body(tx).await?;
                let inquiry =
                    crate::ops::related::parent_inquiry(tx, &scope, inquiry_of(&value), wanted)
                        .await?;
                Ok((value, inquiry))
            })
        })
    }
}

impl<T: Send + 'static> Write<T> {
    /// The same unit, rolled back when `check` refuses its result: nothing of it is committed.
    pub fn check(self, check: impl FnOnce(&T) -> Result<(), Error> + Send + 'static) -> Self {
        Write::new(move |tx| {
            Box::pin(async move {
                let value = self.run(tx).await?;
                check(&value)?;
                Ok(value)
            })
        })
    }

    /// The same unit acting for a step of a workflow run: the events it emits carry the run's
    /// cause, so they never start the run's own workflow and chains stay bounded.
    pub fn acting_for(self, cause: Option<Cause>) -> Self {
        Write::new(move |tx| {
            Box::pin(async move {
                tx.set_cause(cause);
                self.run(tx).await
            })
        })
    }
}

/// Declares units of work that are one call of an `ops` function: `Read`/`Write`, the public
/// name and owned arguments, the result, and how the op is called (`tx` is passed first).
macro_rules! units {
    ($op:ident; $( $(#[$m:meta])* $kind:ident $name:ident ( $($arg:ident : $ty:ty),* ) -> $out:ty = $call:ident ( $($e:expr),* ); )*) => {
        $(
            $(#[$m])*
            pub fn $name($($arg: $ty),*) -> $crate::work::$kind<$out> {
                $crate::work::$kind::new(move |tx| Box::pin(async move { $op::$call(tx, $($e),*).await }))
            }
        )*
    };
}
pub(crate) use units;

#[cfg(all(test, feature = "testing"))]
mod tests {
    use tessera_core::id::{WorkflowId, WorkflowRunId};
    use tessera_core::workflow::Cause;

    use super::Write;
    use crate::testing::{Backend, TestDb};

    /// A unit never sees what another unit set on its `Tx`: on SQLite many units share one
    /// transaction (group commit), and a unit inheriting the workflow run another acted for would
    /// not start that run's workflow from its own events (found by the crash loop).
    async fn a_unit_does_not_inherit_another_units_cause(backend: Backend) {
        let db = TestDb::new(backend).await;
        let mut handles = Vec::new();
        for i in 0..64 {
            let store = db.store.clone();
            handles.push(tokio::spawn(async move {
                let sees = Write::new(|tx| Box::pin(async move { Ok(tx.cause().is_some()) }));
                let unit = if i % 2 == 0 {
                    sees.acting_for(Some(Cause {
                        workflow_id: WorkflowId::from_db("wfl_test".into()),
                        run_id: WorkflowRunId::from_db("wfr_test".into()),
                        chain: "chain".into(),
                        depth: 1,
                    }))
                    .map(|_| false)
                } else {
                    sees
                };
                store.write(unit).await.unwrap_or_else(|e| panic!("{e}"))
            }));
        }
        for h in handles {
            assert!(
                !h.await.unwrap_or_else(|e| panic!("{e}")),
                "a unit started with another unit's cause"
            );
        }
    }

    crate::on_both_backends!(a_unit_does_not_inherit_another_units_cause);
}
