//! The webhook delivery job: one attempt per run. Signs the event document with both schemes,
//! POSTs it through the guarded outbound client, records the attempt, and either finishes the
//! delivery or schedules the next attempt on the n⁶ schedule.
//!
//! At-least-once: a crash between the POST and the record leaves the job leased; after the lease
//! it runs again with the same `webhook-id`, for receivers to deduplicate.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tessera_core::Error;
use tessera_core::id::JobId;
use tessera_core::job::DeliverWebhook;
use tessera_core::retry;
use tessera_core::webhook::webhook_delivery_body;
use tessera_store::units::jobs;
use tessera_store::units::webhooks::{self, AttemptResult};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Worker;
use super::signed_post::SignedPost;

/// Attempts in flight to one webhook at once; a slow or dead endpoint holds no more than this.
pub const PER_ENDPOINT: usize = 16;
/// How long a claimed delivery waits for its endpoint to have room before it is put back.
const ENDPOINT_WAIT: Duration = Duration::from_secs(1);
/// How soon a delivery that was put back is looked at again.
const BUSY_RETRY_MS: i64 = 500;

impl Worker {
    /// A slot for one attempt to `webhook`: waits up to `ENDPOINT_WAIT` for a busy endpoint
    /// (cheap, in memory), so a healthy endpoint's backlog flows while a hung endpoint's
    /// deliveries are put back instead of filling every worker slot.
    async fn endpoint_permit(&self, webhook: &str) -> Option<OwnedSemaphorePermit> {
        let sem = {
            let mut limits = match self.endpoints.lock() {
                Ok(l) => l,
                Err(poisoned) => poisoned.into_inner(),
            };
            if limits.len() > 10_000 {
                limits.retain(|_, s| s.available_permits() < PER_ENDPOINT);
            }
            limits
                .entry(webhook.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(PER_ENDPOINT)))
                .clone()
        };
        tokio::time::timeout(ENDPOINT_WAIT, sem.acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

pub(super) async fn run(worker: &Worker, job: &JobId, p: &DeliverWebhook) -> Result<(), Error> {
    let id = p.delivery_id.clone();
    let plan = worker.store.read(webhooks::plan(id.clone())).await?;
    let Some(plan) =
        plan.filter(|p| p.webhook.status == tessera_core::webhook::WebhookStatus::Enabled)
    else {
        // Delivered, failed or canceled meanwhile: nothing to send.
        return worker.store.write(jobs::complete(job.clone())).await;
    };
    let Some(permit) = worker.endpoint_permit(plan.webhook.id.as_str()).await else {
        return worker
            .store
            .write(jobs::reschedule_after(job.clone(), BUSY_RETRY_MS))
            .await;
    };
    let now = worker.store.clock().now();
    let attempt = plan.delivery.attempts_made + 1;
    let body = webhook_delivery_body(&plan.event, &plan.webhook);
    let secrets = plan.webhook.signing_secrets(now);
    let request_headers = SignedPost {
        agent: "Tessera-Webhooks",
        secrets: &secrets,
        message_id: plan.event.id.as_str(),
        body: &body,
        attempt,
        max_attempts: plan.delivery.max_attempts,
        first_attempted_at: plan.delivery.first_attempted_at.unwrap_or(now),
        now,
        custom: Some(&plan.webhook.settings.custom_http_headers),
    }
    .headers();
    let outcome = worker
        .outbound
        .post(&plan.webhook.url, request_headers, Bytes::from(body))
        .await;
    // The endpoint's slot bounds requests in flight to it, not our own bookkeeping.
    drop(permit);
    metrics::counter!("tessera_webhook_attempts_total", "outcome" => if outcome.is_success() { "succeeded" } else { "failed" }).increment(1);
    let result = AttemptResult {
        started_at: now,
        duration_ms: i64::try_from(outcome.duration.as_millis()).unwrap_or(i64::MAX),
        response_status: outcome.status,
        error: outcome
            .failure
            .as_ref()
            .map(|f| format!("{}: {}", f.kind.as_str(), f.message)),
        response_body: outcome.status.map(|_| outcome.body_text()),
        succeeded: outcome.is_success(),
        // After the last attempt: now (the delivery fails when recorded).
        retry_at: Some(
            worker
                .retry
                .deliveries
                .next_retry_at(now, attempt, retry::random_jitter(), outcome.retry_after)
                .unwrap_or(now),
        ),
    };
    let status = worker
        .store
        .write(webhooks::record_attempt(id, job.clone(), result))
        .await?;
    tracing::info!(delivery.id = %plan.delivery.id, webhook.id = %plan.webhook.id, attempt, status = status.as_str(),
        response_status = outcome.status.unwrap_or(0), "webhook attempt");
    Ok(())
}
