//! Events: recorded by the unit of work that makes the change they report (through
//! `crate::ops::fanout`, which also makes what they cause), listed, read and scrubbed.

use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::event::Event;
use tessera_core::id::{EnvironmentId, EventId};
use tessera_core::tenancy::Scope;

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};

/// An event as [`record`] stored it: what fan-out needs to know of it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub id: EventId,
    /// The stored payload, `{"data": …}`.
    pub payload: Value,
}

/// Records an event for one environment, and nothing else: `data` is the object as that
/// organization sees it. Ops emit through `crate::ops::fanout::emit`, which records the event
/// here and then makes what it causes (webhook deliveries, workflow runs).
pub(crate) async fn record(
    tx: &mut Tx,
    env: &EnvironmentId,
    name: &str,
    data: Value,
) -> Result<Recorded, Error> {
    let id = EventId::generate();
    let object_type = data
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let object_id = data
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let payload = json!({ "data": data });
    let now = tx.now();
    tx.execute(
        "insert into events (id, environment_id, name, object_type, object_id, payload, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        args![
            &id,
            env,
            name,
            object_type,
            object_id,
            payload.to_string(),
            now
        ],
    )
    .await?;
    Ok(Recorded { id, payload })
}

const COLUMNS: &str = "id, name, object_id, payload, created_at";

fn from_row(r: &Row) -> Result<Event, Error> {
    Ok(Event {
        id: EventId::from_db(r.text("id")?),
        name: r.text("name")?,
        object_id: r.text("object_id")?,
        payload: r.json("payload")?,
        created_at: r.time("created_at")?,
    })
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Any of these names (none: every name).
    pub names: Vec<String>,
    /// About any of these objects (none: every object).
    pub object_ids: Vec<String>,
    /// Any of these event ids (none: every event).
    pub ids: Vec<String>,
}

pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    filter: &EventFilter,
    page: &PageRequest,
) -> Result<Page<Event>, Error> {
    let f = Filter::new()
        .and("environment_id = ?", &scope.env)
        .and_in("object_id", filter.object_ids.clone())
        .and_in("id", filter.ids.clone())
        .and_in("name", filter.names.clone());
    fetch_page(tx, "events", COLUMNS, f, page)
        .await?
        .try_map(|r| from_row(&r))
}

/// Where events are stored, for the scoped fetch.
const EVENTS: Table<Event> = Table {
    table: "events",
    columns: COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "event",
    from_row,
};

/// An event of the scope, or 404.
pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &EventId) -> Result<Event, Error> {
    EVENTS.get(tx, scope, id).await
}

/// Removes personal data from the stored payloads of events about the given objects.
pub(crate) async fn scrub(
    tx: &mut Tx,
    env: &EnvironmentId,
    object_ids: &[String],
) -> Result<(), Error> {
    let f = Filter::new()
        .and("environment_id = ?", env)
        .and_in("object_id", object_ids.to_vec());
    let rows = tx
        .fetch_all(
            &format!("select id, payload from events where {}", f.sql()),
            f.args(),
        )
        .await?;
    for r in rows {
        let mut payload: Value = r.json("payload")?;
        if tessera_core::event::scrub_document(&mut payload, object_ids) {
            tx.execute(
                "update events set payload = $1 where id = $2",
                args![payload.to_string(), r.text("id")?],
            )
            .await?;
        }
    }
    Ok(())
}
