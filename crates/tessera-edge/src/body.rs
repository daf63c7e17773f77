//! The request document of a write (`{"data": {"attributes": {…}}, "meta"?}`), which the API
//! reads as JSON and the dashboard builds from a form, and the check of a required attribute.

use serde::Deserialize;
use serde_json::Value;
use tessera_core::{Error, codes};
use utoipa::ToSchema;

/// A request document: `{"data": {"type"?, "id"?, "attributes": {…}}, "meta"?}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Body<A: Default> {
    #[serde(default)]
    pub data: Data<A>,
    /// Free-form; endpoints that read it say so.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
}

/// The `data` member of a request document.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Data<A: Default> {
    /// The resource type (optional; not checked).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The resource id (optional; the path names the object).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub attributes: A,
}

/// A required attribute, or 422 pointing at it.
pub fn required<T>(value: Option<T>, name: &str) -> Result<T, Error> {
    value.ok_or_else(|| {
        Error::invalid(codes::MISSING_ATTRIBUTE, format!("{name} is required"))
            .at(format!("/data/attributes/{name}"))
    })
}
