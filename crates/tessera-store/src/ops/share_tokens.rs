//! Share tokens: creation, reads and the list from both sides, expiry (by call and by the sweep).
//! A redemption as the token records it is `ops::share_token_redemption`; the copy itself is
//! `ops::redemption`, run by the worker.

use tessera_core::connection::{ConnectionStatus, Direction};
use tessera_core::event::names;
use tessera_core::federation::{Body, OfferedVerification, ShareTokenExpired, ShareTokenOffered};
use tessera_core::id::{
    ConnectionId, EnvironmentId, InquiryId, OrganizationId, ShareTokenId, VerificationId,
};
use tessera_core::share_token::{RedeemMode, ShareToken, ShareTokenStatus, SourceId, TokenSpec};
use tessera_core::tenancy::{Actor, EnvKind, Scope};
use tessera_core::verification::{VerificationKind, VerificationStatus};
use tessera_core::{Error, Timestamp, codes};

use crate::args;
use crate::ops::scoped::{ON_EITHER_SIDE, Table};
use crate::ops::{connections, fanout, inquiries, peer_messages, verifications};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx};

const COLUMNS: &str = "id, connection_id, env_kind, source_org, source_env, destination_org, destination_env, source_inquiry_id, status, creator_type, creator_id, created_at, updated_at, pending_at, redeemed_at, expires_at, failed_at, failure_reason, destination_inquiry_id, redeem_params, redeem_mode, source_verification_id, source_verification_kind, destination_verification_id, disclosure, copy_digest, manifest_matched, receipt";

fn from_row(r: &Row) -> Result<ShareToken, Error> {
    let creator = match (r.opt_text("creator_type")?, r.opt_text("creator_id")?) {
        (Some(t), Some(id)) => Actor::from_db(&t, id),
        _ => None,
    };
    Ok(ShareToken {
        id: ShareTokenId::from_db(r.text("id")?),
        connection_id: ConnectionId::from_db(r.text("connection_id")?),
        kind: EnvKind::parse(&r.text("env_kind")?).unwrap_or(EnvKind::Sandbox),
        source_org: OrganizationId::from_db(r.text("source_org")?),
        source_env: EnvironmentId::from_db(r.text("source_env")?),
        destination_org: OrganizationId::from_db(r.text("destination_org")?),
        destination_env: EnvironmentId::from_db(r.text("destination_env")?),
        source_inquiry_id: InquiryId::from_db(r.text("source_inquiry_id")?),
        status: ShareTokenStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown share token status")))?,
        creator,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        pending_at: r.opt_time("pending_at")?,
        redeemed_at: r.opt_time("redeemed_at")?,
        expires_at: r.time("expires_at")?,
        failed_at: r.opt_time("failed_at")?,
        failure_reason: r.opt_text("failure_reason")?,
        destination_inquiry_id: r
            .opt_text("destination_inquiry_id")?
            .map(InquiryId::from_db),
        destination_verification_id: r
            .opt_text("destination_verification_id")?
            .map(VerificationId::from_db),
        source_verification: match (
            r.opt_text("source_verification_kind")?
                .and_then(|k| VerificationKind::parse(&k)),
            r.opt_text("source_verification_id")?,
        ) {
            (Some(kind), Some(id)) => Some((kind, VerificationId::from_db(id))),
            _ => None,
        },
        redeem_mode: r
            .opt_text("redeem_mode")?
            .and_then(|m| RedeemMode::parse(&m)),
        redeem_params: r.opt_json("redeem_params")?,
        disclosure: r.opt_json("disclosure")?.unwrap_or_default(),
        copy_digest: r.opt_text("copy_digest")?,
        manifest_matched: r.opt_i64("manifest_matched")?.map(|m| m != 0),
        receipt: r.opt_text("receipt")?,
    })
}

