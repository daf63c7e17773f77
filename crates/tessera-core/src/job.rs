//! The kinds of background job, each with its payload. A job row stores a kind string and a JSON
//! payload; [`Job`] is their typed form, written by the unit of work that causes the job and read
//! back by the worker. The stored shapes are a contract with rows already in a database: a kind
//! string or a payload member never changes name (the tests pin the literal JSON).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::id::{DeliveryId, ShareTokenBatchId, ShareTokenId, WorkflowRunId};
use crate::source_status::SourceChange;
use crate::time::Timestamp;
use crate::workflow::Cause;

/// A background job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    RedeemShareToken(RedeemShareToken),
    DeliverWebhook(DeliverWebhook),
    RunWorkflow(RunWorkflow),
    NotifySourceChange(NotifySourceChange),
    ProcessShareTokenBatch(ProcessShareTokenBatch),
    SendPeerMessage(SendPeerMessage),
}

/// Copy a share token's source into its destination: `{"share-token-id", "cause"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RedeemShareToken {
    pub share_token_id: ShareTokenId,
    /// The workflow run that started the redemption, if one did: the copy's events count as that
    /// run's. An unreadable cause is read as none (as it always was), not as a bad job.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub cause: Option<Cause>,
}

/// Make one attempt of a webhook delivery: `{"delivery-id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeliverWebhook {
    pub delivery_id: DeliveryId,
}

/// Run (or resume) a workflow run: `{"workflow-run-id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunWorkflow {
    pub workflow_run_id: WorkflowRunId,
}

/// Tell the destination of a redeemed token that its source changed:
/// `{"share-token-id", "change": "redacted" | "revoked", "changed-at", "cause"?}`. Written by the
/// source's unit of work (the redaction, the deactivation), one per affected token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NotifySourceChange {
    pub share_token_id: ShareTokenId,
    pub change: SourceChange,
    /// When the source changed: the copy's `source-status-changed-at`.
    pub changed_at: Timestamp,
    /// The workflow run whose step changed the source, if one did (as a redemption's).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub cause: Option<Cause>,
}

/// Process the next chunk of a share-token batch's pending items: `{"share-token-batch-id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProcessShareTokenBatch {
    pub share_token_batch_id: ShareTokenBatchId,
}

/// Send a message to a peer instance (federation): `{"message": {...}}`, the message as it is
/// sent (its id stays the same through every attempt, so the receiver sees a retry as one
/// message). Written by the unit of work whose change the message reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SendPeerMessage {
    pub message: crate::federation::Message,
}

impl Eq for SendPeerMessage {}

fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cause>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// A stored job that cannot be read: an unknown kind or a payload not of its kind's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadJob {
    #[error("unknown job kind {0:?}")]
    UnknownKind(String),
    #[error("a job payload that is not JSON: {0}")]
    NotJson(String),
    #[error("bad payload for a {kind} job: {error}")]
    BadPayload { kind: &'static str, error: String },
}

impl Job {
    pub const REDEEM_SHARE_TOKEN: &'static str = "redeem_share_token";
    pub const DELIVER_WEBHOOK: &'static str = "deliver_webhook";
    pub const RUN_WORKFLOW: &'static str = "run_workflow";
    pub const NOTIFY_SOURCE_CHANGE: &'static str = "notify_source_change";
    pub const PROCESS_SHARE_TOKEN_BATCH: &'static str = "process_share_token_batch";
    pub const SEND_PEER_MESSAGE: &'static str = "send_peer_message";

