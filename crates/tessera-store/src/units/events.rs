//! Units of work on events: each runs the op of the same name in `crate::ops::events` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::events::*;

use crate::ops::events as op;
use crate::paging::{Page, PageRequest};
use tessera_core::event::Event;
use tessera_core::id::EventId;
use tessera_core::tenancy::Scope;

crate::work::units! { op;
    Read list(scope: Scope, filter: EventFilter, page: PageRequest) -> Page<Event> = list(&scope, &filter, &page);
    Read get(scope: Scope, id: EventId) -> Event = get(&scope, &id);
}
