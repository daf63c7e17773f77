//! Units of work on share-token batches: each runs the op of the same name in
//! `crate::ops::share_token_batches` as one transaction. Submitting a batch ([`create`],
//! [`redeem`]) writes it, its items and its job; the worker then runs [`pending_items`], one
//! [`apply_item`] per item (the single-token unit and the item's outcome, or the refusal recorded
//! by [`fail_item`] after it rolled back), and [`advance`] after each chunk, until none is left.

use crate::ops::share_token_batches as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::{
    ConnectionId, JobId, ShareTokenBatchId, ShareTokenBatchItemId, ShareTokenId,
};
use tessera_core::share_token::batch::{BatchItem, ItemFailure, ShareTokenBatch, TokenOptions};
use tessera_core::share_token::{RedeemParams, SourceId};
use tessera_core::tenancy::{Actor, Scope};

crate::work::units! { op;
    /// A batch of creations on one connection (each item: a source and its token's options).
    Write create(scope: Scope, connection_id: ConnectionId, items: Vec<(SourceId, TokenOptions)>, creator: Actor) -> ShareTokenBatch = create(&scope, &connection_id, items, creator);
    /// A batch of redemptions, each asking for `params`.
    Write redeem(scope: Scope, tokens: Vec<ShareTokenId>, params: RedeemParams, creator: Actor) -> ShareTokenBatch = redeem(&scope, tokens, params, creator);
    /// A batch the caller made, with its counts, or 404.
    Read get(scope: Scope, id: ShareTokenBatchId) -> ShareTokenBatch = get(&scope, &id);
    /// A page of a batch's items, in index order.
    Read items(scope: Scope, id: ShareTokenBatchId, page: PageRequest) -> Page<BatchItem> = items(&scope, &id, &page);
    /// Up to `limit` items still to process, in index order.
    Read pending_items(batch: ShareTokenBatchId, limit: i64) -> Vec<ShareTokenBatchItemId> = pending_items(&batch, limit);
    /// Processes one pending item (`false`: it was already processed).
    Write apply_item(id: ShareTokenBatchItemId) -> bool = apply_item(&id);
    /// Records the single-token op's refusal of an item.
    Write fail_item(id: ShareTokenBatchItemId, failure: ItemFailure) -> () = fail_item(&id, &failure);
    /// After a chunk: finishes the batch and its job (`true`), or keeps the job's lease for
    /// `lease_ms` more for the next chunk.
    Write advance(job: JobId, batch: ShareTokenBatchId, lease_ms: i64) -> bool = advance(&job, &batch, lease_ms);
}
