//! Share-token batches: the batch and its items written in one unit with the job that processes
//! them, and each item processed in a unit of its own by the single-token op (`share_tokens::create`
//! or `share_token_redemption::redeem`: the same rules, events and compare-and-set), its outcome
//! recorded in the same transaction. A refused item is recorded by a unit of its own, after the
//! refused op rolled back ([`fail_item`]).

use tessera_core::connection::ConnectionStatus;
use tessera_core::id::{
    ConnectionId, JobId, ShareTokenBatchId, ShareTokenBatchItemId, ShareTokenId,
};
use tessera_core::job::{Job, ProcessShareTokenBatch};
use tessera_core::share_token::batch::{
    BatchItem, BatchKind, Counts, ItemFailure, ItemState, ShareTokenBatch, TokenOptions,
};
use tessera_core::share_token::{RedeemParams, ShareTokenStatus, SourceId, TokenSpec};
use tessera_core::tenancy::{Actor, EnvKind, Scope};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::ops::{connections, jobs, lock, share_token_redemption, share_tokens, templates};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::sql::{Arg, json};
use crate::tx::{Row, Tx};

const COLUMNS: &str = "id, organization_id, environment_id, env_kind, kind, connection_id, redeem_params, creator_type, creator_id, total, created_at, processed_at";

fn from_row(r: &Row) -> Result<ShareTokenBatch, Error> {
    let bad = |what: &str| Error::internal(std::io::Error::other(format!("a batch with {what}")));
    Ok(ShareTokenBatch {
        id: ShareTokenBatchId::from_db(r.text("id")?),
        kind: BatchKind::parse(&r.text("kind")?).ok_or_else(|| bad("an unknown kind"))?,
        scope: Scope {
            org: tessera_core::id::OrganizationId::from_db(r.text("organization_id")?),
            env: tessera_core::id::EnvironmentId::from_db(r.text("environment_id")?),
            kind: EnvKind::parse(&r.text("env_kind")?).unwrap_or(EnvKind::Sandbox),
        },
        creator: Actor::from_db(&r.text("creator_type")?, r.text("creator_id")?)
            .ok_or_else(|| bad("an unknown creator"))?,
        connection_id: r.opt_text("connection_id")?.map(ConnectionId::from_db),
        redeem_params: r.opt_json("redeem_params")?,
        counts: Counts {
            total: r.i64("total")?,
            pending: r.i64("total")?,
            ..Counts::default()
        },
        created_at: r.time("created_at")?,
        processed_at: r.opt_time("processed_at")?,
        completed_at: None,
    })
}

/// Batches are seen by the environment that made them only.
const BATCHES: Table<ShareTokenBatch> = Table {
    table: "share_token_batches",
    columns: COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "share token batch",
    from_row,
};

const ITEM_COLUMNS: &str = "seq, id, batch_id, idx, input_id, options, state, share_token_id, failure_status, failure_code, failure_detail, processed_at, token_status, token_failure";

/// The items with their token's status and failure code (a started redemption's outcome is its
/// token's).
const ITEMS: &str = "(select i.seq, i.id, i.batch_id, i.idx, i.input_id, i.options, i.state, i.share_token_id, i.failure_status, i.failure_code, i.failure_detail, i.processed_at, t.status as token_status, t.failure_reason as token_failure
     from share_token_batch_items i left join share_tokens t on t.id = i.share_token_id) items";

fn item_from_row(r: &Row) -> Result<BatchItem, Error> {
    let state = ItemState::parse(&r.text("state")?)
        .ok_or_else(|| Error::internal(std::io::Error::other("an unknown batch item state")))?;
    let failure = match r.opt_text("failure_code")? {
        Some(code) => Some(ItemFailure {
            status: r
                .opt_i64("failure_status")?
                .and_then(|s| u16::try_from(s).ok()),
            code,
            detail: r.opt_text("failure_detail")?.unwrap_or_default(),
        }),
        None => None,
    };
    let token = r
        .opt_text("token_status")?
        .and_then(|s| ShareTokenStatus::parse(&s))
        .map(|s| Ok::<_, Error>((s, r.opt_text("token_failure")?)))
        .transpose()?;
    Ok(BatchItem {
        id: ShareTokenBatchItemId::from_db(r.text("id")?),
        index: r.i64("idx")?,
        input_id: r.text("input_id")?,
        state,
        share_token_id: r.opt_text("share_token_id")?.map(ShareTokenId::from_db),
        token,
        failure,
        processed_at: r.opt_time("processed_at")?,
    })
}

