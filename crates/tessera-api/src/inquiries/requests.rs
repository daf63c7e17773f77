//! What the inquiry endpoints read: the request bodies (a new inquiry, a change, the bodies of
//! the transitions and of the tag endpoints) and the query parameters of the list and of
//! `include`, as the OpenAPI description shows them.

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{EmptyData, double};

/// Attributes of a new inquiry (Persona's). `account-id` and `inquiry-template-version-id`
/// must be null or absent (Tessera has neither accounts nor template versions: 422
/// `unsupported_attribute`); `theme-id`, `theme-set-id` and `initial-step-name` are accepted
/// and ignored (no hosted flow).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewInquiryAttributes {
    pub inquiry_template_id: Option<String>,
    /// Taken as `inquiry-template-id` when it is an `itmpl_…` id; anything else is 422.
    pub template_id: Option<String>,
    /// Must be null: Tessera has no template versions.
    pub inquiry_template_version_id: Option<String>,
    /// Must be null: Tessera has no accounts.
    pub account_id: Option<String>,
    /// Becomes the inquiry's `creator`.
    pub creator_email_address: Option<String>,
    /// Ignored.
    pub theme_id: Option<String>,
    /// Ignored.
    pub theme_set_id: Option<String>,
    /// Stored and shown as `redirect-uri`.
    pub redirect_uri: Option<String>,
    /// Ignored.
    pub initial_step_name: Option<String>,
    pub reference_id: Option<String>,
    pub note: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `name → value`; standard names are type-checked.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
}

/// A change to an inquiry; absent members stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InquiryChanges {
    /// Fields to set; a null value removes the field.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub redirect_uri: Option<Option<String>>,
}

/// An optional body of the transition endpoints: `{"meta": {"comment": "…"}}`. Approve and
/// decline store the comment as `reviewer-comment`; the other transitions ignore it. A `data`
/// member without attributes (`{"data": {"attributes": {}}}`, as generic clients send) is
/// accepted and ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
    #[serde(default)]
    pub meta: Option<ActionMeta>,
}

/// Meta of a transition request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionMeta {
    #[serde(default)]
    pub comment: Option<String>,
}

/// The body of `add-tag` and `remove-tag`: `{"meta": {"tag-name": "…"}}`. A tag is its name,
/// so `tag-id` is taken as the name too.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
    #[serde(default)]
    pub meta: TagMeta,
}

/// Meta of `add-tag` and `remove-tag`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TagMeta {
    pub tag_name: Option<String>,
    pub tag_id: Option<String>,
}

/// The body of `set-tags`: `{"meta": {"tag-name": ["…"]}}` (`tag-id` names are added to them).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTagsBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
    #[serde(default)]
    pub meta: SetTagsMeta,
}

/// Meta of `set-tags`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SetTagsMeta {
    pub tag_name: Option<Vec<String>>,
    pub tag_id: Option<Vec<String>>,
}

/// Filters of the inquiry list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InquiryFilters {
    /// One or more statuses, comma-separated.
    #[param(
        rename = "filter[status]",
        max_length = 1000,
        pattern = "^\\s*(created|pending|completed|approved|declined|needs_review|expired|failed)?\\s*(,\\s*(created|pending|completed|approved|declined|needs_review|expired|failed)?\\s*)*$"
    )]
    #[serde(rename = "filter[status]")]
    pub status: Option<String>,
    #[param(rename = "filter[reference-id]", max_length = 1000)]
    #[serde(rename = "filter[reference-id]")]
    pub reference_id: Option<String>,
    /// An inquiry template id; one that names no template gives an empty list.
    #[param(rename = "filter[inquiry-template-id]", max_length = 1000)]
    #[serde(rename = "filter[inquiry-template-id]")]
    pub inquiry_template_id: Option<String>,
    /// Persona's legacy template id: an `itmpl_…` id works as `inquiry-template-id`; anything
    /// else matches nothing.
    #[param(rename = "filter[template-id]", max_length = 1000)]
    #[serde(rename = "filter[template-id]")]
    pub template_id: Option<String>,
    /// One or more inquiry ids, comma-separated; malformed ones match nothing.
    #[param(rename = "filter[inquiry-id]", max_length = 1000)]
    #[serde(rename = "filter[inquiry-id]")]
    pub inquiry_id: Option<String>,
    /// Tessera has no accounts: any value gives an empty list.
    #[param(rename = "filter[account-id]", max_length = 1000)]
    #[serde(rename = "filter[account-id]")]
    pub account_id: Option<String>,
    /// The note, exactly.
    #[param(rename = "filter[note]", max_length = 1000)]
    #[serde(rename = "filter[note]")]
    pub note: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[param(rename = "filter[created-at-start]", max_length = 1000)]
    #[serde(rename = "filter[created-at-start]")]
    pub created_at_start: Option<String>,
    /// Created at or before this time (RFC 3339).
    #[param(rename = "filter[created-at-end]", max_length = 1000)]
    #[serde(rename = "filter[created-at-end]")]
    pub created_at_end: Option<String>,
}

/// Includes of an inquiry endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeParams {
    /// Comma-separated: `inquiry-template`, `verifications`, `documents` are included; Persona's
    /// other names (`inquiry-template-version`, `template`, `sessions`, `account`, `reports`,
    /// `reviewer`, `selfies`, `transaction`) are accepted and add nothing.
    #[param(
        pattern = "^\\s*(inquiry-template|inquiry-template-version|template|verifications|documents|sessions|account|reports|reviewer|selfies|transaction)?\\s*(,\\s*(inquiry-template|inquiry-template-version|template|verifications|documents|sessions|account|reports|reviewer|selfies|transaction)?\\s*)*$"
    )]
    pub include: Option<String>,
}
