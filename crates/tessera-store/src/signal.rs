//! The worker's signal that new jobs may be due. A unit of work that enqueues a job wakes this
//! process's worker when it commits (a local notification); on PostgreSQL it also announces the
//! job with `NOTIFY` on the store's channel, which the signal of every other process `LISTEN`s
//! to. Jobs scheduled for later, and announcements lost while a connection was down, are found by
//! polling: the signal also fires after the poll interval.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;

/// Resolves, again and again, when new jobs may be due (see [`crate::Store::job_signal`]). On
/// PostgreSQL it holds one of the pool's connections: drop it before [`crate::Store::close`].
pub struct JobSignal {
    local: Arc<Notify>,
    /// PostgreSQL: the connection listening for other processes' announcements, if it could be
    /// made (without it, other processes' jobs are found by polling).
    listener: Option<PgListener>,
    poll: Duration,
}

impl std::fmt::Debug for JobSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSignal")
            .field("listening", &self.listener.is_some())
            .field("poll", &self.poll)
            .finish()
    }
}

impl JobSignal {
    /// Resolves when a unit of work of this process enqueued a job, when another process
    /// announced one (PostgreSQL), or after the poll interval, whichever comes first.
    pub async fn next(&mut self) {
        let poll = self.poll;
        let local = tokio::time::timeout(poll, self.local.notified());
        match &mut self.listener {
            Some(listener) => {
                let remote = async {
                    if listener.recv().await.is_err() {
                        // The connection dropped: poll until it is back.
                        tokio::time::sleep(poll).await;
                    }
                };
                tokio::select! {
                    _ = local => {}
                    () = remote => {}
                }
            }
            None => {
                let _ = local.await;
            }
        }
    }
}

impl JobSignal {
    /// The signal of a store whose units wake `local`, listening on PostgreSQL's `channel` of
    /// `pool` when there is one (see [`crate::Store::job_signal`]).
    pub(crate) async fn new(
        local: Arc<Notify>,
        postgres: Option<(&sqlx::PgPool, &str)>,
        poll: Duration,
    ) -> Self {
        let listener = match postgres {
            None => None,
            Some((pool, channel)) => listen(pool, channel).await,
        };
        JobSignal {
            local,
            listener,
            poll,
        }
    }
}

async fn listen(pool: &sqlx::PgPool, channel: &str) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for jobs; polling instead");
            return None;
        }
    };
    if let Err(e) = listener.listen(channel).await {
        tracing::warn!(error = %e, "cannot listen for jobs; polling instead");
        return None;
    }
    Some(listener)
}
