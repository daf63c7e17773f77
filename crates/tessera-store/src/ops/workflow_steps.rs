//! The effects of the workflow steps that change Tessera's own data. Each calls the same op the
//! API's unit calls for that action — one behaviour, two faces — with the workflow's
//! organization's scope and nothing more, inside the unit of work that also records the step as
//! finished ([`crate::units::workflow_runs::advance_run`]).

use serde_json::{Value, json};
use tessera_core::connection::ConnectionAction;
use tessera_core::id::{ConnectionId, IdError, InquiryId, ShareTokenId};
use tessera_core::inquiry::{InquiryAction, parse_tags};
use tessera_core::share_token::{DEFAULT_EXPIRES_IN, RedeemParams, SourceId, TokenSpec};
use tessera_core::tenancy::Actor;
use tessera_core::workflow::Step;
use tessera_core::{Error, codes};

use crate::ops::inquiries;
use crate::ops::inquiry_changes::{self, InquiryPatch};
use crate::ops::workflow_runs::Running;
use crate::ops::{connections, share_token_redemption, share_tokens};
use crate::tx::Tx;

/// The run's object as an id of the kind a step needs. Definitions are checked when saved, so a
/// mismatch means the object is not what the step can act on.
fn object_id<T>(
    r: &Running,
    parse: fn(&str) -> Result<T, IdError>,
    what: &str,
) -> Result<T, Error> {
    parse(&r.run.object_id).map_err(|_| {
        Error::invalid(
            codes::INVALID_TRIGGER_OBJECT,
            format!("the run's object {} is not {what}", r.run.object_id),
        )
    })
}

fn inquiry_action(step: &Step) -> Option<InquiryAction> {
    match step {
        Step::ApproveInquiry => Some(InquiryAction::Approve),
        Step::DeclineInquiry => Some(InquiryAction::Decline),
        Step::MarkInquiryForReview => Some(InquiryAction::MarkForReview),
        _ => None,
    }
}

/// Does a step's effect; returns the step's output.
pub(crate) async fn apply(tx: &mut Tx, r: &Running, step: &Step) -> Result<Value, Error> {
    let scope = &r.scope;
    match step {
        Step::CreateShareToken {
            connection_id,
            expires_in_seconds,
            disclosure,
        } => {
            let inquiry = object_id(r, InquiryId::parse, "an inquiry")?;
            let creator = Actor::Workflow(r.run.workflow_id.clone());
            let spec = TokenSpec {
                connection_id: connection_id.clone(),
                source_id: SourceId::Inquiry(inquiry),
                expires_in_seconds: expires_in_seconds.unwrap_or(DEFAULT_EXPIRES_IN),
                disclosure: disclosure.clone(),
            };
            let t = share_tokens::create(tx, scope, &spec, creator).await?;
            Ok(json!({ "share-token-id": t.id }))
        }
        Step::RedeemShareToken {
            inquiry_template_id,
            field_mappings,
        } => {
            let token = object_id(r, ShareTokenId::parse, "a share token")?;
            let params = RedeemParams {
                destination_id: None,
                inquiry_template_id: inquiry_template_id.clone(),
                field_mappings: field_mappings.clone(),
                manifest_digest: None,
            };
            let t = share_token_redemption::redeem(tx, scope, &token, params).await?;
            Ok(json!({ "share-token-id": t.id, "status": t.status }))
        }
        Step::ActivateConnection => {
            let id = object_id(r, ConnectionId::parse, "a connection")?;
            let c = connections::act(tx, scope, &id, ConnectionAction::Activate).await?;
            Ok(json!({ "connection-id": c.id, "status": c.status }))
        }
        Step::TagInquiry { tag } => {
            let id = object_id(r, InquiryId::parse, "an inquiry")?;
            // Locked: concurrent runs tagging one inquiry must not lose each other's tag.
            let mut tags = inquiries::get_for_update(tx, scope, &id).await?.tags;
            tags.push(tag.clone());
            let patch = InquiryPatch {
                tags: Some(parse_tags(&tags, "tags")?),
                ..Default::default()
            };
            let i = inquiry_changes::update(tx, scope, &id, patch).await?;
            Ok(json!({ "inquiry-id": i.id, "tags": i.tags }))
        }
        Step::ApproveInquiry | Step::DeclineInquiry | Step::MarkInquiryForReview => {
            let id = object_id(r, InquiryId::parse, "an inquiry")?;
            let action = inquiry_action(step).ok_or_else(|| {
                Error::internal(std::io::Error::other("not an inquiry transition"))
            })?;
            let i = inquiry_changes::transition(tx, scope, &id, action).await?;
            Ok(json!({ "inquiry-id": i.id, "status": i.status }))
        }
        Step::HttpRequest { .. } => Err(Error::internal(std::io::Error::other(
            "http-request steps are sent outside a unit of work",
        ))),
    }
}