/// Fills in a batch's counts and, once every item has its outcome, when the last one got it.
async fn with_counts(tx: &mut Tx, mut b: ShareTokenBatch) -> Result<ShareTokenBatch, Error> {
    let r = tx
        .fetch_one(
            "select
               coalesce(sum(case when i.state = 'created' or (i.state = 'started' and t.status = 'redeemed') then 1 else 0 end), 0) as succeeded,
               coalesce(sum(case when i.state = 'failed' or (i.state = 'started' and t.status = 'failed') then 1 else 0 end), 0) as failed,
               max(case when i.state = 'started' then coalesce(t.redeemed_at, t.failed_at) end) as last_end
             from share_token_batch_items i left join share_tokens t on t.id = i.share_token_id
             where i.batch_id = $1",
            args![&b.id],
        )
        .await?;
    let (succeeded, failed) = (r.i64("succeeded")?, r.i64("failed")?);
    b.counts = Counts {
        total: b.counts.total,
        succeeded,
        failed,
        pending: b.counts.total - succeeded - failed,
    };
    b.completed_at = match (b.processed_at, r.opt_i64("last_end")?) {
        (Some(p), Some(end)) => Some(p.max(tessera_core::Timestamp::from_millis(end))),
        (p, _) => p,
    };
    Ok(b)
}

/// A batch the caller made, with its counts, or 404.
pub(crate) async fn get(
    tx: &mut Tx,
    scope: &Scope,
    id: &ShareTokenBatchId,
) -> Result<ShareTokenBatch, Error> {
    let b = BATCHES.get(tx, scope, id).await?;
    with_counts(tx, b).await
}

/// A page of a batch's items, in index order (404 for a batch the caller did not make).
pub(crate) async fn items(
    tx: &mut Tx,
    scope: &Scope,
    id: &ShareTokenBatchId,
    page: &PageRequest,
) -> Result<Page<BatchItem>, Error> {
    BATCHES.get(tx, scope, id).await?;
    let filter = Filter::new().and("batch_id = ?", id);
    fetch_page(tx, ITEMS, ITEM_COLUMNS, filter, page)
        .await?
        .try_map(|r| item_from_row(&r))
}

/// One item of a new batch: the id it names and, for a create, its token's options.
struct NewItem {
    input_id: String,
    options: Option<TokenOptions>,
}

/// Writes a batch, its items (last index first: lists show newest first, so in index order) and
/// the job that processes them.
async fn insert(
    tx: &mut Tx,
    b: ShareTokenBatch,
    items: Vec<NewItem>,
) -> Result<ShareTokenBatch, Error> {
    tx.execute(
        "insert into share_token_batches (id, organization_id, environment_id, env_kind, kind, connection_id, redeem_params, creator_type, creator_id, total, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        args![
            &b.id,
            &b.scope.org,
            &b.scope.env,
            b.scope.kind.as_str(),
            b.kind.as_str(),
            b.connection_id.as_ref(),
            b.redeem_params.as_ref().map_or(Arg::NullText, json),
            b.creator.kind(),
            b.creator.id(),
            b.counts.total,
            b.created_at
        ],
    )
    .await?;
    let numbered: Vec<(usize, NewItem)> = items.into_iter().enumerate().rev().collect();
    for chunk in numbered.chunks(100) {
        let mut sql = String::from(
            "insert into share_token_batch_items (id, batch_id, idx, input_id, options, state) values ",
        );
        let mut args = Vec::with_capacity(chunk.len() * 5);
        for (n, (index, item)) in chunk.iter().enumerate() {
            let p = n * 5;
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, 'pending')",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            ));
            args.push(Arg::from(ShareTokenBatchItemId::generate()));
            args.push(Arg::from(&b.id));
            args.push(Arg::from(i64::try_from(*index).unwrap_or(i64::MAX)));
            args.push(Arg::from(item.input_id.as_str()));
            args.push(item.options.as_ref().map_or(Arg::NullText, json));
        }
        tx.execute(&sql, args).await?;
    }
    let job = Job::from(ProcessShareTokenBatch {
        share_token_batch_id: b.id.clone(),
    });
    jobs::enqueue(tx, &job, b.created_at).await?;
    Ok(b)
}

