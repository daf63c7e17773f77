//! Webhook deliveries: made in the transaction of the event they deliver (one per enabled
//! webhook that subscribes to it, with the job that attempts it), then attempted by the worker,
//! each attempt logged; retried by hand, or given up.

use tessera_core::event::Event;
use tessera_core::id::{DeliveryId, EnvironmentId, EventId, JobId, WebhookId};
use tessera_core::job::{DeliverWebhook, Job};
use tessera_core::tenancy::Scope;
use tessera_core::webhook::{
    Attempt, Delivery, DeliveryStatus, MAX_ATTEMPTS, Webhook, WebhookSettings, WebhookStatus,
    subscribes,
};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::ops::webhooks::get;
use crate::ops::{events, jobs, lock};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};

/// The job that makes one attempt of a delivery.
fn deliver(id: &DeliveryId) -> Job {
    Job::from(DeliverWebhook {
        delivery_id: id.clone(),
    })
}

/// Makes one delivery (and its job) per enabled webhook of `env` that subscribes to the event.
/// Called by `crate::ops::fanout::emit`, in the event's transaction.
pub(crate) async fn fan_out(
    tx: &mut Tx,
    env: &EnvironmentId,
    event_id: &EventId,
    name: &str,
) -> Result<(), Error> {
    let rows = tx
        .fetch_all(
            "select id, enabled_events, payload_filter from webhooks where environment_id = $1 and status = 'enabled'",
            args![env],
        )
        .await?;
    let now = tx.now();
    // The event's payload, read once and only when a subscribed webhook filters on it.
    let mut payload: Option<serde_json::Value> = None;
    for r in rows {
        let enabled: Vec<String> = r.json("enabled_events")?;
        if !subscribes(&enabled, name) {
            continue;
        }
        if let Some(filter) = r.opt_json::<serde_json::Value>("payload_filter")? {
            if payload.is_none() {
                let row = tx
                    .fetch_one("select payload from events where id = $1", args![event_id])
                    .await?;
                payload = Some(row.json("payload")?);
            }
            let settings = WebhookSettings {
                payload_filter: Some(filter),
                ..WebhookSettings::defaults("")
            };
            if !payload
                .as_ref()
                .is_some_and(|p| settings.accepts_payload(p))
            {
                continue;
            }
        }
        let id = DeliveryId::generate();
        tx.execute(
            "insert into webhook_deliveries (id, environment_id, webhook_id, event_id, event_name, status, max_attempts, next_attempt_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, 'pending', $6, $7, $7, $7)",
            args![&id, env, r.text("id")?, event_id, name, MAX_ATTEMPTS, now],
        )
        .await?;
        jobs::enqueue(tx, &deliver(&id), now).await?;
    }
    Ok(())
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_name, status, attempts_made, max_attempts, next_attempt_at, first_attempted_at, created_at, updated_at";

/// Where webhook deliveries are stored, for the scoped fetch.
const DELIVERIES: Table<Delivery> = Table {
    table: "webhook_deliveries",
    columns: DELIVERY_COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "webhook delivery",
    from_row: delivery_from_row,
};

fn delivery_from_row(r: &Row) -> Result<Delivery, Error> {
    Ok(Delivery {
        id: DeliveryId::from_db(r.text("id")?),
        webhook_id: WebhookId::from_db(r.text("webhook_id")?),
        event_id: EventId::from_db(r.text("event_id")?),
        event_name: r.text("event_name")?,
        status: DeliveryStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown delivery status")))?,
        attempts_made: u32::try_from(r.i64("attempts_made")?).unwrap_or(0),
        max_attempts: u32::try_from(r.i64("max_attempts")?).unwrap_or(MAX_ATTEMPTS),
        next_attempt_at: r.opt_time("next_attempt_at")?,
        first_attempted_at: r.opt_time("first_attempted_at")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        attempts: Vec::new(),
    })
}

/// The deliveries of a webhook, newest first.
pub(crate) async fn deliveries(
    tx: &mut Tx,
    scope: &Scope,
    webhook: &WebhookId,
    page: &PageRequest,
) -> Result<Page<Delivery>, Error> {
    get(tx, scope, webhook).await?;
    fetch_page(
        tx,
        "webhook_deliveries",
        DELIVERY_COLUMNS,
        Filter::new()
            .and("environment_id = ?", &scope.env)
            .and("webhook_id = ?", webhook),
        page,
    )
    .await?
    .try_map(|r| delivery_from_row(&r))
}

async fn attempts(tx: &mut Tx, delivery: &DeliveryId) -> Result<Vec<Attempt>, Error> {
    let rows = tx
        .fetch_all(
            "select attempt, started_at, duration_ms, response_status, error, response_body from webhook_attempts where delivery_id = $1 order by seq",
            args![delivery],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Attempt {
                attempt: u32::try_from(r.i64("attempt")?).unwrap_or(0),
                started_at: r.time("started_at")?,
                duration_ms: r.i64("duration_ms")?,
                response_status: r
                    .opt_i64("response_status")?
                    .and_then(|s| u16::try_from(s).ok()),
                error: r.opt_text("error")?,
                response_body: r.opt_text("response_body")?,
            })
        })
        .collect()
}

/// One delivery of the scope with all its attempts, or 404.
pub(crate) async fn delivery(
    tx: &mut Tx,
    scope: &Scope,
    id: &DeliveryId,
) -> Result<Delivery, Error> {
    let mut d = DELIVERIES.get(tx, scope, id).await?;
    d.attempts = attempts(tx, id).await?;
    Ok(d)
}

