//! Completes the generated OpenAPI description with what the annotations cannot say once per
//! operation: the errors every operation may answer (API.md §1: a bad header or query parameter
//! is 400, a missing or expired key 401, a missing permission 403, an invisible id 404, an
//! `Idempotency-Key` still in use 409, a body too large 413, of the wrong type 415 or invalid 422,
//! the rate limit 429), a unique `operationId` for every operation, and the OpenAPI links from
//! each operation that creates an object to the operations on it (create → show, activate,
//! redeem, …), which contract fuzzers follow to test sequences.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Schema};

/// The description as served at `/api/v1/openapi.json`.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let operations: Vec<(String, &'static str)> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("get", item.get.is_some()),
                ("post", item.post.is_some()),
                ("patch", item.patch.is_some()),
                ("delete", item.delete.is_some()),
                ("put", item.put.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(m, _)| (path.clone(), m))
            .collect::<Vec<_>>()
        })
        .collect();
    for (path, item) in &mut doc.paths.paths {
        for (method, op) in [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
            ("put", &mut item.put),
        ] {
            let Some(op) = op else { continue };
            op.operation_id = Some(operation_id(method, path));
            if let Some(body) = &mut op.request_body
                && body
                    .description
                    .as_deref()
                    .is_some_and(|d| d.starts_with("optional"))
            {
                body.required = Some(Required::False);
            }
            add_errors(op, method, path);
            add_headers(op);
            if matches!(method, "patch" | "delete") {
                add_idempotency_key(op);
            }
            if method == "post"
                && let Some(target) = created_at(path)
            {
                add_links(op, &target, &operations);
            }
        }
    }
    require_data(&mut doc);
    doc
}

/// A request document whose attributes have required members needs `data` and its
/// `attributes` (`Body_X` → `Data_X` → `X`; both default to empty when absent).
fn require_data(doc: &mut OpenApi) {
    let Some(components) = &mut doc.components else {
        return;
    };
    let schemas = &mut components.schemas;
    let required_of = |name: &str, schemas: &std::collections::BTreeMap<String, RefOr<Schema>>| matches!(schemas.get(name), Some(RefOr::T(Schema::Object(o))) if !o.required.is_empty());
    let names: Vec<String> = schemas
        .keys()
        .filter_map(|k| k.strip_prefix("Body_").map(str::to_owned))
        .filter(|inner| required_of(inner, schemas))
        .collect();
    for inner in names {
        for (outer, member) in [
            (format!("Body_{inner}"), "data"),
            (format!("Data_{inner}"), "attributes"),
        ] {
            if let Some(RefOr::T(Schema::Object(o))) = schemas.get_mut(&outer)
                && !o.required.iter().any(|r| r == member)
            {
                o.required.push(member.to_owned());
            }
        }
    }
}

/// The description as JSON. utoipa 5 writes the members of a Link object in snake_case
/// (`operation_id`); OpenAPI spells them `operationId`, `operationRef`, `requestBody`.
pub fn to_json(doc: &OpenApi) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(doc)?;
    if let Some(paths) = value.get_mut("paths").and_then(|p| p.as_object_mut()) {
        let links = paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
            .flat_map(|responses| responses.values_mut())
            .filter_map(|r| r.get_mut("links").and_then(|l| l.as_object_mut()))
            .flat_map(|links| links.values_mut())
            .filter_map(|l| l.as_object_mut());
        for link in links {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = link.remove(from) {
                    link.insert(to.to_owned(), v);
                }
            }
        }
    }
    serde_json::to_string_pretty(&value)
}

/// `post /api/v1/connect/share-tokens/{id}/redeem` → `post-connect-share-tokens-id-redeem`.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path.trim_start_matches("/api/v1/");
    let mut id = method.to_owned();
    for segment in rest.split('/') {
        id.push('-');
        id.push_str(segment.trim_start_matches('{').trim_end_matches('}'));
    }
    id
}

fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorDocument")))
                .build(),
        )
        .build()
        .into()
}

fn add_errors(op: &mut Operation, method: &str, path: &str) {
    let has_body = op.request_body.is_some();
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error(description));
    };
    add(
        "400",
        "A malformed header, query parameter or body (`invalid_header`, \
         `invalid_query_parameter`, `malformed_json`, `unknown_attribute`, \
         `idempotency_key_reused`).",
    );
    add("401", "No API key, or an unknown or expired one.");
    add("403", "The API key lacks the permission.");
    if path.contains('{') {
        add("404", "No such object visible to the caller.");
    }
    if matches!(method, "post" | "patch" | "delete") {
        add(
            "409",
            "A request with this `Idempotency-Key` is still running.",
        );
    }
    if has_body {
        add("413", "The body is larger than the limit.");
        add("415", "The body is not JSON (or not a form, for uploads).");
        add("422", "Well-formed but invalid.");
    }
    add("429", "Rate limited.");
}

