//! A webhook's Persona settings besides its URL, events and inflection, and their defaults.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{DEFAULT_API_VERSION, DEFAULT_FILE_ACCESS_TOKEN_EXPIRES_IN, MAX_NAME_LEN};

/// A webhook's Persona settings besides its URL, events and inflection.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub api_version: String,
    pub attributes_blocklist: Vec<String>,
    pub file_access_token_expires_in: i64,
    pub payload_filter: Option<Value>,
    pub included_allowlist: Option<Value>,
    pub relationship_allowlist: Value,
    /// Lower-case names.
    pub custom_http_headers: BTreeMap<String, String>,
}

impl WebhookSettings {
    /// Persona's defaults, with a name made from the URL.
    pub fn defaults(url: &str) -> Self {
        Self {
            name: Some(default_name(url)),
            description: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            attributes_blocklist: Vec::new(),
            file_access_token_expires_in: DEFAULT_FILE_ACCESS_TOKEN_EXPIRES_IN,
            payload_filter: None,
            included_allowlist: Some(json!({"state": "include_none"})),
            relationship_allowlist: json!({"state": "include_all"}),
            custom_http_headers: BTreeMap::new(),
        }
    }
}

/// A name for a webhook created without one: `Webhook to <host>`.
pub fn default_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let name = format!("Webhook to {host}");
    name.chars().take(MAX_NAME_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_name_comes_from_the_host() {
        assert_eq!(
            default_name("https://user:pw@hooks.example.com:8443/p?q"),
            "Webhook to hooks.example.com:8443"
        );
        assert_eq!(default_name("nonsense"), "Webhook to nonsense");
    }
}
