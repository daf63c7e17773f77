//! The background worker: claims due jobs from the queue and runs them (redemptions, webhook
//! deliveries, workflow runs, notices of source changes, share-token batches), and does housekeeping (the share-token expiry sweep,
//! idempotency-record purge, old workflow chain budgets, queue and peer-health metrics).
//!
//! Jobs run concurrently up to a bound, each in its own task, so a slow job never holds back the
//! others. A job's handler deletes its row in the same unit of work as its effect; a handler that
//! fails (or a row that cannot be read as a [`Job`]) leaves the row to be retried on the
//! [`retry::INTERNAL_JOB`] policy, and after its last attempt the job is given up.
//!
//! Below the server and beside the faces: it depends on `tessera-core`, `tessera-store` and
//! `tessera-outbound` only, never on the HTTP edge, the API or the dashboard. What it needs of
//! the server's configuration comes in [`Settings`].

mod batch;
mod deliver;
mod federation;
mod notify;
mod redeem;
mod signed_post;
mod workflow;

pub use deliver::PER_ENDPOINT;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tessera_core::Error;
use tessera_core::id::random_base62;
use tessera_core::job::Job;
use tessera_core::retry::{self, RetryPolicy};
use tessera_outbound::OutboundClient;
use tessera_store::Store;
use tessera_store::units::jobs::{self, Claimed};
use tessera_store::units::peers::{self, PeerHealth};
use tessera_store::units::{idempotency, inquiries, sessions, share_tokens, workflow_triggers};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Jobs a worker holds at once (claimed and running, or waiting for their endpoint).
pub const CONCURRENCY: usize = 128;
/// How long the run budget of a chain of workflow runs is remembered.
const CHAIN_MEMORY_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// How often the worker looks for due work when nothing woke it.
const POLL: Duration = Duration::from_millis(500);

/// Deliberate failures, for tests that prove crash recovery.
#[derive(Debug, Default)]
pub struct Faults {
    /// Fail this many redemptions after the copy is staged, before it commits.
    pub fail_redemptions_after_copy: AtomicU32,
    /// Fail this many workflow steps after their effect and record are staged, before they
    /// commit...
    pub fail_workflow_steps_after_effect: AtomicU32,
    /// ...once this many steps have committed normally.
    pub workflow_steps_before_fault: AtomicU32,
    /// Fail this many source-change notices after the copy is marked, before it commits.
    pub fail_source_notices: AtomicU32,
}

impl Faults {
    fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// The retry policies a worker uses (the outbound ones scaled by configuration).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicies {
    /// Webhook deliveries.
    pub deliveries: RetryPolicy,
    /// Workflow `http-request` steps.
    pub http_steps: RetryPolicy,
    /// A job whose handler failed.
    pub failures: RetryPolicy,
}

impl RetryPolicies {
    /// Tessera's policies, the outbound schedules multiplied by `scale`
    /// (`TESSERA_WEBHOOK_RETRY_SCALE`).
    pub fn scaled(scale: f64) -> Self {
        Self {
            deliveries: retry::WEBHOOK_DELIVERY.with_scale(scale),
            http_steps: retry::WORKFLOW_HTTP_STEP.with_scale(scale),
            failures: retry::INTERNAL_JOB,
        }
    }
}

/// What a worker needs of the server's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The retry policies (`TESSERA_WEBHOOK_RETRY_SCALE` scales the outbound ones).
    pub retry: RetryPolicies,
    /// How long a claimed job belongs to this worker (`TESSERA_WORKER_LEASE_MS`).
    pub lease_ms: i64,
    /// How long dashboard sessions last (ended ones are purged).
    pub sessions: sessions::Lifetimes,
}

/// A worker of one process.
#[derive(Clone)]
pub struct Worker {
    store: Store,
    id: String,
    outbound: OutboundClient,
    /// The client for peer instances (its own allow-list), when federation is set up.
    peer_outbound: Option<OutboundClient>,
    retry: RetryPolicies,
    lease_ms: i64,
    /// How long dashboard sessions last (ended ones are purged).
    sessions: sessions::Lifetimes,
    /// Attempts in flight per webhook (see `deliver::PER_ENDPOINT`).
    endpoints: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    pub faults: Arc<Faults>,
}

impl Worker {
    pub fn new(store: Store, outbound: OutboundClient, settings: Settings) -> Self {
        Self {
            store,
            id: format!("worker_{}", random_base62(12)),
            outbound,
            peer_outbound: None,
            retry: settings.retry,
            lease_ms: settings.lease_ms,
            sessions: settings.sessions,
            endpoints: Arc::new(Mutex::new(HashMap::new())),
            faults: Arc::new(Faults::default()),
        }
    }

    /// The worker sends messages to peer instances through `client` (the peers' allow-list).
    pub fn with_peer_outbound(mut self, client: OutboundClient) -> Self {
        self.peer_outbound = Some(client);
        self
    }

    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>, Error> {
        let limit = i64::try_from(limit).unwrap_or(1);
        self.store
            .write(jobs::claim(self.id.clone(), self.lease_ms, limit))
            .await
    }

