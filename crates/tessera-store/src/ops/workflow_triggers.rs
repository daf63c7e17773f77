//! What starts workflow runs: events (asked by `crate::ops::fanout`, in the event's transaction)
//! and manual triggers (`crate::ops::manual_runs`). Here live the rules that keep automation from
//! running away:
//!
//! - the events a run causes (its steps' effects, its own `workflow-run.*` events, and the
//!   redemption a `redeem-share-token` step starts) carry the run's [`Cause`]; they never start
//!   the run's own workflow;
//! - a run started by a caused event is one level deeper than the run that caused it, and no run
//!   deeper than [`MAX_DEPTH`] is made, in any organization;
//! - one chain (everything that follows from one event no run caused, or from one manual
//!   trigger) makes at most [`MAX_RUNS_PER_CHAIN`] runs.

use serde_json::Value;
use tessera_core::Error;
use tessera_core::id::{EnvironmentId, EventId};
use tessera_core::workflow::run::WorkflowRun;
use tessera_core::workflow::{Cause, MAX_DEPTH, MAX_RUNS_PER_CHAIN, Workflow};

use crate::args;
use crate::ops::workflow_runs::{self, Start};
use crate::ops::workflows;
use crate::tx::Tx;

/// Counts one more run against a chain's budget; false when the chain has used it up.
pub(crate) async fn take_chain_budget(tx: &mut Tx, chain: &str) -> Result<bool, Error> {
    let now = tx.now();
    tx.execute(
        "insert into workflow_chains (id, runs, created_at) values ($1, 0, $2) on conflict (id) do nothing",
        args![chain, now],
    )
    .await?;
    let taken = tx
        .execute(
            "update workflow_chains set runs = runs + 1 where id = $1 and runs < $2",
            args![chain, MAX_RUNS_PER_CHAIN],
        )
        .await?;
    Ok(taken == 1)
}

/// What an event may start: the active workflows of its environment that its name triggers, and
/// where their runs stand in a chain (see the rules above).
#[derive(Debug)]
pub(crate) struct Triggered {
    /// The candidates, in the order they were made; [`start`] decides for each.
    pub workflows: Vec<Workflow>,
    /// The run whose effect the event is, if any.
    cause: Option<Cause>,
    depth: u32,
    chain: String,
    object_type: String,
    object_id: String,
}

/// The workflows an event of `name` may start; `None` when no active workflow of `env` is
/// triggered by that name.
pub(crate) async fn triggered(
    tx: &mut Tx,
    env: &EnvironmentId,
    event_id: &EventId,
    name: &str,
    payload: &Value,
) -> Result<Option<Triggered>, Error> {
    let workflows = workflows::triggered_by(tx, env, name).await?;
    if workflows.is_empty() {
        return Ok(None);
    }
    let cause: Option<Cause> = tx.cause().cloned();
    let depth = cause.as_ref().map_or(1, |c| c.depth.saturating_add(1));
    let chain = cause
        .as_ref()
        .map_or_else(|| event_id.to_string(), |c| c.chain.clone());
    let object_type = payload
        .pointer("/data/type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let object_id = payload
        .pointer("/data/id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok(Some(Triggered {
        workflows,
        cause,
        depth,
        chain,
        object_type,
        object_id,
    }))
}

/// Starts a run of `w`, one of `t`'s candidates, if its trigger matches the event and the rules
/// above allow it: the run and its job (see [`workflow_runs::create`]). Returns the run, whose
/// `workflow-run.created` event the caller emits as the run (`crate::ops::fanout`).
pub(crate) async fn start(
    tx: &mut Tx,
    env: &EnvironmentId,
    t: &Triggered,
    w: &Workflow,
    event_id: &EventId,
    name: &str,
    payload: &Value,
) -> Result<Option<WorkflowRun>, Error> {
    if t.cause.as_ref().is_some_and(|c| c.workflow_id == w.id) || !w.trigger.matches(name, payload)
    {
        return Ok(None);
    }
    let depth = t.depth;
    if depth > MAX_DEPTH {
        tracing::info!(workflow.id = %w.id, event.id = %event_id, depth, "workflow not started: the chain of runs is at its depth limit");
        return Ok(None);
    }
    let chain = &t.chain;
    if !take_chain_budget(tx, chain).await? {
        tracing::warn!(workflow.id = %w.id, event.id = %event_id, chain = %chain, "workflow not started: the chain of runs used up its budget");
        return Ok(None);
    }
    let start = Start {
        object_type: t.object_type.clone(),
        object_id: t.object_id.clone(),
        trigger_event_id: Some(event_id.clone()),
        chain: Some(chain.clone()),
        depth,
    };
    workflow_runs::create(tx, env, w, start).await.map(Some)
}

/// Forgets the budgets of chains older than `age_ms` (a chain that still runs after that long
/// starts counting again).
pub(crate) async fn purge_chains(tx: &mut Tx, age_ms: i64) -> Result<u64, Error> {
    let before = tx.now().plus_millis(-age_ms);
    tx.execute(
        "delete from workflow_chains where created_at < $1",
        args![before],
    )
    .await
}
