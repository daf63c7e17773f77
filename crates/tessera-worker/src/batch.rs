//! The share-token batch job: a batch's pending items chunk by chunk, each item in a unit of work
//! of its own (the single-token unit and the item's outcome), the job's lease kept after each
//! chunk, until none is left and the job is done. An item the single-token unit refuses (an error the API would have
//! answered with a 4xx, other than a conflict with a concurrent change) is recorded as failed with
//! that error; any other error fails the job, which is retried on the one internal policy — items
//! already processed stay processed, and a retry skips them.

use futures::StreamExt;
use tessera_core::id::{JobId, ShareTokenBatchItemId};
use tessera_core::job::ProcessShareTokenBatch;
use tessera_core::share_token::batch::ItemFailure;
use tessera_core::{Error, codes};
use tessera_store::units::share_token_batches as batches;

use super::Worker;

/// Items per chunk (the job's lease is extended after each).
pub const CHUNK: i64 = 100;
/// Items of a chunk in flight at once (on SQLite they share the writer's group commits).
const IN_FLIGHT: usize = 32;

/// A final refusal of an item: what the single call would have answered with a 4xx; a conflict
/// with a concurrent change (a unique violation) is worth retrying instead.
fn refused(e: &Error) -> bool {
    e.status.code() < 500 && !e.is(codes::CONFLICT)
}

async fn process(worker: &Worker, item: ShareTokenBatchItemId) -> Result<(), Error> {
    match worker.store.write(batches::apply_item(item.clone())).await {
        Ok(_) => Ok(()),
        Err(e) if refused(&e) => {
            worker
                .store
                .write(batches::fail_item(item, ItemFailure::of(&e)))
                .await
        }
        Err(e) => Err(e),
    }
}

/// Runs a batch, one chunk after another, keeping the job's lease between chunks, until no item
/// is left (a worker that dies leaves the rest to the next claim of the job).
pub(super) async fn run(
    worker: &Worker,
    job: &JobId,
    p: &ProcessShareTokenBatch,
) -> Result<(), Error> {
    let batch = p.share_token_batch_id.clone();
    loop {
        let items = worker
            .store
            .read(batches::pending_items(batch.clone(), CHUNK))
            .await?;
        let results: Vec<Result<(), Error>> = futures::stream::iter(items)
            .map(|item| process(worker, item))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), Error>>()?;
        let unit = batches::advance(job.clone(), batch.clone(), worker.lease_ms);
        if worker.store.write(unit).await? {
            tracing::info!(share_token_batch.id = %batch, "share token batch processed");
            return Ok(());
        }
    }
}
