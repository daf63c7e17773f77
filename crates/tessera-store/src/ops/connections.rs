//! Connections between organizations, visible to both sides.

use tessera_core::connection::{Connection, ConnectionAction, ConnectionStatus, Direction};
use tessera_core::federation::{Body, ConnectionChanged, ConnectionOffered};
use tessera_core::id::{ConnectionId, EnvironmentId, OrganizationId};
use tessera_core::source_status::SourceChange;
use tessera_core::tenancy::{Actor, EnvKind, Scope};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::scoped::{ON_EITHER_SIDE, Table};
use crate::ops::source_changes::{self, Changed};
use crate::ops::{fanout, peer_messages, tenancy};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};

const COLUMNS: &str = "id, env_kind, source_org, source_env, destination_org, destination_env, status, name, creator_type, creator_id, created_at, updated_at, activated_at, deactivated_at";
/// What is read of a connection: its columns and the home instance of its side that lives on a
/// peer, if one does.
const READ_COLUMNS: &str = "id, env_kind, source_org, source_env, destination_org, destination_env, status, name, creator_type, creator_id, created_at, updated_at, activated_at, deactivated_at, (select o.home_instance from organizations o where o.home_instance is not null and o.id in (connections.source_org, connections.destination_org)) as peer_instance";

fn from_row(r: &Row) -> Result<Connection, Error> {
    let creator = match (r.opt_text("creator_type")?, r.opt_text("creator_id")?) {
        (Some(t), Some(id)) => Actor::from_db(&t, id),
        _ => None,
    };
    Ok(Connection {
        id: ConnectionId::from_db(r.text("id")?),
        kind: EnvKind::parse(&r.text("env_kind")?).unwrap_or(EnvKind::Sandbox),
        source_org: OrganizationId::from_db(r.text("source_org")?),
        source_env: EnvironmentId::from_db(r.text("source_env")?),
        destination_org: OrganizationId::from_db(r.text("destination_org")?),
        destination_env: EnvironmentId::from_db(r.text("destination_env")?),
        status: ConnectionStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown connection status")))?,
        name: r.opt_text("name")?,
        creator,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        activated_at: r.opt_time("activated_at")?,
        deactivated_at: r.opt_time("deactivated_at")?,
        peer_instance: r.opt_text("peer_instance")?,
    })
}

/// Emits the outbound event to the source and the inbound event to the destination, each with
/// the connection as that side sees it.
async fn emit_pair(
    tx: &mut Tx,
    c: &Connection,
    outbound: &str,
    inbound: &str,
) -> Result<(), Error> {
    fanout::emit(
        tx,
        &c.source_env,
        outbound,
        c.to_resource(Direction::Outbound).to_value(),
    )
    .await?;
    fanout::emit(
        tx,
        &c.destination_env,
        inbound,
        c.to_resource(Direction::Inbound).to_value(),
    )
    .await?;
    Ok(())
}

async fn open_exists(
    tx: &mut Tx,
    source: &OrganizationId,
    destination: &OrganizationId,
    kind: EnvKind,
) -> Result<bool, Error> {
    let row = tx
        .fetch_one(
            "select count(*) as n from connections where source_org = $1 and destination_org = $2 and env_kind = $3 and status <> 'inactive'",
            args![source, destination, kind.as_str()],
        )
        .await?;
    Ok(row.i64("n")? > 0)
}

fn exists_error() -> Error {
    Error::conflict(
        codes::CONNECTION_EXISTS,
        "a pending or active connection to this organization already exists",
    )
}