/// Emits `outbound_name` to the source and `inbound_name` to the destination, each with the
/// token as that side sees it.
pub(crate) async fn emit_pair(
    tx: &mut Tx,
    t: &ShareToken,
    outbound_name: &str,
    inbound_name: &str,
) -> Result<(), Error> {
    let now = tx.now();
    fanout::emit(
        tx,
        &t.source_env,
        outbound_name,
        t.to_resource(Direction::Outbound, now, None).to_value(),
    )
    .await?;
    fanout::emit(
        tx,
        &t.destination_env,
        inbound_name,
        t.to_resource(Direction::Inbound, now, None).to_value(),
    )
    .await?;
    Ok(())
}

/// A reference in a create body that the caller cannot see: 422 `reference_not_found` at the
/// attribute (Persona documents no 404 for `POST /connect/share-tokens`).
fn unknown_reference(e: Error, pointer: &str) -> Error {
    if e.is(codes::NOT_FOUND) {
        Error::invalid(codes::REFERENCE_NOT_FOUND, e.detail).at(pointer)
    } else {
        e
    }
}

/// Creates a token on an active outbound connection for a shareable inquiry of the caller, or
/// one of its verifications (passed, of a shared kind, its inquiry not redacted).
pub(crate) async fn create(
    tx: &mut Tx,
    scope: &Scope,
    spec: &TokenSpec,
    creator: Actor,
) -> Result<ShareToken, Error> {
    const CONNECTION: &str = "connection-id";
    const SOURCE: &str = "source-id";
    let (connection_id, source_id) = (&spec.connection_id, &spec.source_id);
    let c = connections::get(tx, scope, connection_id)
        .await
        .map_err(|e| unknown_reference(e, CONNECTION))?;
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
    let (inquiry_id, source_verification) = match source_id {
        SourceId::Inquiry(id) => {
            let inquiry = inquiries::get_referenced(tx, scope, id, SOURCE)
                .await
                .map_err(|e| unknown_reference(e, SOURCE))?;
            if inquiry.redacted_at.is_some() || !inquiry.status.is_shareable() {
                return Err(Error::invalid(
                    codes::SOURCE_NOT_SHAREABLE,
                    format!(
                        "only completed or approved inquiries that are not redacted can be shared (this one is {}{})",
                        inquiry.status.as_str(),
                        if inquiry.redacted_at.is_some() { ", redacted" } else { "" }
                    ),
                )
                .at(SOURCE));
            }
            (id.clone(), None)
        }
        SourceId::Verification(id) => {
            let v = verifications::get(tx, scope, id)
                .await
                .map_err(|e| unknown_reference(e, SOURCE))?;
            let inquiry = inquiries::get_referenced(tx, scope, &v.inquiry_id, SOURCE).await?;
            // A redacted verification keeps its row (its type and status) but has nothing left
            // to share.
            let redacted = tx
                .fetch_one(
                    "select redacted_at from verifications where id = $1",
                    args![id],
                )
                .await?
                .opt_i64("redacted_at")?
                .is_some();
            if inquiry.redacted_at.is_some()
                || redacted
                || v.status != VerificationStatus::Passed
                || v.kind == VerificationKind::ShareToken
            {
                return Err(Error::invalid(
                    codes::SOURCE_NOT_SHAREABLE,
                    format!(
                        "only passed verifications (not share-token ones, not redacted) of inquiries that are not redacted can be shared (this one is a {}{} {} verification{})",
                        if redacted { "redacted " } else { "" },
                        v.status.as_str(),
                        v.kind.as_str(),
                        if inquiry.redacted_at.is_some() { " of a redacted inquiry" } else { "" }
                    ),
                )
                .at(SOURCE));
            }
            if !spec.disclosure.is_everything() {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "a token sharing one verification shares all of it: allowed-fields, allowed-verifications and allowed-documents apply to an inquiry source",
                )
                .at(SOURCE));
            }
            (v.inquiry_id.clone(), Some((v.kind, v.id.clone())))
        }
    };
    let now = tx.now();
    let t = ShareToken {
        id: ShareTokenId::generate(),
        connection_id: c.id.clone(),
        kind: c.kind,
        source_org: c.source_org.clone(),
        source_env: c.source_env.clone(),
        destination_org: c.destination_org.clone(),
        destination_env: c.destination_env.clone(),
        source_inquiry_id: inquiry_id,
        source_verification,
        status: ShareTokenStatus::Created,
        creator: Some(creator),
        created_at: now,
        updated_at: now,
        pending_at: None,
        redeemed_at: None,
        expires_at: now.plus_seconds(spec.expires_in_seconds),
        failed_at: None,
        failure_reason: None,
        destination_inquiry_id: None,
        destination_verification_id: None,
        redeem_mode: None,
        redeem_params: None,
        disclosure: spec.disclosure.clone(),
        copy_digest: None,
        manifest_matched: None,
        receipt: None,
    };
    insert(tx, &t).await?;
    // A destination of a peer (the connection's other side, the caller being its source) is
    // offered the token.
    if let Some(home) = &c.peer_instance {
        let offered = ShareTokenOffered {
            share_token_id: t.id.clone(),
            connection_id: t.connection_id.clone(),
            source_inquiry_id: t.source_inquiry_id.clone(),
            expires_at: t.expires_at,
            disclosure: t.disclosure.clone(),
            source_verification: t.source_verification.as_ref().map(|(kind, id)| {
                OfferedVerification {
                    id: id.clone(),
                    kind: *kind,
                }
            }),
        };
        peer_messages::send(tx, home, Body::ShareTokenOffered(offered)).await?;
    }
    Ok(t)
}