fn new_batch(
    tx: &Tx,
    scope: &Scope,
    kind: BatchKind,
    total: usize,
    creator: Actor,
) -> ShareTokenBatch {
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    ShareTokenBatch {
        id: ShareTokenBatchId::generate(),
        kind,
        scope: scope.clone(),
        creator,
        connection_id: None,
        redeem_params: None,
        counts: Counts {
            total,
            pending: total,
            ..Counts::default()
        },
        created_at: tx.now(),
        processed_at: None,
        completed_at: None,
    }
}

/// A batch of creations on one connection. The connection is checked as the single create checks
/// it (a connection the caller cannot see is 422 `reference_not_found`, the destination side 403
/// `wrong_side`, an inactive one 409); each item's source is checked when the item is processed.
pub(crate) async fn create(
    tx: &mut Tx,
    scope: &Scope,
    connection_id: &ConnectionId,
    items: Vec<(SourceId, TokenOptions)>,
    creator: Actor,
) -> Result<ShareTokenBatch, Error> {
    const CONNECTION: &str = "connection-id";
    let c = connections::get(tx, scope, connection_id)
        .await
        .map_err(|e| e.as_reference().at(CONNECTION))?;
    if !c.is_source(scope) {
        return Err(Error::forbidden(
            codes::WRONG_SIDE,
            "share tokens are created by the source organization of an outbound connection",
        )
        .at(CONNECTION));
    }
    if c.status != ConnectionStatus::Active {
        return Err(
            Error::conflict(codes::CONNECTION_NOT_ACTIVE, "the connection is not active")
                .at(CONNECTION),
        );
    }
    let mut b = new_batch(tx, scope, BatchKind::Create, items.len(), creator);
    b.connection_id = Some(c.id);
    let items = items
        .into_iter()
        .map(|(source, options)| NewItem {
            input_id: source.as_str().to_owned(),
            options: Some(options),
        })
        .collect();
    insert(tx, b, items).await
}

/// A batch of redemptions, each asking for `params`. A template the caller cannot see is 422
/// `reference_not_found`; each token is checked when its item is processed.
pub(crate) async fn redeem(
    tx: &mut Tx,
    scope: &Scope,
    tokens: Vec<ShareTokenId>,
    params: RedeemParams,
    creator: Actor,
) -> Result<ShareTokenBatch, Error> {
    if let Some(template) = &params.inquiry_template_id {
        templates::get(tx, scope, template)
            .await
            .map_err(|e| e.as_reference().at("inquiry-template-id"))?;
    }
    let mut b = new_batch(tx, scope, BatchKind::Redeem, tokens.len(), creator);
    b.redeem_params = Some(params);
    let items = tokens
        .into_iter()
        .map(|t| NewItem {
            input_id: t.into_string(),
            options: None,
        })
        .collect();
    insert(tx, b, items).await
}

/// Up to `limit` items of a batch still to process, in index order (the worker's chunk).
pub(crate) async fn pending_items(
    tx: &mut Tx,
    batch: &ShareTokenBatchId,
    limit: i64,
) -> Result<Vec<ShareTokenBatchItemId>, Error> {
    let rows = tx
        .fetch_all(
            "select id from share_token_batch_items where batch_id = $1 and state = 'pending' order by idx limit $2",
            args![batch, limit],
        )
        .await?;
    rows.iter()
        .map(|r| Ok(ShareTokenBatchItemId::from_db(r.text("id")?)))
        .collect()
}

/// The item `id` (locked) and its batch, if the item is still pending.
async fn pending_item(
    tx: &mut Tx,
    id: &ShareTokenBatchItemId,
) -> Result<Option<(ShareTokenBatch, String, Option<TokenOptions>)>, Error> {
    let suffix = lock(tx);
    let Some(r) = tx
        .fetch_optional(
            &format!("select batch_id, input_id, options, state from share_token_batch_items where id = $1{suffix}"),
            args![id],
        )
        .await?
    else {
        return Ok(None);
    };
    if r.text("state")? != ItemState::Pending.as_str() {
        return Ok(None);
    }
    let batch = BATCHES
        .get_unscoped(tx, ShareTokenBatchId::from_db(r.text("batch_id")?))
        .await?;
    Ok(Some((batch, r.text("input_id")?, r.opt_json("options")?)))
}

