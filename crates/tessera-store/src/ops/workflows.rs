//! Workflow definitions as stored: how a row reads, one by id, the list, and the active ones an
//! event may start. Saving them (checked first) is `crate::ops::workflow_definitions`.

use tessera_core::Error;
use tessera_core::id::WorkflowId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::{Trigger, Workflow, WorkflowStatus};

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::ops::sealed::WORKFLOW_SECRET;
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};

/// The columns [`from_row`] reads.
pub(crate) const COLUMNS: &str =
    "id, name, status, trigger_event, trigger_conditions, steps, secret, created_at, updated_at";

pub(crate) fn from_row(r: &Row) -> Result<Workflow, Error> {
    let id = r.text("id")?;
    Ok(Workflow {
        secret: r.sealed_text("secret", &WORKFLOW_SECRET.purpose(&id))?,
        id: WorkflowId::from_db(id),
        name: r.opt_text("name")?,
        status: WorkflowStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown workflow status")))?,
        trigger: Trigger {
            event: r.text("trigger_event")?,
            conditions: r.json("trigger_conditions")?,
        },
        steps: r.json("steps")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

/// The active workflows of an environment that an event of this name may start.
pub(crate) async fn triggered_by(
    tx: &mut Tx,
    env: &tessera_core::id::EnvironmentId,
    event: &str,
) -> Result<Vec<Workflow>, Error> {
    let rows = tx
        .fetch_all(
            &format!("select {COLUMNS} from workflows where environment_id = $1 and status = 'active' and trigger_event = $2 order by seq"),
            args![env, event],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// Where workflows are stored, for the scoped fetch.
pub(crate) const WORKFLOWS: Table<Workflow> = Table {
    table: "workflows",
    columns: COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "workflow",
    from_row,
};

/// A workflow of the scope, or 404.
pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &WorkflowId) -> Result<Workflow, Error> {
    WORKFLOWS.get(tx, scope, id).await
}

/// A workflow by id alone (the worker, which already knows the run's scope).
pub(crate) async fn get_unscoped(tx: &mut Tx, id: &WorkflowId) -> Result<Workflow, Error> {
    WORKFLOWS.get_unscoped(tx, id).await
}

pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<Workflow>, Error> {
    fetch_page(
        tx,
        "workflows",
        COLUMNS,
        Filter::new().and("environment_id = ?", &scope.env),
        page,
    )
    .await?
    .try_map(|r| from_row(&r))
}