/// Stores a new token and emits its `created` pair.
pub(crate) async fn insert(tx: &mut Tx, t: &ShareToken) -> Result<(), Error> {
    tx.execute(
        "insert into share_tokens (id, connection_id, env_kind, source_org, source_env, destination_org, destination_env, source_inquiry_id, status, creator_type, creator_id, created_at, updated_at, expires_at, source_verification_id, source_verification_kind, disclosure) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        args![
            &t.id,
            &t.connection_id,
            t.kind.as_str(),
            &t.source_org,
            &t.source_env,
            &t.destination_org,
            &t.destination_env,
            &t.source_inquiry_id,
            t.status.as_str(),
            t.creator.as_ref().map(Actor::kind),
            t.creator.as_ref().map(Actor::id),
            t.created_at,
            t.updated_at,
            t.expires_at,
            t.source_verification.as_ref().map(|(_, id)| id),
            t.source_verification.as_ref().map(|(k, _)| k.as_str()),
            (!t.disclosure.is_everything())
                .then(|| serde_json::to_string(&t.disclosure).unwrap_or_default())
        ],
    )
    .await?;
    emit_pair(
        tx,
        t,
        names::SHARE_TOKEN_OUTBOUND_CREATED,
        names::SHARE_TOKEN_INBOUND_CREATED,
    )
    .await?;
    Ok(())
}

/// Where share tokens are stored, for the scoped fetch.
const SHARE_TOKENS: Table<ShareToken> = Table {
    table: "share_tokens",
    columns: COLUMNS,
    visible: ON_EITHER_SIDE,
    noun: "share token",
    from_row,
};

/// A token the caller is a side of, or 404.
pub(crate) async fn get(
    tx: &mut Tx,
    scope: &Scope,
    id: &ShareTokenId,
) -> Result<ShareToken, Error> {
    SHARE_TOKENS.get(tx, scope, id).await
}

/// A token by id alone, locked (for the worker).
pub(crate) async fn get_unscoped_for_update(
    tx: &mut Tx,
    id: &ShareTokenId,
) -> Result<ShareToken, Error> {
    SHARE_TOKENS.get_unscoped_for_update(tx, id).await
}

/// Expires a `created` token by call (either side); any other status → 409. A token past its
/// `expires-at` is already `expired` (as every read reports it), so expiring it is refused too,
/// whether or not the sweep has persisted it yet.
pub(crate) async fn expire(
    tx: &mut Tx,
    scope: &Scope,
    id: &ShareTokenId,
) -> Result<ShareToken, Error> {
    let t = SHARE_TOKENS.get_for_update(tx, scope, id).await?;
    let now = tx.now();
    match t.status_at(now) {
        ShareTokenStatus::Created => {
            let t = mark_expired(tx, t, now).await?;
            // The other side, when it lives on a peer, is told (not sent back to a peer whose
            // side expired it: the other side is then this instance's).
            let other = if t.is_source(scope) {
                &t.destination_org
            } else {
                &t.source_org
            };
            let expired = ShareTokenExpired {
                share_token_id: t.id.clone(),
                by: scope.org.clone(),
            };
            peer_messages::tell(tx, other, Body::ShareTokenExpired(expired)).await?;
            Ok(t)
        }
        other => Err(Error::conflict(
            codes::INVALID_STATUS_TRANSITION,
            format!("a {} share token cannot be expired", other.as_str()),
        )),
    }
}

