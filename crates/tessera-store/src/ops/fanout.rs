//! Emitting an event: recording it and making, in the same unit of work, what it causes — a
//! delivery (with its job) for every webhook that subscribes to it, and a run (with its job) of
//! every workflow it starts. Every op that reports a change emits through [`emit`].
//!
//! This is the one place where the chain of consequences is followed: `events` only records,
//! `webhook_deliveries::fan_out` only makes deliveries, `workflow_triggers` only decides which runs an
//! event starts and makes them. A run's own `workflow-run.*` events are emitted here as the run
//! ([`emit_as_run`]) and fan out in turn, under `workflow_triggers`' rules (depth, chain budget,
//! never the run's own workflow), which keep the recursion bounded.

use futures::future::BoxFuture;
use serde_json::Value;
use tessera_core::Error;
use tessera_core::event::names;
use tessera_core::id::{EnvironmentId, EventId};
use tessera_core::workflow::run::WorkflowRun;

use crate::ops::{events, webhook_deliveries, workflow_triggers};
use crate::tx::Tx;

/// Records an event for one environment, with the webhook deliveries and workflow runs it
/// causes. `data` is the object as that organization sees it.
pub(crate) async fn emit(
    tx: &mut Tx,
    env: &EnvironmentId,
    name: &str,
    data: Value,
) -> Result<EventId, Error> {
    let event = events::record(tx, env, name, data).await?;
    webhook_deliveries::fan_out(tx, env, &event.id, name).await?;
    on_event(tx, env, &event.id, name, &event.payload).await?;
    Ok(event.id)
}

/// Starts a run of every active workflow of `env` whose trigger matches the event, within the
/// rules of `workflow_triggers`, each with its `workflow-run.created` event (fanned out in turn,
/// before the next workflow is considered). Boxed: those events come back through here.
pub(crate) fn on_event<'a>(
    tx: &'a mut Tx,
    env: &'a EnvironmentId,
    event_id: &'a EventId,
    name: &'a str,
    payload: &'a Value,
) -> BoxFuture<'a, Result<(), Error>> {
    Box::pin(async move {
        let Some(triggered) =
            workflow_triggers::triggered(tx, env, event_id, name, payload).await?
        else {
            return Ok(());
        };
        for w in &triggered.workflows {
            if let Some(run) =
                workflow_triggers::start(tx, env, &triggered, w, event_id, name, payload).await?
            {
                emit_as_run(tx, env, names::WORKFLOW_RUN_CREATED, &run).await?;
            }
        }
        Ok(())
    })
}

/// Emits an event about a run as the run itself: the run's own workflow never starts on it, and
/// other workflows that do are one level deeper in the run's chain.
pub(crate) async fn emit_as_run(
    tx: &mut Tx,
    env: &EnvironmentId,
    name: &str,
    run: &WorkflowRun,
) -> Result<(), Error> {
    let outer = tx.cause.replace(run.cause());
    let emitted = emit(tx, env, name, run.to_resource().to_value()).await;
    tx.cause = outer;
    emitted.map(|_| ())
}
