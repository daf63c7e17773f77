//! Workflow steps: what each does is the worker's; what each needs and how it is written is
//! here. Every step acts on one input taken from the trigger — the inquiry, share token or
//! connection the event is about, or the event itself — and a definition whose trigger cannot
//! provide a step's input is refused when it is saved.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::members::Members;
use crate::error::{Error, codes};
use crate::id::{ConnectionId, TemplateId};
use crate::inquiry::MAX_TAG_LEN;
use crate::share_token::{
    Disclosure, DisclosureInput, FieldMapping, check_expires_in, check_field_mappings,
};
use crate::webhook::MAX_URL_LEN;

/// One step of a workflow, as defined (and as snapshotted into a run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Step {
    /// Shares the event's inquiry over an outbound connection; the token's creator is the
    /// workflow.
    #[serde(rename_all = "kebab-case")]
    CreateShareToken {
        connection_id: ConnectionId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in_seconds: Option<i64>,
        /// What the token shares (`allowed-fields`, …; default everything).
        #[serde(flatten, default)]
        disclosure: Disclosure,
    },
    /// Redeems the event's (inbound) share token.
    #[serde(rename_all = "kebab-case")]
    RedeemShareToken {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inquiry_template_id: Option<TemplateId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        field_mappings: Vec<FieldMapping>,
    },
    /// Accepts the event's (inbound) connection.
    ActivateConnection,
    ApproveInquiry,
    DeclineInquiry,
    MarkInquiryForReview,
    /// Adds a tag to the event's inquiry.
    TagInquiry {
        tag: String,
    },
    /// POSTs the event document to `url`, signed with the workflow's secret.
    HttpRequest {
        url: String,
    },
}

/// What a step acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The inquiry the event is about.
    Inquiry,
    /// The share token the event is about, seen by its destination.
    InboundShareToken,
    /// The connection the event is about, seen by its destination.
    InboundConnection,
    /// The event itself.
    Event,
}

impl Input {
    /// Whether events named `event` carry this input.
    pub fn provided_by_event(self, event: &str) -> bool {
        match self {
            Input::Event => true,
            Input::Inquiry => event.starts_with("inquiry."),
            Input::InboundShareToken => event.starts_with("connect/share-token.inbound-"),
            Input::InboundConnection => event.starts_with("connect/connection.inbound-"),
        }
    }

    /// Whether an object (`{"type", "id", "attributes"}` as the organization sees it) is this
    /// input.
    pub fn provided_by_object(self, object: &Value) -> bool {
        let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
        let inbound = object
            .pointer("/attributes/direction")
            .and_then(Value::as_str)
            == Some("inbound");
        match self {
            Input::Event => true,
            Input::Inquiry => kind == "inquiry",
            Input::InboundShareToken => kind == "connect/share-token" && inbound,
            Input::InboundConnection => kind == "connect/connection" && inbound,
        }
    }

    /// For people: what the input is.
    pub fn describe(self) -> &'static str {
        match self {
            Input::Event => "an event",
            Input::Inquiry => "an inquiry (inquiry.* events)",
            Input::InboundShareToken => {
                "an inbound share token (connect/share-token.inbound-* events)"
            }
            Input::InboundConnection => {
                "an inbound connection (connect/connection.inbound-* events)"
            }
        }
    }
}

/// Every step type, as written.
pub const TYPES: &[&str] = &[
    "create-share-token",
    "redeem-share-token",
    "activate-connection",
    "approve-inquiry",
    "decline-inquiry",
    "mark-inquiry-for-review",
    "tag-inquiry",
    "http-request",
];

