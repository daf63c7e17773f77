//! The permission each tenant route requires, read from the route's OpenAPI description
//! (`security(("api_key" = ["inquiry.read"]))`). Declared once, next to the handler; enforced by
//! the tenant gate; listed in `/api/v1/openapi.json`. A route without one is refused.

use std::collections::HashMap;

use axum::http::Method;
use serde_json::Value;
use tessera_core::permission::Permission;

/// What a route requires of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any valid key (`security(("api_key" = []))`).
    AnyKey,
    /// A key holding this permission.
    Needs(Permission),
}

/// `(method, path template) → access`.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: HashMap<(Method, String), Access>,
}

/// One route and what it requires (`None`: no API key security declared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Option<Access>,
}

impl RouteTable {
    /// Reads every operation of an OpenAPI document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = list_routes(doc)
            .into_iter()
            .filter_map(|r| r.access.map(|a| ((r.method, r.path), a)))
            .collect();
        Self { routes }
    }

    /// What a request to `path` (a route template) with `method` requires; `None` for a route
    /// that declares nothing (refused).
    pub fn access(&self, method: &Method, path: &str) -> Option<Access> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.routes.get(&(method.clone(), path.to_owned())).copied()
    }
}

/// Every operation of an OpenAPI document with the permission its security names.
pub fn list_routes(doc: &utoipa::openapi::OpenApi) -> Vec<Route> {
    let json = serde_json::to_value(doc).unwrap_or(Value::Null);
    let mut out = Vec::new();
    let Some(paths) = json.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            let scopes: Option<Vec<&str>> = op
                .get("security")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|req| req.get("api_key").and_then(Value::as_array))
                .map(|s| s.iter().filter_map(Value::as_str).collect());
            let access = scopes.and_then(|scopes| match scopes.first() {
                None => Some(Access::AnyKey),
                Some(name) => Permission::parse(name).map(Access::Needs),
            });
            out.push(Route {
                method,
                path: path.clone(),
                access,
            });
        }
    }
    out
}
