//! JSON:API building blocks shared by every resource: references, relationships, resources and
//! documents. Resources are built here in kebab-case; inflection is applied last, at the edge.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A resource identifier: `{"type", "id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Ref {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Ref {
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

/// A relationship: `{"data": ref | [refs] | null}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Relationship {
    #[schema(value_type = Option<RelationshipData>)]
    pub data: Value,
}

/// What a relationship's `data` holds (for the OpenAPI description): one reference or a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RelationshipData {
    One(Ref),
    Many(Vec<Ref>),
}

impl Relationship {
    pub fn one(r: Ref) -> Self {
        Self {
            data: serde_json::to_value(r).unwrap_or(Value::Null),
        }
    }

    pub fn optional(r: Option<Ref>) -> Self {
        r.map_or(Self { data: Value::Null }, Self::one)
    }

    pub fn many(refs: impl IntoIterator<Item = Ref>) -> Self {
        Self {
            data: Value::Array(
                refs.into_iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect(),
            ),
        }
    }
}

/// The relationships of a resource that has none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoRelationships {}

/// A resource object.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resource<A, R> {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub attributes: A,
    pub relationships: R,
}

impl<A: Serialize, R: Serialize> Resource<A, R> {
    pub fn new(
        kind: impl Into<String>,
        id: impl Into<String>,
        attributes: A,
        relationships: R,
    ) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
            attributes,
            relationships,
        }
    }

    /// The resource as a JSON value (kebab-case keys).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Pagination links: relative URLs or null.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Links {
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// A document holding one resource (for the OpenAPI description).
#[derive(Debug, Serialize, ToSchema)]
pub struct Document<T> {
    pub data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub included: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
}

/// A document holding a page of resources (for the OpenAPI description).
#[derive(Debug, Serialize, ToSchema)]
pub struct ListDocument<T> {
    pub data: Vec<T>,
    pub links: Links,
}

/// One error of an error document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    pub status: u16,
    pub code: String,
    pub title: String,
    pub details: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub source: Option<Value>,
}

/// The error document every failure answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDocument {
    pub errors: Vec<ErrorObject>,
}