    /// The kind string stored with the job (and used as a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RedeemShareToken(_) => Self::REDEEM_SHARE_TOKEN,
            Self::DeliverWebhook(_) => Self::DELIVER_WEBHOOK,
            Self::RunWorkflow(_) => Self::RUN_WORKFLOW,
            Self::NotifySourceChange(_) => Self::NOTIFY_SOURCE_CHANGE,
            Self::ProcessShareTokenBatch(_) => Self::PROCESS_SHARE_TOKEN_BATCH,
            Self::SendPeerMessage(_) => Self::SEND_PEER_MESSAGE,
        }
    }

    /// The payload stored with the job.
    pub fn payload(&self) -> Value {
        let value = match self {
            Self::RedeemShareToken(p) => serde_json::to_value(p),
            Self::DeliverWebhook(p) => serde_json::to_value(p),
            Self::RunWorkflow(p) => serde_json::to_value(p),
            Self::NotifySourceChange(p) => serde_json::to_value(p),
            Self::ProcessShareTokenBatch(p) => serde_json::to_value(p),
            Self::SendPeerMessage(p) => serde_json::to_value(p),
        };
        // Ids, strings and integers only: serializing them cannot fail.
        value.unwrap_or(Value::Null)
    }

    /// Reads a stored job back.
    pub fn parse(kind: &str, payload: Value) -> Result<Self, BadJob> {
        fn read<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            payload: Value,
        ) -> Result<T, BadJob> {
            serde_json::from_value(payload).map_err(|e| BadJob::BadPayload {
                kind,
                error: e.to_string(),
            })
        }
        match kind {
            Self::REDEEM_SHARE_TOKEN => {
                read(Self::REDEEM_SHARE_TOKEN, payload).map(Self::RedeemShareToken)
            }
            Self::DELIVER_WEBHOOK => read(Self::DELIVER_WEBHOOK, payload).map(Self::DeliverWebhook),
            Self::RUN_WORKFLOW => read(Self::RUN_WORKFLOW, payload).map(Self::RunWorkflow),
            Self::NOTIFY_SOURCE_CHANGE => {
                read(Self::NOTIFY_SOURCE_CHANGE, payload).map(Self::NotifySourceChange)
            }
            Self::PROCESS_SHARE_TOKEN_BATCH => {
                read(Self::PROCESS_SHARE_TOKEN_BATCH, payload).map(Self::ProcessShareTokenBatch)
            }
            Self::SEND_PEER_MESSAGE => {
                read(Self::SEND_PEER_MESSAGE, payload).map(Self::SendPeerMessage)
            }
            other => Err(BadJob::UnknownKind(other.to_owned())),
        }
    }

    /// The workflow run a job's effects count as (see [`Cause`]), if any.
    pub fn cause(&self) -> Option<&Cause> {
        match self {
            Self::RedeemShareToken(p) => p.cause.as_ref(),
            Self::NotifySourceChange(p) => p.cause.as_ref(),
            Self::DeliverWebhook(_)
            | Self::RunWorkflow(_)
            | Self::ProcessShareTokenBatch(_)
            | Self::SendPeerMessage(_) => None,
        }
    }
}

impl From<RedeemShareToken> for Job {
    fn from(p: RedeemShareToken) -> Self {
        Self::RedeemShareToken(p)
    }
}

impl From<DeliverWebhook> for Job {
    fn from(p: DeliverWebhook) -> Self {
        Self::DeliverWebhook(p)
    }
}

impl From<RunWorkflow> for Job {
    fn from(p: RunWorkflow) -> Self {
        Self::RunWorkflow(p)
    }
}

impl From<NotifySourceChange> for Job {
    fn from(p: NotifySourceChange) -> Self {
        Self::NotifySourceChange(p)
    }
}

impl From<ProcessShareTokenBatch> for Job {
    fn from(p: ProcessShareTokenBatch) -> Self {
        Self::ProcessShareTokenBatch(p)
    }
}