    /// Runs one claimed job and records a failure for retry.
    async fn run_job(&self, job: Claimed) {
        let kind = job.kind.clone();
        let result = match &job.job {
            Ok(Job::RedeemShareToken(p)) => redeem::run(self, &job.id, p).await,
            Ok(Job::DeliverWebhook(p)) => deliver::run(self, &job.id, p).await,
            Ok(Job::RunWorkflow(p)) => workflow::run(self, &job.id, p).await,
            Ok(Job::NotifySourceChange(p)) => notify::run(self, &job.id, p).await,
            Ok(Job::ProcessShareTokenBatch(p)) => batch::run(self, &job.id, p).await,
            Ok(Job::SendPeerMessage(p)) => federation::run(self, &job.id, p).await,
            // An unknown kind or an unreadable payload: failed like any job, and buried after
            // the last attempt, for people to look at.
            Err(bad) => Err(Error::internal(std::io::Error::other(bad.to_string()))),
        };
        let outcome = if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        };
        metrics::counter!("tessera_jobs_total", "kind" => kind, "outcome" => outcome).increment(1);
        if let Err(e) = result {
            self.record_failure(job, e).await;
        }
    }

    async fn record_failure(&self, job: Claimed, e: Error) {
        let message = match &e.cause {
            Some(cause) => format!("{}: {cause}", e.detail),
            None => e.detail.clone(),
        };
        tracing::warn!(job.id = %job.id, job.kind = %job.kind, attempts = job.attempts, error = %message, "job failed");
        let unit = jobs::fail(job, self.retry.failures, retry::random_jitter(), message);
        let result = self.store.write(unit).await;
        if let Err(e) = result {
            tracing::error!(error = %e, "could not record a job failure; its lease will expire");
        }
    }

    /// Runs every due job, one batch after another, until none is due (tests and tools).
    pub async fn drain(&self) -> Result<usize, Error> {
        let mut total = 0;
        loop {
            let batch = self.claim(CONCURRENCY).await?;
            if batch.is_empty() {
                return Ok(total);
            }
            total += batch.len();
            futures::future::join_all(batch.into_iter().map(|j| self.run_job(j))).await;
        }
    }

    /// Housekeeping: persists expired share tokens and inquiries (with their events), purges old
    /// idempotency records and ended dashboard sessions, and publishes queue metrics. Returns how
    /// many share tokens it expired.
    pub async fn housekeeping(&self) -> Result<usize, Error> {
        let mut expired = 0;
        loop {
            let n = self.store.write(share_tokens::sweep_expired(200)).await?;
            expired += n;
            if n < 200 {
                break;
            }
        }
        while self.store.write(inquiries::sweep_expired(200)).await? == 200 {}
        self.store.write(idempotency::purge()).await?;
        self.store
            .write(tessera_store::units::federation::purge_nonces())
            .await?;
        self.store
            .write(workflow_triggers::purge_chains(CHAIN_MEMORY_MS))
            .await?;
        self.store.write(sessions::purge(self.sessions)).await?;
        let counts = self.store.read(jobs::counts()).await?;
        metrics::gauge!("tessera_jobs_queued").set(counts.queued as f64);
        metrics::gauge!("tessera_jobs_running").set(counts.running as f64);
        metrics::gauge!("tessera_jobs_dead").set(counts.dead as f64);
        publish_peer_health(&self.store.read(peers::peer_health()).await?);
        Ok(expired)
    }

    /// Runs until `shutdown` is cancelled; in-flight jobs finish first.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(worker = %self.id, "worker started");
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let mut signal = self.store.job_signal(POLL).await;
        let mut last_housekeeping = tokio::time::Instant::now() - Duration::from_secs(60);
        while !shutdown.is_cancelled() {
            if last_housekeeping.elapsed() >= Duration::from_secs(1) {
                last_housekeeping = tokio::time::Instant::now();
                if let Err(e) = self.housekeeping().await {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
            }
            // Wait for room before claiming: a saturated worker resumes the moment a job ends.
            let first = tokio::select! {
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = shutdown.cancelled() => break,
            };
            let room = permits.available_permits() + 1;
            let claimed = match self.claim(room).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim jobs");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                drop(first);
                tokio::select! {
                    () = signal.next() => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            let mut first = Some(first);
            for job in claimed {
                let permit = match first.take() {
                    Some(p) => p,
                    None => match permits.clone().acquire_owned().await {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                };
                let worker = self.clone();
                tokio::spawn(async move {
                    worker.run_job(job).await;
                    drop(permit);
                });
            }
        }
        // Let running jobs finish.
        let _ = permits
            .acquire_many(u32::try_from(CONCURRENCY).unwrap_or(u32::MAX))
            .await;
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

/// The peers' health as gauges labelled `peer="<instance id>"` (issue #17, item 8). A peer never
/// contacted has no `last_contact_timestamp`, one never heard from no `clock_skew`. The recorder
/// drops a gauge not set for a while, so a removed peer's series go away.
fn publish_peer_health(health: &[PeerHealth]) {
    for p in health {
        let peer = p.instance_id.clone();
        if let Some(t) = p.last_contact_at {
            metrics::gauge!("tessera_peer_last_contact_timestamp_seconds", "peer" => peer.clone())
                .set(t.millis() as f64 / 1000.0);
        }
        if let Some(skew) = p.clock_skew_seconds {
            metrics::gauge!("tessera_peer_clock_skew_seconds", "peer" => peer.clone())
                .set(skew as f64);
        }
        metrics::gauge!("tessera_peer_failures", "peer" => peer.clone()).set(p.failures as f64);
        metrics::gauge!("tessera_peer_messages_sent", "peer" => peer.clone())
            .set(p.messages_sent as f64);
        metrics::gauge!("tessera_peer_messages_received", "peer" => peer)
            .set(p.messages_received as f64);
    }
}