impl Step {
    /// The step's type, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::CreateShareToken { .. } => "create-share-token",
            Step::RedeemShareToken { .. } => "redeem-share-token",
            Step::ActivateConnection => "activate-connection",
            Step::ApproveInquiry => "approve-inquiry",
            Step::DeclineInquiry => "decline-inquiry",
            Step::MarkInquiryForReview => "mark-inquiry-for-review",
            Step::TagInquiry { .. } => "tag-inquiry",
            Step::HttpRequest { .. } => "http-request",
        }
    }

    pub fn input(&self) -> Input {
        match self {
            Step::CreateShareToken { .. }
            | Step::ApproveInquiry
            | Step::DeclineInquiry
            | Step::MarkInquiryForReview
            | Step::TagInquiry { .. } => Input::Inquiry,
            Step::RedeemShareToken { .. } => Input::InboundShareToken,
            Step::ActivateConnection => Input::InboundConnection,
            Step::HttpRequest { .. } => Input::Event,
        }
    }

    /// The step as written in a definition (kebab-case).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parses the step at `pointer`. The URL of an `http-request` is checked against the
    /// outbound address rules by the server, which can resolve it.
    pub fn parse(value: &Value, pointer: &str) -> Result<Self, Error> {
        let m = Members::of(value, pointer)?;
        let kind = m.required_string("type")?;
        let only = |extra: &[&str]| {
            let mut allowed = vec!["type"];
            allowed.extend_from_slice(extra);
            m.deny_unknown(&allowed)
        };
        let step = match kind {
            "create-share-token" => {
                only(&[
                    "connection-id",
                    "expires-in-seconds",
                    "allowed-fields",
                    "allowed-verifications",
                    "allowed-documents",
                ])?;
                let raw = m.required_string("connection-id")?;
                let connection_id = ConnectionId::parse(raw).map_err(|_| {
                    Error::invalid(codes::INVALID_ID, "connection-id must be a cxn id")
                        .at(m.at("connection-id"))
                })?;
                let expires_in_seconds = m
                    .integer("expires-in-seconds")?
                    .map(|s| check_expires_in(s).map_err(|e| e.at(m.at("expires-in-seconds"))))
                    .transpose()?;
                let strings = |name: &str| -> Result<Option<Vec<String>>, Error> {
                    let Some(list) = m.array(name)? else {
                        return Ok(None);
                    };
                    let at = m.at(name);
                    list.iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.as_str().map(str::to_owned).ok_or_else(|| {
                                super::members::wrong_type(&format!("{at}/{i}"), "a string")
                            })
                        })
                        .collect::<Result<_, _>>()
                        .map(Some)
                };
                let disclosure = Disclosure::parse(DisclosureInput {
                    fields: strings("allowed-fields")?,
                    verifications: strings("allowed-verifications")?,
                    documents: strings("allowed-documents")?,
                })
                .map_err(|e| match e.location.clone() {
                    Some(crate::error::Source::Attribute(a)) => e.at(format!("{}{a}", m.at(""))),
                    _ => e,
                })?;
                Step::CreateShareToken {
                    connection_id,
                    expires_in_seconds,
                    disclosure,
                }
            }
            "redeem-share-token" => {
                only(&["inquiry-template-id", "field-mappings"])?;
                let inquiry_template_id = m
                    .string("inquiry-template-id")?
                    .map(|raw| {
                        TemplateId::parse(raw).map_err(|_| {
                            Error::invalid(
                                codes::INVALID_ID,
                                "inquiry-template-id must be an itmpl id",
                            )
                            .at(m.at("inquiry-template-id"))
                        })
                    })
                    .transpose()?;
                let list_pointer = m.at("field-mappings");
                let mut mappings = Vec::new();
                for (i, item) in m
                    .array("field-mappings")?
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .enumerate()
                {
                    let f = Members::of(item, &format!("{list_pointer}/{i}"))?;
                    f.deny_unknown(&["source-field-name", "destination-field-name"])?;
                    mappings.push(FieldMapping {
                        source_field_name: f.required_string("source-field-name")?.to_owned(),
                        destination_field_name: f
                            .required_string("destination-field-name")?
                            .to_owned(),
                    });
                }
                Step::RedeemShareToken {
                    inquiry_template_id,
                    field_mappings: check_field_mappings(mappings, &list_pointer)?,
                }
            }
            "activate-connection" => {
                only(&[])?;
                Step::ActivateConnection
            }
            "approve-inquiry" => {
                only(&[])?;
                Step::ApproveInquiry
            }
            "decline-inquiry" => {
                only(&[])?;
                Step::DeclineInquiry
            }
            "mark-inquiry-for-review" => {
                only(&[])?;
                Step::MarkInquiryForReview
            }
            "tag-inquiry" => {
                only(&["tag"])?;
                let tag = m.required_string("tag")?.trim();
                if tag.is_empty() || tag.chars().count() > MAX_TAG_LEN {
                    return Err(Error::invalid(
                        codes::INVALID_ATTRIBUTE,
                        format!("a tag is 1 to {MAX_TAG_LEN} characters"),
                    )
                    .at(m.at("tag")));
                }
                Step::TagInquiry {
                    tag: tag.to_owned(),
                }
            }
            "http-request" => {
                only(&["url"])?;
                let url = m.required_string("url")?;
                if url.len() > MAX_URL_LEN {
                    return Err(Error::invalid(
                        codes::INVALID_URL,
                        format!("a URL is at most {MAX_URL_LEN} characters"),
                    )
                    .at(m.at("url")));
                }
                Step::HttpRequest {
                    url: url.to_owned(),
                }
            }
            other => {
                return Err(Error::invalid(
                    codes::UNKNOWN_STEP_TYPE,
                    format!("unknown step type {other}; types: {}", TYPES.join(", ")),
                )
                .at(m.at("type")));
            }
        };
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CXN: &str = "cxn_ABCDEFGHIJKLMNOPQRSTUVWX";

    fn pointer_of(v: Value) -> (u16, String, String) {
        match Step::parse(&v, "/s") {
            Ok(s) => panic!("{v} parsed as {s:?}"),
            Err(e) => {
                let p = match e.location {
                    Some(crate::error::Source::Pointer(p)) => p,
                    _ => String::new(),
                };
                (e.status.code(), e.code.to_string(), p)
            }
        }
    }

    #[test]
    fn steps_round_trip_through_storage() {
        let steps = [
            json!({"type": "create-share-token", "connection-id": CXN, "expires-in-seconds": 3600}),
            json!({"type": "create-share-token", "connection-id": CXN}),
            json!({"type": "create-share-token", "connection-id": CXN,
                   "allowed-fields": ["name-first"], "allowed-documents": []}),
            json!({"type": "redeem-share-token", "field-mappings": [
                {"source-field-name": "name_first", "destination-field-name": "given"}]}),
            json!({"type": "redeem-share-token"}),
            json!({"type": "activate-connection"}),
            json!({"type": "approve-inquiry"}),
            json!({"type": "tag-inquiry", "tag": " vip "}),
            json!({"type": "http-request", "url": "https://example.com/x"}),
        ];
        for v in steps {
            let s = Step::parse(&v, "/s").unwrap_or_else(|e| panic!("{v}: {e}"));
            let back: Step = serde_json::from_value(s.to_value()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back, s);
        }
        let limited = Step::parse(
            &json!({"type": "create-share-token", "connection-id": CXN,
                    "allowed-fields": ["name_first"]}),
            "/s",
        );
        assert!(
            matches!(&limited, Ok(Step::CreateShareToken { disclosure, .. })
            if disclosure.fields == Some(vec!["name-first".to_owned()])),
            "{limited:?}"
        );
        let tag = Step::parse(&json!({"type": "tag-inquiry", "tag": " vip "}), "/s").ok();
        assert_eq!(tag, Some(Step::TagInquiry { tag: "vip".into() }));
        let mapped = Step::parse(
            &json!({"type": "redeem-share-token", "field-mappings": [
                {"source-field-name": "name_first", "destination-field-name": "given"}]}),
            "/s",
        );
        assert!(
            matches!(mapped, Ok(Step::RedeemShareToken { field_mappings, .. })
            if field_mappings[0].source_field_name == "name-first")
        );
    }

    #[test]
    fn bad_steps_point_at_the_offending_member() {
        let cases = [
            (
                json!({"type": "teleport"}),
                422,
                "unknown_step_type",
                "/s/type",
            ),
            (json!({}), 422, "missing_attribute", "/s/type"),
            (
                json!({"type": "create-share-token"}),
                422,
                "missing_attribute",
                "/s/connection-id",
            ),
            (
                json!({"type": "create-share-token", "connection-id": "inq_ABCDEFGHIJKLMNOPQRSTUVWX"}),
                422,
                "invalid_id",
                "/s/connection-id",
            ),
            (
                json!({"type": "create-share-token", "connection-id": CXN, "expires-in-seconds": 5}),
                422,
                "expires_in_out_of_range",
                "/s/expires-in-seconds",
            ),
            (
                json!({"type": "create-share-token", "connection-id": CXN,
                       "allowed-verifications": ["selfie", "share-token"]}),
                422,
                "invalid_attribute",
                "/s/allowed-verifications/1",
            ),
            (
                json!({"type": "create-share-token", "connection-id": CXN,
                       "allowed-fields": ["ok", 1]}),
                400,
                "invalid_type",
                "/s/allowed-fields/1",
            ),
            (
                json!({"type": "tag-inquiry"}),
                422,
                "missing_attribute",
                "/s/tag",
            ),
            (
                json!({"type": "tag-inquiry", "tag": "  "}),
                422,
                "invalid_attribute",
                "/s/tag",
            ),
            (
                json!({"type": "tag-inquiry", "tag": 1}),
                400,
                "invalid_type",
                "/s/tag",
            ),
            (
                json!({"type": "http-request"}),
                422,
                "missing_attribute",
                "/s/url",
            ),
            (
                json!({"type": "approve-inquiry", "tag": "x"}),
                400,
                "unknown_attribute",
                "/s/tag",
            ),
            (
                json!({"type": "redeem-share-token", "field-mappings": [{"source-field-name": "a b", "destination-field-name": "c"}]}),
                422,
                "invalid_attribute",
                "/s/field-mappings/0/source-field-name",
            ),
            (
                json!({"type": "redeem-share-token", "inquiry-template-id": "x"}),
                422,
                "invalid_id",
                "/s/inquiry-template-id",
            ),
            (json!("approve-inquiry"), 400, "invalid_type", "/s"),
        ];
        for (v, status, code, pointer) in cases {
            assert_eq!(
                pointer_of(v.clone()),
                (status, code.to_owned(), pointer.to_owned()),
                "{v}"
            );
        }
    }

    #[test]
    fn inputs_come_from_the_right_events_and_objects() {
        assert!(Input::Inquiry.provided_by_event("inquiry.approved"));
        assert!(!Input::InboundShareToken.provided_by_event("inquiry.approved"));
        assert!(Input::InboundShareToken.provided_by_event("connect/share-token.inbound-created"));
        assert!(
            !Input::InboundShareToken.provided_by_event("connect/share-token.outbound-created")
        );
        assert!(Input::InboundConnection.provided_by_event("connect/connection.inbound-created"));
        assert!(Input::Event.provided_by_event("workflow-run.failed"));
        let token = json!({"type": "connect/share-token", "attributes": {"direction": "inbound"}});
        assert!(Input::InboundShareToken.provided_by_object(&token));
        assert!(!Input::Inquiry.provided_by_object(&token));
        let out = json!({"type": "connect/share-token", "attributes": {"direction": "outbound"}});
        assert!(!Input::InboundShareToken.provided_by_object(&out));
    }
}