impl From<SendPeerMessage> for Job {
    fn from(p: SendPeerMessage) -> Self {
        Self::SendPeerMessage(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOKEN: &str = "cnst_0123456789abcdefABCD";
    const DELIVERY: &str = "whd_0123456789abcdefABCD";
    const RUN: &str = "wfr_0123456789abcdefABCD";
    const BATCH: &str = "stb_0123456789abcdefABCD";

    /// The literal rows today's (and yesterday's) code writes must still parse, and a job
    /// written now must be stored exactly as they are.
    #[test]
    fn stored_rows_parse_and_round_trip() {
        let cause = json!({"workflow-id": "wfl_0123456789abcdefABCD", "run-id": RUN, "chain": "chn_x", "depth": 2});
        let rows = [
            ("redeem_share_token", json!({"share-token-id": TOKEN})),
            (
                "redeem_share_token",
                json!({"share-token-id": TOKEN, "cause": cause}),
            ),
            ("deliver_webhook", json!({"delivery-id": DELIVERY})),
            ("run_workflow", json!({"workflow-run-id": RUN})),
            (
                "notify_source_change",
                json!({"share-token-id": TOKEN, "change": "redacted", "changed-at": "2025-12-08T10:00:00.000Z"}),
            ),
            (
                "notify_source_change",
                json!({"share-token-id": TOKEN, "change": "revoked", "changed-at": "2025-12-08T10:00:00.123Z", "cause": cause}),
            ),
            (
                "process_share_token_batch",
                json!({"share-token-batch-id": BATCH}),
            ),
        ];
        for (kind, payload) in rows {
            let job = Job::parse(kind, payload.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(job.kind(), kind);
            assert_eq!(job.payload(), payload, "{kind} is stored as before");
        }
        let Ok(Job::RedeemShareToken(r)) = Job::parse(
            "redeem_share_token",
            json!({"share-token-id": TOKEN, "cause": cause}),
        ) else {
            panic!("not a redemption");
        };
        assert_eq!(r.share_token_id.as_str(), TOKEN);
        assert_eq!(r.cause.map(|c| c.depth), Some(2));
    }

    #[test]
    fn typed_jobs_store_the_old_shapes() {
        let job = Job::from(DeliverWebhook {
            delivery_id: DeliveryId::parse(DELIVERY).unwrap(),
        });
        assert_eq!(
            (job.kind(), job.payload()),
            ("deliver_webhook", json!({"delivery-id": DELIVERY}))
        );
        let job = Job::from(RunWorkflow {
            workflow_run_id: WorkflowRunId::parse(RUN).unwrap(),
        });
        assert_eq!(
            (job.kind(), job.payload()),
            ("run_workflow", json!({"workflow-run-id": RUN}))
        );
        let job = Job::from(RedeemShareToken {
            share_token_id: ShareTokenId::parse(TOKEN).unwrap(),
            cause: None,
        });
        assert_eq!(job.payload(), json!({"share-token-id": TOKEN}));
        let job = Job::from(NotifySourceChange {
            share_token_id: ShareTokenId::parse(TOKEN).unwrap(),
            change: SourceChange::Revoked,
            changed_at: Timestamp::from_millis(1_765_188_000_000),
            cause: None,
        });
        assert_eq!(
            (job.kind(), job.payload()),
            (
                "notify_source_change",
                json!({"share-token-id": TOKEN, "change": "revoked", "changed-at": "2025-12-08T10:00:00.000Z"})
            )
        );
        let job = Job::from(ProcessShareTokenBatch {
            share_token_batch_id: ShareTokenBatchId::parse(BATCH).unwrap(),
        });
        assert_eq!(
            (job.kind(), job.payload()),
            (
                "process_share_token_batch",
                json!({"share-token-batch-id": BATCH})
            )
        );
    }

    #[test]
    fn an_unreadable_cause_is_no_cause() {
        let job = Job::parse(
            "redeem_share_token",
            json!({"share-token-id": TOKEN, "cause": {"depth": "deep"}}),
        )
        .unwrap();
        assert_eq!(job.cause(), None);
        let job = Job::parse(
            "redeem_share_token",
            json!({"share-token-id": TOKEN, "cause": null}),
        )
        .unwrap();
        assert_eq!(job.cause(), None);
    }

    #[test]
    fn unknown_kinds_and_bad_payloads_are_errors() {
        assert_eq!(
            Job::parse("mine_bitcoin", json!({})),
            Err(BadJob::UnknownKind("mine_bitcoin".into()))
        );
        for (kind, payload) in [
            ("deliver_webhook", json!({})),
            ("deliver_webhook", json!({"delivery-id": "nope"})),
            ("deliver_webhook", json!({"delivery-id": TOKEN})),
            ("run_workflow", json!({"workflow-run-id": 7})),
            (
                "process_share_token_batch",
                json!({"share-token-batch-id": TOKEN}),
            ),
            ("redeem_share_token", json!(null)),
            ("redeem_share_token", json!("stkn")),
            ("notify_source_change", json!({"share-token-id": TOKEN})),
            (
                "notify_source_change",
                json!({"share-token-id": TOKEN, "change": "deleted", "changed-at": "2025-12-08T10:00:00.000Z"}),
            ),
        ] {
            let err = Job::parse(kind, payload.clone()).unwrap_err();
            assert!(
                matches!(&err, BadJob::BadPayload { kind: k, .. } if *k == kind),
                "{kind} {payload}: {err}"
            );
            assert!(err.to_string().contains(kind));
        }
    }
}
