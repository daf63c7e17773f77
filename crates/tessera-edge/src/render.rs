//! From resources to response bytes: sparse fieldsets, `included`, `meta`, `links`, then key
//! inflection, last.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use tessera_core::inflect::{Inflection, inflect_document};
use tessera_core::jsonapi::Links;

use crate::http::json_response;
use crate::query::Query;

/// A document about to be sent.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub data: Value,
    pub included: Vec<Value>,
    pub meta: Option<Value>,
    pub links: Option<Links>,
    /// `meta` members shown in this response only (secrets): never stored for an idempotent
    /// replay, since only hashes of secrets are kept.
    pub secrets: Map<String, Value>,
    /// Attributes of the primary resource shown in this response only (secrets), like
    /// [`Doc::secrets`].
    pub secret_attributes: Map<String, Value>,
}

impl Doc {
    pub fn one(data: Value) -> Self {
        Self {
            data,
            ..Self::default()
        }
    }

    pub fn list(items: Vec<Value>, links: Links) -> Self {
        Self {
            data: Value::Array(items),
            links: Some(links),
            ..Self::default()
        }
    }

    pub fn with_meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }

    /// Adds a secret to `meta`, shown in this response and never stored.
    pub fn with_secret(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.secrets.insert(name.to_owned(), value.into());
        self
    }

    /// Adds a secret attribute to the primary resource, shown in this response and never
    /// stored.
    pub fn with_secret_attribute(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.secret_attributes.insert(name.to_owned(), value.into());
        self
    }

    /// The document as it may be stored: without its secrets.
    pub fn without_secrets(&self) -> Self {
        Self {
            secrets: Map::new(),
            secret_attributes: Map::new(),
            ..self.clone()
        }
    }

    pub fn with_included(mut self, included: Vec<Value>) -> Self {
        self.included = included;
        self
    }

    /// The id of the primary resource, if the document holds one.
    pub fn resource_id(&self) -> Option<String> {
        self.data
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The document as bytes, as the client asked for it.
    pub fn to_bytes(&self, query: Option<&Query>, inflection: Inflection) -> Vec<u8> {
        let mut data = self.data.clone();
        if let Some(Value::Object(a)) = data.get_mut("attributes") {
            a.extend(self.secret_attributes.clone());
        }
        let mut included = self.included.clone();
        if let Some(q) = query.filter(|q| !q.fields.is_empty()) {
            match &mut data {
                Value::Array(items) => items.iter_mut().for_each(|r| sparse(r, &q.fields)),
                r => sparse(r, &q.fields),
            }
            included.iter_mut().for_each(|r| sparse(r, &q.fields));
        }
        let mut doc = Map::new();
        doc.insert("data".into(), data);
        if !included.is_empty() || query.is_some_and(|q| q.include_given) {
            doc.insert("included".into(), Value::Array(included));
        }
        let mut meta = self.meta.clone();
        if !self.secrets.is_empty() {
            let mut m = match meta {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            m.extend(self.secrets.clone());
            meta = Some(Value::Object(m));
        }
        if let Some(meta) = meta {
            doc.insert("meta".into(), meta);
        }
        if let Some(links) = &self.links {
            doc.insert(
                "links".into(),
                json!({"prev": links.prev, "next": links.next}),
            );
        }
        let doc = inflect_document(Value::Object(doc), inflection);
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    pub fn into_response(
        self,
        status: StatusCode,
        query: Option<&Query>,
        inflection: Inflection,
    ) -> Response {
        json_response(status, self.to_bytes(query, inflection))
    }
}

/// Keeps only the requested attributes and relationships of a resource whose type is listed.
fn sparse(resource: &mut Value, fields: &std::collections::HashMap<String, Vec<String>>) {
    let Some(kind) = resource.get("type").and_then(Value::as_str) else {
        return;
    };
    let Some(keep) = fields.get(kind).cloned() else {
        return;
    };
    for member in ["attributes", "relationships"] {
        if let Some(Value::Object(map)) = resource.get_mut(member) {
            map.retain(|k, _| keep.iter().any(|f| f == k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Accepts;

    #[test]
    fn sparse_fieldsets_then_inflection() {
        let doc = Doc::one(json!({"type": "inquiry", "id": "inq_1",
            "attributes": {"status": "created", "reference-id": "r", "note": null},
            "relationships": {"inquiry-template": {"data": null}}}));
        let q = Query::parse(Some("fields[inquiry]=referenceId"), Accepts::default())
            .unwrap_or_default();
        let bytes = doc.to_bytes(Some(&q), Inflection::Camel);
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(v["data"]["attributes"], json!({"referenceId": "r"}));
        assert_eq!(v["data"]["relationships"], json!({}));
    }
}
