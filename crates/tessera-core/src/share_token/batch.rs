//! Batches of share tokens: many creations on one connection, or many redemptions, accepted at
//! once (202) and processed item by item in the background, each item by the single-token unit
//! of work (the same rules, events and compare-and-set as a single call).
//!
//! An item's status: `pending` until processed; a creation is then `created` or `failed` (with
//! the error the single create would have answered); a redemption is `pending` while its token is
//! (the single redeem started it), then `redeemed` or `failed` as the token ends — or `failed` at
//! once with the error the single redeem would have answered.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{RedeemParams, ShareTokenStatus, SourceId, failure};
use crate::error::{Error, codes};
use crate::id::{ConnectionId, ShareTokenBatchId, ShareTokenBatchItemId, ShareTokenId};
use crate::jsonapi::{NoRelationships, Resource};
use crate::tenancy::{Actor, Scope};
use crate::time::Timestamp;

/// The most items one batch may hold.
pub const MAX_ITEMS: usize = 1000;

/// What a create sets on a token besides its connection and source: its lifetime and what it
/// discloses. A batch stores it with each item and hands it to the single create when the item is
/// processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TokenOptions {
    pub expires_in_seconds: i64,
    #[serde(flatten, default)]
    pub disclosure: super::Disclosure,
}

impl super::TokenSpec {
    /// What the spec sets besides its connection and source.
    pub fn options(&self) -> TokenOptions {
        TokenOptions {
            expires_in_seconds: self.expires_in_seconds,
            disclosure: self.disclosure.clone(),
        }
    }

    /// The spec of a token on `connection_id` of `source_id` with `options`.
    pub fn with_options(
        connection_id: ConnectionId,
        source_id: SourceId,
        options: TokenOptions,
    ) -> Self {
        Self {
            connection_id,
            source_id,
            expires_in_seconds: options.expires_in_seconds,
            disclosure: options.disclosure,
        }
    }
}

impl SourceId {
    /// The id as given (`inq_…` or `ver_…`).
    pub fn as_str(&self) -> &str {
        match self {
            SourceId::Inquiry(id) => id.as_str(),
            SourceId::Verification(id) => id.as_str(),
        }
    }
}

/// What a batch does to each of its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchKind {
    Create,
    Redeem,
}

impl BatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchKind::Create => "create",
            BatchKind::Redeem => "redeem",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(Self::Create),
            "redeem" => Some(Self::Redeem),
            _ => None,
        }
    }
}

/// A batch is `pending` until every item has its outcome, then `completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Pending,
    Completed,
}

/// How far an item is, as stored: not yet processed, its token created, its redemption started
/// (its outcome is then its token's), or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Pending,
    Created,
    Started,
    Failed,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Created => "created",
            ItemState::Started => "started",
            ItemState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Created, Self::Started, Self::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An item's status as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pending,
    Created,
    Redeemed,
    Failed,
}

/// Why an item failed: the error the single call would have answered (its HTTP status, code and
/// detail), or — for a redemption that started and then failed — the token's failure code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ItemFailure {
    /// The status the single call would have answered; null for a redemption that failed after
    /// it started (see the token's `failure-code`).
    pub status: Option<u16>,
    pub code: String,
    pub detail: String,
}

impl ItemFailure {
    /// The refusal of a single-token call.
    pub fn of(e: &Error) -> Self {
        Self {
            status: Some(e.status.code()),
            code: e.code.to_string(),
            detail: e.detail.clone(),
        }
    }

    /// A redemption that started and then failed with the token's failure `code`.
    pub fn redemption(code: &str) -> Self {
        Self {
            status: None,
            code: code.to_owned(),
            detail: format!("the redemption failed ({})", failure::persona_reason(code)),
        }
    }

    /// An item the batch could not process (its job gave up after the last attempt).
    pub fn given_up() -> Self {
        Self {
            status: Some(500),
            code: codes::INTERNAL.to_owned(),
            detail: "the batch could not process this item".to_owned(),
        }
    }
}

/// One item of a batch.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub id: ShareTokenBatchItemId,
    /// Its position in the request's `items` (from 0).
    pub index: i64,
    /// The `source-id` (create) or `share-token-id` (redeem) it names.
    pub input_id: String,
    pub state: ItemState,
    /// The token made (create) or whose redemption started (redeem).
    pub share_token_id: Option<ShareTokenId>,
    /// That token's status and failure code, for a started redemption.
    pub token: Option<(ShareTokenStatus, Option<String>)>,
    pub failure: Option<ItemFailure>,
    pub processed_at: Option<Timestamp>,
}

impl BatchItem {
    /// The status shown, and why it failed: a started redemption is its token's.
    pub fn status(&self) -> (ItemStatus, Option<ItemFailure>) {
        match self.state {
            ItemState::Pending => (ItemStatus::Pending, None),
            ItemState::Created => (ItemStatus::Created, None),
            ItemState::Failed => (ItemStatus::Failed, self.failure.clone()),
            ItemState::Started => match &self.token {
                Some((ShareTokenStatus::Redeemed, _)) => (ItemStatus::Redeemed, None),
                Some((ShareTokenStatus::Failed, code)) => (
                    ItemStatus::Failed,
                    Some(ItemFailure::redemption(
                        code.as_deref().unwrap_or(failure::REDEMPTION_ERROR),
                    )),
                ),
                _ => (ItemStatus::Pending, None),
            },
        }
    }