/// `Idempotency-Key` on a PATCH or DELETE, described as on the POSTs (`IdempotencyHeader`).
fn add_idempotency_key(op: &mut Operation) {
    use utoipa::IntoParams;
    let params = op.parameters.get_or_insert_with(Vec::new);
    if !params.iter().any(|p| p.name == "Idempotency-Key") {
        params.extend(crate::IdempotencyHeader::into_params(|| None));
    }
}

/// The headers of every authenticated response (errors included; 401 is not authenticated).
fn add_headers(op: &mut Operation) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::{Object, Type};
    let headers = [
        (
            "Request-Id",
            Type::String,
            "This request's id (`req_…`), also in the log.",
        ),
        (
            "Persona-Organization-Id",
            Type::String,
            "The organization of the API key (`org_…`).",
        ),
        (
            "Persona-Environment-Id",
            Type::String,
            "The environment of the API key (`env_…`).",
        ),
        (
            "RateLimit-Limit",
            Type::Integer,
            "Requests allowed in the window (4294967295 when limiting is off).",
        ),
        (
            "RateLimit-Remaining",
            Type::Integer,
            "Requests left in the window.",
        ),
        (
            "RateLimit-Reset",
            Type::Integer,
            "Seconds until the window resets.",
        ),
    ];
    for (status, response) in &mut op.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        for (name, kind, description) in &headers {
            let authenticated = status != "401";
            if authenticated || *name == "Request-Id" {
                response
                    .headers
                    .entry((*name).to_owned())
                    .or_insert_with(|| {
                        HeaderBuilder::new()
                            .schema(Object::with_type(kind.clone()))
                            .description(Some(*description))
                            .build()
                    });
            }
        }
    }
}

/// Where the object a POST on `path` creates is found, when it creates one: its own collection,
/// or another one for nested creations.
fn created_at(path: &str) -> Option<String> {
    match path {
        "/api/v1/inquiries/{id}/documents" => Some("/api/v1/documents/{id}".into()),
        "/api/v1/workflows/{id}/trigger" => Some("/api/v1/workflow-runs/{id}".into()),
        // Expiring the caller's own key would end a fuzzing run; nothing to link to either.
        "/api/v1/api-keys" => None,
        // A batch (202) is read at its own path.
        "/api/v1/connect/share-tokens/batch" | "/api/v1/connect/share-tokens/batch-redeem" => {
            Some("/api/v1/connect/share-token-batches/{id}".into())
        }
        p if !p.contains('{') => Some(format!("{p}/{{id}}")),
        _ => None,
    }
}

/// Links from the 201 of a create (or the 202 of an accepted batch) to every operation on the
/// created object.
fn add_links(op: &mut Operation, target: &str, operations: &[(String, &'static str)]) {
    let status = if op.responses.responses.contains_key("201") {
        "201"
    } else {
        "202"
    };
    let Some(RefOr::T(created)) = op.responses.responses.get_mut(status) else {
        return;
    };
    let nested = format!("{target}/");
    for (path, method) in operations {
        if path != target && !path.starts_with(&nested) {
            continue;
        }
        let link = LinkBuilder::new()
            .operation_id(operation_id(method, path))
            .parameter("id", "$response.body#/data/id")
            .build();
        created
            .links
            .insert(operation_id(method, path), RefOr::T(link));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_readable() {
        assert_eq!(
            operation_id("post", "/api/v1/connect/share-tokens/{id}/redeem"),
            "post-connect-share-tokens-id-redeem"
        );
        assert_eq!(
            created_at("/api/v1/webhooks").as_deref(),
            Some("/api/v1/webhooks/{id}")
        );
        assert_eq!(created_at("/api/v1/webhooks/{id}/enable"), None);
    }

    #[test]
    fn links_are_spelled_as_openapi_spells_them() {
        let json = to_json(&crate::description()).unwrap_or_default();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        let links =
            &doc["paths"]["/api/v1/connect/share-tokens"]["post"]["responses"]["201"]["links"];
        let redeem = &links["post-connect-share-tokens-id-redeem"];
        assert_eq!(redeem["operationId"], "post-connect-share-tokens-id-redeem");
        assert_eq!(redeem["parameters"]["id"], "$response.body#/data/id");
        assert!(redeem.get("operation_id").is_none());
    }

    #[test]
    fn responses_document_the_persona_headers() {
        let json = to_json(&crate::description()).unwrap_or_default();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        let responses = &doc["paths"]["/api/v1/connect/share-tokens"]["post"]["responses"];
        for status in ["201", "422"] {
            let h = &responses[status]["headers"];
            assert_eq!(
                h["Persona-Environment-Id"]["schema"]["type"], "string",
                "{status}"
            );
            assert_eq!(
                h["RateLimit-Remaining"]["schema"]["type"], "integer",
                "{status}"
            );
        }
        assert!(
            responses["401"]["headers"]
                .get("Persona-Organization-Id")
                .is_none()
        );
    }
}
