//! Units of work on share tokens: each runs the op of the same name in `crate::ops::share_tokens` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::share_tokens::*;

use crate::ops::share_tokens as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::{ConnectionId, ShareTokenId};
use tessera_core::share_token::{RedeemParams, ShareToken, SourceId};
use tessera_core::tenancy::{Actor, Scope};

crate::work::units! { op;
    Write create(scope: Scope, connection_id: ConnectionId, source_id: SourceId, expires_in_seconds: i64, creator: Actor) -> ShareToken = create(&scope, &connection_id, &source_id, expires_in_seconds, creator);
    Read get(scope: Scope, id: ShareTokenId) -> ShareToken = get(&scope, &id);
    Write redeem(scope: Scope, id: ShareTokenId, params: RedeemParams) -> ShareToken = redeem(&scope, &id, params);
    Write expire(scope: Scope, id: ShareTokenId) -> ShareToken = expire(&scope, &id);
    Write sweep_expired(limit: i64) -> usize = sweep_expired(limit);
    Read list(scope: Scope, filter: ShareTokenFilter, page: PageRequest) -> Page<ShareToken> = list(&scope, &filter, &page);
}