    pub fn to_resource(&self) -> ShareTokenBatchItemResource {
        let (status, failure) = self.status();
        Resource::new(
            "connect/share-token-batch-item",
            self.id.as_str(),
            ShareTokenBatchItemAttributes {
                index: self.index,
                input_id: self.input_id.clone(),
                status,
                share_token_id: self.share_token_id.as_ref().map(|t| t.as_str().to_owned()),
                failure,
                processed_at: self.processed_at,
            },
            NoRelationships {},
        )
    }
}

/// Attributes of a `connect/share-token-batch-item` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShareTokenBatchItemAttributes {
    pub index: i64,
    /// The `source-id` (create) or `share-token-id` (redeem) the item names.
    pub input_id: String,
    pub status: ItemStatus,
    /// The token made, or whose redemption started.
    pub share_token_id: Option<String>,
    /// Set when `status` is `failed`.
    pub failure: Option<ItemFailure>,
    /// When the batch processed the item.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub processed_at: Option<Timestamp>,
}

/// A `connect/share-token-batch-item` resource.
pub type ShareTokenBatchItemResource = Resource<ShareTokenBatchItemAttributes, NoRelationships>;

/// How many items are where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Counts {
    pub total: i64,
    /// `created` or `redeemed`.
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
}

/// A batch.
#[derive(Debug, Clone)]
pub struct ShareTokenBatch {
    pub id: ShareTokenBatchId,
    pub kind: BatchKind,
    /// The environment that made it (only it sees the batch).
    pub scope: Scope,
    pub creator: Actor,
    /// The connection of a create batch.
    pub connection_id: Option<ConnectionId>,
    /// What every redemption of a redeem batch asks for.
    pub redeem_params: Option<RedeemParams>,
    pub counts: Counts,
    pub created_at: Timestamp,
    /// When its job had processed every item.
    pub processed_at: Option<Timestamp>,
    /// When the last item got its outcome (for a redemption: its token's end).
    pub completed_at: Option<Timestamp>,
}

impl ShareTokenBatch {
    pub fn status(&self) -> BatchStatus {
        if self.counts.pending == 0 && self.processed_at.is_some() {
            BatchStatus::Completed
        } else {
            BatchStatus::Pending
        }
    }

    pub fn to_resource(&self) -> ShareTokenBatchResource {
        let completed = self.status() == BatchStatus::Completed;
        Resource::new(
            "connect/share-token-batch",
            self.id.as_str(),
            ShareTokenBatchAttributes {
                kind: self.kind,
                status: self.status(),
                connection_id: self.connection_id.as_ref().map(|c| c.as_str().to_owned()),
                inquiry_template_id: self
                    .redeem_params
                    .as_ref()
                    .and_then(|p| p.inquiry_template_id.as_ref())
                    .map(|t| t.as_str().to_owned()),
                counts: self.counts,
                created_at: self.created_at,
                completed_at: if completed {
                    self.completed_at.or(self.processed_at)
                } else {
                    None
                },
            },
            NoRelationships {},
        )
    }
}

/// Attributes of a `connect/share-token-batch` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShareTokenBatchAttributes {
    pub kind: BatchKind,
    pub status: BatchStatus,
    /// The connection of a `create` batch.
    pub connection_id: Option<String>,
    /// The template a `redeem` batch verifies against.
    pub inquiry_template_id: Option<String>,
    pub counts: Counts,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
}

/// A `connect/share-token-batch` resource.
pub type ShareTokenBatchResource = Resource<ShareTokenBatchAttributes, NoRelationships>;

#[cfg(test)]
mod tests {
    use super::*;

    fn item(state: ItemState, token: Option<(ShareTokenStatus, Option<String>)>) -> BatchItem {
        BatchItem {
            id: ShareTokenBatchItemId::generate(),
            index: 0,
            input_id: "cnst_x".into(),
            state,
            share_token_id: None,
            token,
            failure: None,
            processed_at: None,
        }
    }

    #[test]
    fn a_started_redemption_shows_its_tokens_end() {
        let status = |t| item(ItemState::Started, Some((t, None))).status().0;
        assert_eq!(status(ShareTokenStatus::Pending), ItemStatus::Pending);
        assert_eq!(status(ShareTokenStatus::Redeemed), ItemStatus::Redeemed);
        let (s, f) = item(
            ItemState::Started,
            Some((ShareTokenStatus::Failed, Some("source_redacted".into()))),
        )
        .status();
        assert_eq!(s, ItemStatus::Failed);
        assert_eq!(f.map(|f| f.code), Some("source_redacted".to_owned()));
        assert_eq!(
            item(ItemState::Created, None).status().0,
            ItemStatus::Created
        );
    }

    #[test]
    fn a_refusal_keeps_the_single_calls_error() {
        let e = Error::conflict(codes::SHARE_TOKEN_NOT_REDEEMABLE, "no");
        let f = ItemFailure::of(&e);
        assert_eq!(
            (f.status, f.code.as_str()),
            (Some(409), "share_token_not_redeemable")
        );
    }
}
