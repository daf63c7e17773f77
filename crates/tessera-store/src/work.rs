//! Work values: what the store's API ([`crate::units`]) hands out and [`crate::Store`] runs.
//!
//! A [`Write`] is one unit of work: one transaction holding the change, its events, the jobs
//! they cause and (for an idempotent request) the stored response. A [`Read`] runs on a reader
//! connection. Both are built only inside this crate, over a transaction callers never see: a
//! caller may transform a unit's result ([`Write::map`]) or veto its commit
//! ([`Write::check`]), never reach into its transaction.

use futures::FutureExt;
use tessera_core::Error;
use tessera_core::workflow::Cause;

use crate::Unit;
use crate::tx::Tx;

/// A unit of work that writes: run it with [`crate::Store::write`].
#[must_use = "a unit of work does nothing until the store runs it"]
pub struct Write<T>(pub(crate) Unit<T>);

/// A read-only unit of work: run it with [`crate::Store::read`].
#[must_use = "a read does nothing until the store runs it"]
pub struct Read<T>(pub(crate) Unit<T>);

impl<T: Send + 'static> Write<T> {
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: for<'c> FnOnce(&'c mut Tx) -> futures::future::BoxFuture<'c, Result<T, Error>>
            + Send
            + 'static,
    {
        Self(Box::new(f))
    }

    /// Runs inside another unit's transaction (units built from units).
    pub(crate) async fn run(self, tx: &mut Tx) -> Result<T, Error> {
        (self.0)(tx).await
    }

    /// The same unit, its result transformed (inside the transaction, before the commit).
    pub fn map<U: Send + 'static>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Write<U> {
        Write::new(move |tx| Box::pin(self.run(tx).map(|r| r.map(f))))
    }

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

impl<T: Send + 'static> Read<T> {
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: for<'c> FnOnce(&'c mut Tx) -> futures::future::BoxFuture<'c, Result<T, Error>>
            + Send
            + 'static,
    {
        Self(Box::new(f))
    }

    pub(crate) async fn run(self, tx: &mut Tx) -> Result<T, Error> {
        (self.0)(tx).await
    }

    /// The same read, its result transformed.
    pub fn map<U: Send + 'static>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Read<U> {
        Read::new(move |tx| Box::pin(self.run(tx).map(|r| r.map(f))))
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