/// Creates a `pending` connection from the caller (source) to `destination`.
pub(crate) async fn create(
    tx: &mut Tx,
    scope: &Scope,
    destination: &OrganizationId,
    name: Option<String>,
    creator: Actor,
) -> Result<Connection, Error> {
    let dest = tenancy::scope_of(tx, destination, scope.kind)
        .await
        .map_err(|e| e.as_reference().at("destination-organization-id"))?;
    // An organization of a peer instance: only while the peer is registered.
    let home = peer_messages::home_of(tx, destination).await?;
    if let Some(home) = &home {
        peer_messages::check_peer(tx, home, "destination-organization-id").await?;
    }
    if open_exists(tx, &scope.org, destination, scope.kind).await? {
        return Err(exists_error().at("destination-organization-id"));
    }
    let now = tx.now();
    let c = Connection {
        id: ConnectionId::generate(),
        kind: scope.kind,
        source_org: scope.org.clone(),
        source_env: scope.env.clone(),
        destination_org: dest.org,
        destination_env: dest.env,
        status: ConnectionStatus::Pending,
        name,
        creator: Some(creator),
        created_at: now,
        updated_at: now,
        activated_at: None,
        deactivated_at: None,
        peer_instance: home,
    };
    insert(tx, &c).await?;
    // A destination of a peer is offered the connection (its home, read above, is the peer).
    if let Some(home) = &c.peer_instance {
        let source = tenancy::get_organization(tx, &c.source_org).await?;
        let offered = ConnectionOffered {
            connection_id: c.id.clone(),
            kind: c.kind,
            source_organization_id: c.source_org.clone(),
            source_organization_name: source.name,
            destination_organization_id: c.destination_org.clone(),
            name: c.name.clone(),
        };
        peer_messages::send(tx, home, Body::ConnectionOffered(offered)).await?;
    }
    Ok(c)
}

/// Stores a new connection and emits its `created` pair; 409 `connection_exists` when the two
/// organizations have an open one of its kind.
async fn insert(tx: &mut Tx, c: &Connection) -> Result<(), Error> {
    let inserted = tx
        .execute(
            &format!("insert into connections ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) on conflict do nothing"),
            args![
                &c.id,
                c.kind.as_str(),
                &c.source_org,
                &c.source_env,
                &c.destination_org,
                &c.destination_env,
                c.status.as_str(),
                c.name.as_ref(),
                c.creator.as_ref().map(Actor::kind),
                c.creator.as_ref().map(Actor::id),
                c.created_at,
                c.updated_at,
                c.activated_at,
                c.deactivated_at
            ],
        )
        .await?;
    if inserted == 0 {
        // A concurrent creation won the race: the same answer as the check above.
        return Err(exists_error().at("destination-organization-id"));
    }
    emit_pair(
        tx,
        c,
        tessera_core::event::names::CONNECTION_OUTBOUND_CREATED,
        tessera_core::event::names::CONNECTION_INBOUND_CREATED,
    )
    .await?;
    Ok(())
}

/// Records the connection a peer's organization (the source, a stand-in here) offered to one of
/// this instance's (`offered.destination_organization_id`), under the peer's id for it.
pub(crate) async fn offered(
    tx: &mut Tx,
    source: &Scope,
    offered: ConnectionOffered,
) -> Result<Connection, Error> {
    if peer_messages::home_of(tx, &offered.destination_organization_id)
        .await?
        .is_some()
    {
        return Err(Error::forbidden(
            codes::MESSAGE_REFUSED,
            "the destination of an offered connection is an organization of this instance",
        ));
    }
    let dest = tenancy::scope_of(tx, &offered.destination_organization_id, source.kind).await?;
    let now = tx.now();
    let c = Connection {
        id: offered.connection_id,
        kind: source.kind,
        source_org: source.org.clone(),
        source_env: source.env.clone(),
        destination_org: dest.org,
        destination_env: dest.env,
        status: ConnectionStatus::Pending,
        name: offered.name,
        creator: None,
        created_at: now,
        updated_at: now,
        activated_at: None,
        deactivated_at: None,
        peer_instance: peer_messages::home_of(tx, &source.org).await?,
    };
    insert(tx, &c).await?;
    Ok(c)
}

/// Where connections are stored, for the scoped fetch.
const CONNECTIONS: Table<Connection> = Table {
    table: "connections",
    columns: READ_COLUMNS,
    visible: ON_EITHER_SIDE,
    noun: "connection",
    from_row,
};