/// A new attempt now for a `failed` or `canceled` delivery of an enabled webhook.
pub(crate) async fn retry(tx: &mut Tx, scope: &Scope, id: &DeliveryId) -> Result<Delivery, Error> {
    let d = delivery(tx, scope, id).await?;
    if !matches!(d.status, DeliveryStatus::Failed | DeliveryStatus::Canceled) {
        return Err(Error::conflict(
            codes::DELIVERY_NOT_RETRYABLE,
            format!("a {} delivery cannot be retried", d.status.as_str()),
        ));
    }
    let w = get(tx, scope, &d.webhook_id).await?;
    if w.status != WebhookStatus::Enabled {
        return Err(Error::conflict(
            codes::DELIVERY_NOT_RETRYABLE,
            "the webhook is not enabled",
        ));
    }
    let now = tx.now();
    let max = d.attempts_made + 1;
    tx.execute(
        "update webhook_deliveries set status = 'pending', max_attempts = $1, next_attempt_at = $2, updated_at = $2 where id = $3",
        args![max, now, id],
    )
    .await?;
    jobs::enqueue(tx, &deliver(id), now).await?;
    delivery(tx, scope, id).await
}

/// What the worker needs for one attempt.
#[derive(Debug, Clone)]
pub struct AttemptPlan {
    pub delivery: Delivery,
    pub webhook: Webhook,
    pub event: Event,
}

/// Loads a delivery with its webhook and event, if it is still pending.
pub(crate) async fn plan(tx: &mut Tx, id: &DeliveryId) -> Result<Option<AttemptPlan>, Error> {
    let Some(row) = tx
        .fetch_optional(
            &format!(
                "select {DELIVERY_COLUMNS}, environment_id from webhook_deliveries where id = $1"
            ),
            args![id],
        )
        .await?
    else {
        return Ok(None);
    };
    let delivery = delivery_from_row(&row)?;
    if delivery.status != DeliveryStatus::Pending {
        return Ok(None);
    }
    let env = EnvironmentId::from_db(row.text("environment_id")?);
    let scope = crate::ops::tenancy::scope_of_environment(tx, &env).await?;
    let webhook = get(tx, &scope, &delivery.webhook_id).await?;
    let event = events::get(tx, &scope, &delivery.event_id).await?;
    Ok(Some(AttemptPlan {
        delivery,
        webhook,
        event,
    }))
}

/// The result of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub response_status: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
    pub succeeded: bool,
    /// When to try again if this attempt failed and attempts are left.
    pub retry_at: Option<Timestamp>,
}

/// Records an attempt and moves the delivery on: `succeeded`, `failed` (no attempts left), or
/// `pending` with the next attempt scheduled (the job is released to run then). Returns the
/// delivery's new status. A delivery canceled meanwhile stays canceled.
pub(crate) async fn record_attempt(
    tx: &mut Tx,
    id: &DeliveryId,
    job: &JobId,
    result: &AttemptResult,
) -> Result<DeliveryStatus, Error> {
    let suffix = lock(tx);
    let Some(row) = tx
        .fetch_optional(
            &format!("select {DELIVERY_COLUMNS} from webhook_deliveries where id = $1{suffix}"),
            args![id],
        )
        .await?
    else {
        jobs::complete(tx, job).await?;
        return Ok(DeliveryStatus::Canceled);
    };
    let d = delivery_from_row(&row)?;
    let attempt = d.attempts_made + 1;
    tx.execute(
        "insert into webhook_attempts (delivery_id, attempt, started_at, duration_ms, response_status, error, response_body)
         values ($1, $2, $3, $4, $5, $6, $7)",
        args![
            id,
            attempt,
            result.started_at,
            result.duration_ms,
            result.response_status.map(i64::from),
            result.error.clone(),
            result.response_body.clone()
        ],
    )
    .await?;
    let now = tx.now();
    let (status, next) = if d.status != DeliveryStatus::Pending {
        (d.status, None)
    } else if result.succeeded {
        (DeliveryStatus::Succeeded, None)
    } else if attempt >= d.max_attempts {
        (DeliveryStatus::Failed, None)
    } else {
        (
            DeliveryStatus::Pending,
            Some(result.retry_at.unwrap_or(now)),
        )
    };
    tx.execute(
        "update webhook_deliveries set status = $1, attempts_made = $2, next_attempt_at = $3,
         first_attempted_at = coalesce(first_attempted_at, $4), updated_at = $5 where id = $6",
        args![status.as_str(), attempt, next, result.started_at, now, id],
    )
    .await?;
    match next {
        // A planned pause, not a failure of the job: its attempt count starts over.
        Some(at) => jobs::reschedule(tx, job, at).await?,
        None => jobs::complete(tx, job).await?,
    }
    Ok(status)
}

/// Ends a delivery whose job kept failing for an internal reason: `failed`, so it shows in the
/// log and can be retried by hand.
pub(crate) async fn give_up(tx: &mut Tx, id: &DeliveryId) -> Result<(), Error> {
    let now = tx.now();
    tx.execute(
        "update webhook_deliveries set status = 'failed', next_attempt_at = null, updated_at = $1 where id = $2 and status = 'pending'",
        args![now, id],
    )
    .await?;
    Ok(())
}
