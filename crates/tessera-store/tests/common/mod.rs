//! Helpers of the store contract suites (`contract*.rs`): a tenant, the events and jobs a unit
//! left behind, read back through units (raw SQL only where no unit reads what is checked).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use tessera_core::connection::ConnectionAction;
use tessera_core::event::Event;
use tessera_core::id::{ApiKeyId, ConnectionId, InquiryId, JobId};
use tessera_core::job::Job;
use tessera_core::tenancy::{Actor, EnvKind, Scope};
use tessera_core::{Error, Timestamp};
use tessera_store::testing::sql;
use tessera_store::units::{connections, events, inquiries, jobs, tenancy};
use tessera_store::{PageRequest, Read, Store, Write, args};

/// A unit's result, or the test fails with its error.
pub async fn write<T: Send + 'static>(store: &Store, unit: Write<T>) -> T {
    store.write(unit).await.unwrap_or_else(|e| panic!("{e:?}"))
}

/// A read's result, or the test fails with its error.
pub async fn read<T: Send + 'static>(store: &Store, read: Read<T>) -> T {
    store.read(read).await.unwrap_or_else(|e| panic!("{e:?}"))
}

/// The error a unit refuses with (the test fails if it commits).
pub async fn refused<T: Send + Debug + 'static>(store: &Store, unit: Write<T>) -> Error {
    match store.write(unit).await {
        Ok(v) => panic!("the unit was expected to refuse, and returned {v:?}"),
        Err(e) => e,
    }
}

/// The error a read refuses with.
pub async fn read_refused<T: Send + Debug + 'static>(store: &Store, read: Read<T>) -> Error {
    match store.read(read).await {
        Ok(v) => panic!("the read was expected to refuse, and returned {v:?}"),
        Err(e) => e,
    }
}

/// The first page, as large as the suites ever need.
pub fn all() -> PageRequest {
    PageRequest {
        size: 100,
        cursor: None,
    }
}

/// A new organization's sandbox and production scopes.
pub async fn org(store: &Store, name: &str) -> (Scope, Scope) {
    let o = write(store, tenancy::create_organization(name.into()))
        .await
        .organization;
    (
        o.scope(EnvKind::Sandbox).expect("sandbox"),
        o.scope(EnvKind::Production).expect("production"),
    )
}

/// A new `created` inquiry with default attributes.
/// Two organizations' sandboxes with an active connection from the first (`source`) to the
/// second (`destination`).
pub struct Connected {
    pub source: Scope,
    pub destination: Scope,
    pub connection: ConnectionId,
}

/// Makes a source and a destination organization and the active connection between them.
pub async fn connected(store: &Store) -> Connected {
    let (source, _) = org(store, "Source").await;
    let (destination, _) = org(store, "Destination").await;
    let by = Actor::ApiKey(ApiKeyId::generate());
    let c = write(
        store,
        connections::create(source.clone(), destination.org.clone(), None, by),
    )
    .await;
    write(
        store,
        connections::act(
            destination.clone(),
            c.id.clone(),
            ConnectionAction::Activate,
        ),
    )
    .await;
    Connected {
        source,
        destination,
        connection: c.id,
    }
}

pub async fn inquiry(store: &Store, scope: &Scope) -> InquiryId {
    write(store, inquiries::create(scope.clone(), Default::default()))
        .await
        .id
}

/// Every event of a scope, oldest first.
pub async fn all_events(store: &Store, scope: &Scope) -> Vec<Event> {
    let mut items = read(
        store,
        events::list(scope.clone(), Default::default(), all()),
    )
    .await
    .items;
    items.reverse();
    items
}

/// The names of every event of a scope, oldest first.
pub async fn event_names(store: &Store, scope: &Scope) -> Vec<String> {
    all_events(store, scope)
        .await
        .into_iter()
        .map(|e| e.name)
        .collect()
}

/// The names of the events of a scope about one object, oldest first.
pub async fn events_about(store: &Store, scope: &Scope, object_id: &str) -> Vec<String> {
    let filter = events::EventFilter {
        object_ids: vec![object_id.to_owned()],
        ..Default::default()
    };
    let mut items = read(store, events::list(scope.clone(), filter, all()))
        .await
        .items;
    items.reverse();
    items.into_iter().map(|e| e.name).collect()
}

/// Jobs due now or later, leased, dead.
pub async fn job_counts(store: &Store) -> jobs::Counts {
    read(store, jobs::counts()).await
}

/// Claims every due job (leasing it for a minute): what units enqueued, in order.
pub async fn claim_all(store: &Store) -> Vec<jobs::Claimed> {
    write(store, jobs::claim("contract".into(), 60_000, 100)).await
}

/// The jobs a unit enqueued, claimed: each must read as a job.
pub async fn claim_jobs(store: &Store) -> Vec<(JobId, Job)> {
    claim_all(store)
        .await
        .into_iter()
        .map(|c| (c.id, c.job.unwrap_or_else(|e| panic!("{e:?}"))))
        .collect()
}

/// The number of rows of a table (for what no unit reads back, such as a purge).
pub async fn rows(store: &Store, table: &str) -> i64 {
    sql::fetch_one(
        store,
        &format!("select count(*) as n from {table}"),
        args![],
    )
    .await
    .unwrap()
    .i64("n")
    .unwrap()
}

/// The store clock's time.
pub fn now(store: &Store) -> Timestamp {
    sql::now(store)
}