async fn record(
    tx: &mut Tx,
    id: &ShareTokenBatchItemId,
    state: ItemState,
    token: Option<&ShareTokenId>,
    failure: Option<&ItemFailure>,
) -> Result<(), Error> {
    let now = tx.now();
    tx.execute(
        "update share_token_batch_items set state = $1, share_token_id = $2, failure_status = $3, failure_code = $4, failure_detail = $5, processed_at = $6 where id = $7 and state = 'pending'",
        args![
            state.as_str(),
            token,
            failure.and_then(|f| f.status).map(i64::from),
            failure.map(|f| f.code.as_str()),
            failure.map(|f| f.detail.as_str()),
            now,
            id
        ],
    )
    .await?;
    Ok(())
}

/// Processes one pending item with the single-token op, as the batch's maker, and records its
/// outcome in the same unit; an item already processed is left alone (`false`). The op's refusal
/// is this unit's error: the unit rolls back and the worker records it with [`fail_item`].
pub(crate) async fn apply_item(tx: &mut Tx, id: &ShareTokenBatchItemId) -> Result<bool, Error> {
    let Some((batch, input, options)) = pending_item(tx, id).await? else {
        return Ok(false);
    };
    let scope = batch.scope.clone();
    match batch.kind {
        BatchKind::Create => {
            let connection = batch.connection_id.clone().ok_or_else(|| {
                Error::internal(std::io::Error::other("a create batch without a connection"))
            })?;
            let options = options.ok_or_else(|| {
                Error::internal(std::io::Error::other("a create item without options"))
            })?;
            let spec = TokenSpec::with_options(connection, SourceId::parse(&input)?, options);
            let t = share_tokens::create(tx, &scope, &spec, batch.creator.clone()).await?;
            record(tx, id, ItemState::Created, Some(&t.id), None).await?;
        }
        BatchKind::Redeem => {
            let token = ShareTokenId::parse(&input).map_err(|_| Error::not_found("share token"))?;
            let params = batch.redeem_params.clone().unwrap_or_default();
            let t = share_token_redemption::redeem(tx, &scope, &token, params).await?;
            record(tx, id, ItemState::Started, Some(&t.id), None).await?;
        }
    }
    Ok(true)
}

/// Records that the single-token op refused an item.
pub(crate) async fn fail_item(
    tx: &mut Tx,
    id: &ShareTokenBatchItemId,
    failure: &ItemFailure,
) -> Result<(), Error> {
    record(tx, id, ItemState::Failed, None, Some(failure)).await
}

/// After a chunk: when no item is left, the batch is processed and its job done (`true`);
/// otherwise the job keeps its lease for `lease_ms` more, for the next chunk (`false`).
pub(crate) async fn advance(
    tx: &mut Tx,
    job: &JobId,
    batch: &ShareTokenBatchId,
    lease_ms: i64,
) -> Result<bool, Error> {
    let now = tx.now();
    if pending_items(tx, batch, 1).await?.is_empty() {
        tx.execute(
            "update share_token_batches set processed_at = $1 where id = $2 and processed_at is null",
            args![now, batch],
        )
        .await?;
        jobs::complete(tx, job).await?;
        return Ok(true);
    }
    jobs::extend_lease(tx, job, now.plus_millis(lease_ms)).await?;
    Ok(false)
}

/// A batch whose job is out of attempts: every item still pending fails, and the batch is
/// processed.
pub(crate) async fn give_up(tx: &mut Tx, batch: &ShareTokenBatchId) -> Result<(), Error> {
    let now = tx.now();
    let f = ItemFailure::given_up();
    tx.execute(
        "update share_token_batch_items set state = 'failed', failure_status = $1, failure_code = $2, failure_detail = $3, processed_at = $4 where batch_id = $5 and state = 'pending'",
        args![f.status.map(i64::from), f.code.as_str(), f.detail.as_str(), now, batch],
    )
    .await?;
    tx.execute(
        "update share_token_batches set processed_at = $1 where id = $2 and processed_at is null",
        args![now, batch],
    )
    .await?;
    Ok(())
}
