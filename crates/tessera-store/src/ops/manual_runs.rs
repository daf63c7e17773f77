//! Manual runs: a workflow run now on an object of the caller, whatever the workflow's trigger
//! says, and that object as the organization sees it now (which a manual run's `http-request`
//! steps send, having no trigger event). The rules that bound chains are `workflow_triggers`'.

use serde_json::Value;
use tessera_core::event::names;
use tessera_core::id::{ConnectionId, InquiryId, ShareTokenId, WorkflowId, prefix_of};
use tessera_core::tenancy::Scope;
use tessera_core::workflow::WorkflowStatus;
use tessera_core::workflow::run::WorkflowRun;
use tessera_core::{Error, Timestamp, codes};

use crate::ops::workflow_runs::{self, Start};
use crate::ops::{connections, fanout, inquiries, share_tokens, workflow_triggers, workflows};
use crate::tx::Tx;

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
    fanout::emit_as_run(tx, &scope.env, names::WORKFLOW_RUN_CREATED, &run).await?;
    workflow_triggers::take_chain_budget(tx, &run.chain).await?;
    Ok(run)
}
