//! The parsers of a webhook's scalar Persona attributes (name, description, api-version,
//! file-access-token-expires-in), its attribute blocklist and its payload filter.

use serde_json::{Map, Value};

use crate::error::{Error, codes};

/// Persona's API versions a webhook may name (`api-version`). Deliveries are always in the
/// 2025-12-08 shape; the value is stored and returned.
pub const API_VERSIONS: &[&str] = &[
    "2025-12-08",
    "2025-10-27",
    "2023-01-05",
    "2022-09-01",
    "2021-08-18",
    "2021-07-05",
    "2021-02-21",
    "2020-05-18",
];
/// The `api-version` of a webhook that names none.
pub const DEFAULT_API_VERSION: &str = "2025-12-08";
/// Persona's default `file-access-token-expires-in` (6 hours), and its bounds here.
pub const DEFAULT_FILE_ACCESS_TOKEN_EXPIRES_IN: i64 = 21_600;
pub const MAX_FILE_ACCESS_TOKEN_EXPIRES_IN: i64 = 7 * 24 * 3600;
/// Longest name and description.
pub const MAX_NAME_LEN: usize = 255;
pub const MAX_DESCRIPTION_LEN: usize = 1024;
/// Most blocklist entries, and their longest.
pub const MAX_BLOCKLIST: usize = 100;
pub const MAX_BLOCKLIST_ENTRY_LEN: usize = 255;
/// Largest `payload-filter`, as JSON.
pub const MAX_PAYLOAD_FILTER_BYTES: usize = 8 * 1024;

fn attr_error(name: &str, detail: impl Into<String>) -> Error {
    Error::invalid(codes::INVALID_ATTRIBUTE, detail).at(name)
}

/// A name: 1 to [`MAX_NAME_LEN`] characters, not blank.
pub fn parse_name(name: String) -> Result<String, Error> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_LEN {
        return Err(attr_error(
            "name",
            format!("name is 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A description of at most [`MAX_DESCRIPTION_LEN`] characters; empty reads as none.
pub fn parse_description(d: Option<String>) -> Result<Option<String>, Error> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => Err(attr_error(
            "description",
            format!("description is at most {MAX_DESCRIPTION_LEN} characters"),
        )),
        Some(d) if d.trim().is_empty() => Ok(None),
        d => Ok(d),
    }
}

/// One of Persona's [`API_VERSIONS`].
pub fn parse_api_version(v: String) -> Result<String, Error> {
    if API_VERSIONS.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(attr_error(
            "api-version",
            format!("api-version is one of {}", API_VERSIONS.join(", ")),
        ))
    }
}

/// Blocklist entries: attribute names or `/`-pointers, `*` as a wildcard.
pub fn parse_blocklist(list: Vec<String>) -> Result<Vec<String>, Error> {
    if list.len() > MAX_BLOCKLIST {
        return Err(attr_error(
            "api-attributes-blocklist",
            format!("api-attributes-blocklist has at most {MAX_BLOCKLIST} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in list.into_iter().enumerate() {
        let e = e.trim().to_owned();
        if e.is_empty() || e == "/" || e.len() > MAX_BLOCKLIST_ENTRY_LEN {
            return Err(attr_error(
                &format!("api-attributes-blocklist/{i}"),
                format!(
                    "a blocklist entry is an attribute name or a pointer of 1 to {MAX_BLOCKLIST_ENTRY_LEN} characters"
                ),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Seconds, 1 to [`MAX_FILE_ACCESS_TOKEN_EXPIRES_IN`].
pub fn parse_file_access_token_expires_in(secs: i64) -> Result<i64, Error> {
    if (1..=MAX_FILE_ACCESS_TOKEN_EXPIRES_IN).contains(&secs) {
        Ok(secs)
    } else {
        Err(attr_error(
            "file-access-token-expires-in",
            format!(
                "file-access-token-expires-in is 1 to {MAX_FILE_ACCESS_TOKEN_EXPIRES_IN} seconds"
            ),
        ))
    }
}

/// `{"data": {…}}` (Persona's only member) or null; an empty object means no filter.
pub fn parse_payload_filter(f: Option<Map<String, Value>>) -> Result<Option<Value>, Error> {
    let Some(f) = f else { return Ok(None) };
    if let Some(k) = f.keys().find(|k| *k != "data") {
        return Err(
            Error::bad_request(codes::UNKNOWN_ATTRIBUTE, format!("unknown attribute {k}"))
                .at(format!("payload-filter/{k}")),
        );
    }
    match f.get("data") {
        None => return Ok(None),
        Some(Value::Object(d)) if d.is_empty() => return Ok(None),
        Some(Value::Object(_)) => {}
        Some(_) => {
            return Err(Error::bad_request(
                codes::INVALID_TYPE,
                "payload-filter.data is an object",
            )
            .at("payload-filter/data"));
        }
    }
    let v = Value::Object(f);
    if v.to_string().len() > MAX_PAYLOAD_FILTER_BYTES {
        return Err(attr_error(
            "payload-filter",
            format!("payload-filter is at most {MAX_PAYLOAD_FILTER_BYTES} bytes of JSON"),
        ));
    }
    Ok(Some(v))
}
