//! Units of work on connections: each runs the op of the same name in `crate::ops::connections` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::connections::*;

use crate::ops::connections as op;
use crate::paging::{Page, PageRequest};
use tessera_core::connection::{Connection, ConnectionAction};
use tessera_core::id::{ConnectionId, OrganizationId};
use tessera_core::tenancy::{Actor, Scope};

crate::work::units! { op;
    Write create(scope: Scope, destination: OrganizationId, name: Option<String>, creator: Actor) -> Connection = create(&scope, &destination, name, creator);
    Read get(scope: Scope, id: ConnectionId) -> Connection = get(&scope, &id);
    Write act(scope: Scope, id: ConnectionId, action: ConnectionAction) -> Connection = act(&scope, &id, action);
    Read list(scope: Scope, filter: ConnectionFilter, page: PageRequest) -> Page<Connection> = list(&scope, &filter, &page);
}