async fn mark_expired(tx: &mut Tx, t: ShareToken, at: Timestamp) -> Result<ShareToken, Error> {
    let now = tx.now();
    let changed = tx
        .execute(
            "update share_tokens set status = 'expired', expires_at = $1, updated_at = $2 where id = $3 and status = 'created'",
            args![at, now, &t.id],
        )
        .await?;
    let t = ShareToken {
        status: ShareTokenStatus::Expired,
        expires_at: at,
        updated_at: now,
        ..t
    };
    if changed == 1 {
        emit_pair(
            tx,
            &t,
            names::SHARE_TOKEN_OUTBOUND_EXPIRED,
            names::SHARE_TOKEN_INBOUND_EXPIRED,
        )
        .await?;
    }
    Ok(t)
}

/// Persists the expiry of up to `limit` tokens whose time has passed, with their events.
/// Returns how many it expired. Safe to run in several processes at once.
pub(crate) async fn sweep_expired(tx: &mut Tx, limit: i64) -> Result<usize, Error> {
    let now = tx.now();
    let skip_locked = match tx.dialect() {
        crate::Dialect::Postgres => " for update skip locked",
        crate::Dialect::Sqlite => "",
    };
    let rows = tx
        .fetch_all(
            &format!("select {COLUMNS} from share_tokens where status = 'created' and expires_at <= $1 order by expires_at limit $2{skip_locked}"),
            args![now, limit],
        )
        .await?;
    let mut n = 0;
    for r in rows {
        let t = from_row(&r)?;
        let at = t.expires_at;
        mark_expired(tx, t, at).await?;
        n += 1;
    }
    Ok(n)
}

/// Filters of the token list.
#[derive(Debug, Clone, Default)]
pub struct ShareTokenFilter {
    pub statuses: Vec<ShareTokenStatus>,
    pub direction: Option<Direction>,
    pub connection_id: Option<ConnectionId>,
}

/// Both directions, newest first. Status filters use the status at `now` (a token past its
/// time is `expired` before the sweep persists it).
pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    filter: &ShareTokenFilter,
    page: &PageRequest,
) -> Result<Page<ShareToken>, Error> {
    let now = tx.now();
    let mut f = match filter.direction {
        None => Filter::new().and("(source_env = ? or destination_env = ?)", &scope.env),
        Some(Direction::Outbound) => Filter::new().and("source_env = ?", &scope.env),
        Some(Direction::Inbound) => Filter::new().and("destination_env = ?", &scope.env),
    }
    .and_opt("connection_id = ?", filter.connection_id.clone());
    if !filter.statuses.is_empty() {
        let mut parts = Vec::new();
        let mut plain = Vec::new();
        for s in &filter.statuses {
            match s {
                ShareTokenStatus::Created => parts.push("(status = 'created' and expires_at > ?)"),
                ShareTokenStatus::Expired => {
                    parts.push("(status = 'expired' or (status = 'created' and expires_at <= ?))")
                }
                other => plain.push(format!("'{}'", other.as_str())),
            }
        }
        let mut clause = parts.join(" or ");
        if !plain.is_empty() {
            if !clause.is_empty() {
                clause.push_str(" or ");
            }
            clause.push_str(&format!("status in ({})", plain.join(", ")));
        }
        f = if clause.contains('?') {
            f.and(&format!("({clause})"), now)
        } else {
            f.and_raw(&format!("({clause})"))
        };
    }
    fetch_page(tx, "share_tokens", COLUMNS, f, page)
        .await?
        .try_map(|r| from_row(&r))
}
