//! What starts workflow runs: events (called by `events::emit`, in the event's transaction) and
//! manual triggers. Here live the rules that keep automation from running away:
//!
//! - the events a run causes (its steps' effects, its own `workflow-run.*` events, and the
//!   redemption a `redeem-share-token` step starts) carry the run's [`Cause`]; they never start
//!   the run's own workflow;
//! - a run started by a caused event is one level deeper than the run that caused it, and no run
//!   deeper than [`MAX_DEPTH`] is made, in any organization;
//! - one chain (everything that follows from one event no run caused, or from one manual
//!   trigger) makes at most [`MAX_RUNS_PER_CHAIN`] runs.

use futures::future::BoxFuture;
use serde_json::Value;
use tessera_core::id::{
    ConnectionId, EnvironmentId, EventId, InquiryId, ShareTokenId, WorkflowId, prefix_of,
};
use tessera_core::tenancy::Scope;
use tessera_core::workflow::run::WorkflowRun;
use tessera_core::workflow::{Cause, MAX_DEPTH, MAX_RUNS_PER_CHAIN, WorkflowStatus};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::ops::workflow_runs::{self, Start};
use crate::ops::{connections, inquiries, share_tokens, workflows};
use crate::tx::Tx;

/// Counts one more run against a chain's budget; false when the chain has used it up.
async fn take_chain_budget(tx: &mut Tx, chain: &str) -> Result<bool, Error> {
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

/// Starts a run of every active workflow of `env` whose trigger matches the event, within the
/// rules above. Boxed: the runs' own `workflow-run.created` events come back through here.
pub fn on_event<'a>(
    tx: &'a mut Tx,
    env: &'a EnvironmentId,
    event_id: &'a EventId,
    name: &'a str,
    payload: &'a Value,
) -> BoxFuture<'a, Result<(), Error>> {
    Box::pin(async move {
        let candidates = workflows::triggered_by(tx, env, name).await?;
        if candidates.is_empty() {
            return Ok(());
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
        for w in candidates {
            if cause.as_ref().is_some_and(|c| c.workflow_id == w.id)
                || !w.trigger.matches(name, payload)
            {
                continue;
            }
            if depth > MAX_DEPTH {
                tracing::info!(workflow.id = %w.id, event.id = %event_id, depth, "workflow not started: the chain of runs is at its depth limit");
                continue;
            }
            if !take_chain_budget(tx, &chain).await? {
                tracing::warn!(workflow.id = %w.id, event.id = %event_id, chain = %chain, "workflow not started: the chain of runs used up its budget");
                continue;
            }
            let start = Start {
                object_type: object_type.clone(),
                object_id: object_id.clone(),
                trigger_event_id: Some(event_id.clone()),
                chain: Some(chain.clone()),
                depth,
            };
            workflow_runs::create(tx, env, &w, start).await?;
        }
        Ok(())
    })
}

const OBJECT_ID: &str = "object-id";

fn at_object_id(e: Error) -> Error {
    if e.is(codes::NOT_FOUND) {
        e.at(OBJECT_ID)
    } else {
        e
    }
}

/// An inquiry, share token or connection as the organization sees it now (the object of a
/// manual trigger). Another kind of id is 422, one the organization cannot see 404.
pub(crate) async fn object(tx: &mut Tx, scope: &Scope, id: &str) -> Result<Value, Error> {
    let wrong = || {
        Error::invalid(
            codes::INVALID_TRIGGER_OBJECT,
            "object-id is an inquiry, share token or connection id",
        )
        .at(OBJECT_ID)
    };
    let now: Timestamp = tx.now();
    match prefix_of(id) {
        Some(InquiryId::PREFIX) => {
            let id = InquiryId::parse(id).map_err(|_| wrong())?;
            let i = inquiries::get(tx, scope, &id).await.map_err(at_object_id)?;
            Ok(i.to_resource().to_value())
        }
        Some(ShareTokenId::PREFIX) => {
            let id = ShareTokenId::parse(id).map_err(|_| wrong())?;
            let t = share_tokens::get(tx, scope, &id)
                .await
                .map_err(at_object_id)?;
            Ok(t.to_resource(t.direction_for(scope), now, None).to_value())
        }
        Some(ConnectionId::PREFIX) => {
            let id = ConnectionId::parse(id).map_err(|_| wrong())?;
            let c = connections::get(tx, scope, &id)
                .await
                .map_err(at_object_id)?;
            Ok(c.to_resource(c.direction_for(scope)).to_value())
        }
        _ => Err(wrong()),
    }
}

/// Runs an active workflow now on an object of the caller, whatever its trigger says. Every step
/// must be able to act on the object (422 otherwise).
pub(crate) async fn trigger_manually(
    tx: &mut Tx,
    scope: &Scope,
    id: &WorkflowId,
    object_id: &str,
) -> Result<WorkflowRun, Error> {
    let w = workflows::get(tx, scope, id).await?;
    if w.status != WorkflowStatus::Active {
        return Err(Error::conflict(
            codes::WORKFLOW_NOT_ACTIVE,
            "an inactive workflow does not run; activate it first",
        ));
    }
    let object = object(tx, scope, object_id).await?;
    if let Some((i, step)) = w
        .steps
        .iter()
        .enumerate()
        .find(|(_, s)| !s.input().provided_by_object(&object))
    {
        return Err(Error::invalid(
            codes::INVALID_TRIGGER_OBJECT,
            format!(
                "step {i} ({}) needs {}",
                step.kind(),
                step.input().describe()
            ),
        )
        .at(OBJECT_ID));
    }
    let start = Start {
        object_type: object
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        object_id: object_id.to_owned(),
        trigger_event_id: None,
        chain: None,
        depth: tx.cause().map_or(1, |c| c.depth.saturating_add(1)),
    };
    let run = workflow_runs::create(tx, &scope.env, &w, start).await?;
    take_chain_budget(tx, &run.chain).await?;
    Ok(run)
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