/// A connection the caller is a side of, or 404.
pub(crate) async fn get(
    tx: &mut Tx,
    scope: &Scope,
    id: &ConnectionId,
) -> Result<Connection, Error> {
    CONNECTIONS.get(tx, scope, id).await
}

/// A connection the caller is a side of, locked for the rest of the unit of work.
pub(crate) async fn get_for_update(
    tx: &mut Tx,
    scope: &Scope,
    id: &ConnectionId,
) -> Result<Connection, Error> {
    CONNECTIONS.get_for_update(tx, scope, id).await
}

/// A connection by id alone (background work that already knows it is allowed).
pub(crate) async fn get_unscoped(tx: &mut Tx, id: &ConnectionId) -> Result<Connection, Error> {
    CONNECTIONS.get_unscoped(tx, id).await
}

/// Applies an action of the caller's side.
pub(crate) async fn act(
    tx: &mut Tx,
    scope: &Scope,
    id: &ConnectionId,
    action: ConnectionAction,
) -> Result<Connection, Error> {
    let mut c = get_for_update(tx, scope, id).await?;
    let (to, outbound, inbound) =
        action.apply(c.status, c.is_source(scope), c.is_destination(scope))?;
    if action == ConnectionAction::Reactivate
        && open_exists(tx, &c.source_org, &c.destination_org, c.kind).await?
    {
        return Err(exists_error());
    }
    let now = tx.now();
    c.status = to;
    c.updated_at = now;
    match to {
        ConnectionStatus::Active => c.activated_at = Some(now),
        ConnectionStatus::Inactive => c.deactivated_at = Some(now),
        ConnectionStatus::Pending => {}
    }
    tx.execute(
        "update connections set status = $1, updated_at = $2, activated_at = $3, deactivated_at = $4 where id = $5",
        args![c.status.as_str(), c.updated_at, c.activated_at, c.deactivated_at, &c.id],
    )
    .await
    // A concurrent reactivation or creation won the race for the one open connection (the
    // unique index refuses this one): the same answer as the check above.
    .map_err(|e| if e.is(codes::CONFLICT) { exists_error() } else { e })?;
    emit_pair(tx, &c, outbound, inbound).await?;
    // The other side, when it lives on a peer, is told (a change a peer reported is not sent
    // back: its other side is this instance's).
    let other = if c.is_source(scope) {
        &c.destination_org
    } else {
        &c.source_org
    };
    let changed = ConnectionChanged {
        connection_id: c.id.clone(),
        action: action.as_str().to_owned(),
        by: scope.org.clone(),
    };
    peer_messages::tell(tx, other, Body::ConnectionChanged(changed)).await?;
    // The source withdrawing the connection revokes what it shared over it: every destination
    // copy is told. A destination ending the connection itself needs no notice.
    if action == ConnectionAction::Deactivate && c.is_source(scope) {
        let changed = Changed::Connection(&c.id);
        source_changes::notify(tx, &c.source_env, changed, SourceChange::Revoked).await?;
    }
    Ok(c)
}

/// Filters of the connection list.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFilter {
    pub statuses: Vec<ConnectionStatus>,
    pub direction: Option<Direction>,
    pub destination_org: Option<OrganizationId>,
}

/// Both directions, newest first.
pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    filter: &ConnectionFilter,
    page: &PageRequest,
) -> Result<Page<Connection>, Error> {
    let f = match filter.direction {
        None => Filter::new().and("(source_env = ? or destination_env = ?)", &scope.env),
        Some(Direction::Outbound) => Filter::new().and("source_env = ?", &scope.env),
        Some(Direction::Inbound) => Filter::new().and("destination_env = ?", &scope.env),
    }
    .and_in(
        "status",
        filter.statuses.iter().map(|s| s.as_str()).collect(),
    );
    let f = match &filter.destination_org {
        Some(org) => f.and("destination_org = ?", org),
        None => f,
    };
    fetch_page(tx, "connections", READ_COLUMNS, f, page)
        .await?
        .try_map(|r| from_row(&r))
}
