//! `custom-http-headers`: the headers a webhook adds to every delivery, and the ones it may not.

use std::collections::BTreeMap;

use crate::error::{Error, codes};

/// Most custom headers, the longest name and value.
pub const MAX_CUSTOM_HEADERS: usize = 20;
pub const MAX_HEADER_NAME_LEN: usize = 64;
pub const MAX_HEADER_VALUE_LEN: usize = 1024;

/// Headers a webhook's `custom-http-headers` may not set: the ones Tessera writes on every
/// delivery (content, signatures, attempt counters) and the ones HTTP itself manages.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "user-agent",
    "persona-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// Whether `name` is a header a webhook may not set.
pub fn is_reserved_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    RESERVED_HEADERS.contains(&n.as_str())
        || n.starts_with("persona-webhook-")
        || n.starts_with("proxy-")
}

/// Header names are HTTP tokens (stored lower-case), values visible ASCII with inner spaces; the
/// headers Tessera sets itself are refused.
pub fn parse_custom_http_headers(
    h: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    let pointer = "custom-http-headers";
    if h.len() > MAX_CUSTOM_HEADERS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("custom-http-headers has at most {MAX_CUSTOM_HEADERS} headers"),
        )
        .at(pointer));
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut out = BTreeMap::new();
    for (name, value) in h {
        let here = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
        if name.is_empty() || name.len() > MAX_HEADER_NAME_LEN || !name.chars().all(token) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!(
                    "{name:?} is not a header name (1 to {MAX_HEADER_NAME_LEN} token characters)"
                ),
            )
            .at(here));
        }
        if is_reserved_header(&name) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!("{name} is set by Tessera on every delivery and cannot be replaced"),
            )
            .at(here));
        }
        let v = value.trim();
        if v.len() > MAX_HEADER_VALUE_LEN
            || !v
                .chars()
                .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
        {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!(
                    "the value of {name} is at most {MAX_HEADER_VALUE_LEN} visible ASCII characters"
                ),
            )
            .at(here));
        }
        let lower = name.to_ascii_lowercase();
        if out.insert(lower, v.to_owned()).is_some() {
            return Err(
                Error::invalid(codes::INVALID_ATTRIBUTE, format!("{name} is given twice")).at(here),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_headers_are_validated() {
        let h = |pairs: &[(&str, &str)]| {
            parse_custom_http_headers(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        let ok = h(&[("X-API-Key", "abc"), ("Authorization", "Bearer t")]).unwrap();
        assert_eq!(ok.get("x-api-key").map(String::as_str), Some("abc"));
        for bad in [
            &[("Persona-Signature", "x")][..],
            &[("content-type", "x")],
            &[("Persona-Webhook-Attempts-Made", "1")],
            &[("bad name", "x")],
            &[("x-ok", "line\nbreak")],
            &[("", "x")],
        ] {
            assert!(h(bad).is_err(), "{bad:?}");
        }
    }
}
