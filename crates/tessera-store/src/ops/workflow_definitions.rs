//! Saving workflow definitions: create and update. A definition is checked completely before it
//! is saved: the trigger's event carries every step's input, and every connection and template a
//! step names belongs to the caller (a connection for `create-share-token` must be outbound). The
//! server checks `http-request` URLs, which needs the outbound guard.

use tessera_core::id::WorkflowId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::{
    MAX_WORKFLOWS_PER_ENVIRONMENT, Step, Trigger, Workflow, WorkflowStatus, check_inputs,
};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::sealed::WORKFLOW_SECRET;
use crate::ops::workflows::{COLUMNS, WORKFLOWS};
use crate::ops::{connections, templates};
use crate::tx::{Tx, json};

fn not_found_at(e: Error, pointer: String) -> Error {
    if e.is(codes::NOT_FOUND) {
        Error::invalid(codes::REFERENCE_NOT_FOUND, e.detail).at(pointer)
    } else {
        e
    }
}

/// Refuses steps that name a connection or template the caller cannot see, or a connection it
/// cannot share over.
pub(crate) async fn check_references(
    tx: &mut Tx,
    scope: &Scope,
    steps: &[Step],
) -> Result<(), Error> {
    for (i, step) in steps.iter().enumerate() {
        let at = |member: &str| format!("steps/{i}/{member}");
        match step {
            Step::CreateShareToken { connection_id, .. } => {
                let c = connections::get(tx, scope, connection_id)
                    .await
                    .map_err(|e| not_found_at(e, at("connection-id")))?;
                if !c.is_source(scope) {
                    return Err(Error::invalid(
                        codes::CONNECTION_NOT_OUTBOUND,
                        "create-share-token needs an outbound connection of this organization",
                    )
                    .at(at("connection-id")));
                }
            }
            Step::RedeemShareToken {
                inquiry_template_id: Some(t),
                ..
            } => {
                templates::get(tx, scope, t)
                    .await
                    .map_err(|e| not_found_at(e, at("inquiry-template-id")))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// What a new workflow is.
#[derive(Debug, Clone)]
pub struct NewWorkflow {
    pub name: Option<String>,
    pub status: WorkflowStatus,
    pub trigger: Trigger,
    pub steps: Vec<Step>,
    pub secret: String,
}

pub(crate) async fn create(
    tx: &mut Tx,
    scope: &Scope,
    new: NewWorkflow,
) -> Result<Workflow, Error> {
    check_inputs(&new.trigger, &new.steps)?;
    crate::ops::lock_environment(tx, scope).await?;
    let row = tx
        .fetch_one(
            "select count(*) as n from workflows where environment_id = $1",
            args![&scope.env],
        )
        .await?;
    if row.i64("n")? >= MAX_WORKFLOWS_PER_ENVIRONMENT {
        return Err(Error::invalid(
            codes::WORKFLOW_LIMIT,
            format!("an environment has at most {MAX_WORKFLOWS_PER_ENVIRONMENT} workflows"),
        ));
    }
    check_references(tx, scope, &new.steps).await?;
    let now = tx.now();
    let w = Workflow {
        id: WorkflowId::generate(),
        name: new.name,
        status: new.status,
        trigger: new.trigger,
        steps: new.steps,
        secret: new.secret,
        created_at: now,
        updated_at: now,
    };
    tx.execute(
        &format!("insert into workflows ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
        args![
            &w.id,
            w.name.as_ref(),
            w.status.as_str(),
            &w.trigger.event,
            json(&w.trigger.conditions),
            json(&w.steps),
            tx.seal(&WORKFLOW_SECRET.purpose(w.id.as_str()), &w.secret),
            w.created_at,
            w.updated_at,
            &scope.env
        ],
    )
    .await?;
    Ok(w)
}

/// A change to a workflow; `None` leaves a part as it is (`name: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct WorkflowPatch {
    pub name: Option<Option<String>>,
    pub status: Option<WorkflowStatus>,
    pub trigger: Option<Trigger>,
    pub steps: Option<Vec<Step>>,
}

/// Applies a change. A new trigger or new steps are checked together with the part that stays,
/// as a whole definition. Runs already made keep the steps they were made with.
pub(crate) async fn update(
    tx: &mut Tx,
    scope: &Scope,
    id: &WorkflowId,
    patch: WorkflowPatch,
) -> Result<Workflow, Error> {
    let mut w = WORKFLOWS.get_for_update(tx, scope, id).await?;
    let redefined = patch.trigger.is_some() || patch.steps.is_some();
    if let Some(name) = patch.name {
        w.name = name;
    }
    if let Some(status) = patch.status {
        w.status = status;
    }
    if let Some(trigger) = patch.trigger {
        w.trigger = trigger;
    }
    if let Some(steps) = patch.steps {
        w.steps = steps;
    }
    if redefined {
        check_inputs(&w.trigger, &w.steps)?;
        check_references(tx, scope, &w.steps).await?;
    }
    w.updated_at = tx.now();
    tx.execute(
        "update workflows set name = $1, status = $2, trigger_event = $3, trigger_conditions = $4, steps = $5, updated_at = $6 where id = $7",
        args![
            w.name.as_ref(),
            w.status.as_str(),
            &w.trigger.event,
            json(&w.trigger.conditions),
            json(&w.steps),
            w.updated_at,
            &w.id
        ],
    )
    .await?;
    Ok(w)
}
