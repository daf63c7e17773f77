//! The RFC 9421 and RFC 9530 pieces: the signature base (serialised by `httpsig` from component
//! values taken from the request), the `content-digest` field, the values a parameter may hold,
//! and the key behind `httpsig`'s signing trait.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use httpsig::prelude::message_component::{
    HttpMessageComponent, HttpMessageComponentId, HttpMessageComponentName,
};
use httpsig::prelude::{AlgorithmName, HttpSigResult, HttpSignatureBase, HttpSignatureParams};
use sfv::{BareItem, Dictionary, Item, ListEntry, Parser};
use sha2::{Digest as _, Sha256};

/// The `content-digest` field (RFC 9530) of `body`: its SHA-256, e.g. `sha-256=:X48E…PE=:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// The SHA-256 a `content-digest` field value announces (other algorithms in it are ignored).
pub(crate) fn announced_sha256(field: &str) -> Result<Vec<u8>, String> {
    let dictionary: Dictionary = Parser::new(field)
        .parse()
        .map_err(|e| format!("content-digest is not a structured dictionary: {e}"))?;
    match dictionary.get("sha-256") {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(bytes),
            ..
        })) if bytes.len() == 32 => Ok(bytes.clone()),
        Some(_) => Err("content-digest's sha-256 is not a 32-byte byte sequence".to_owned()),
        None => Err("content-digest has no sha-256".to_owned()),
    }
}

/// The name of a covered component (`@method`, `date`, …), or `None` when it carries parameters
/// (`;sf`, `;req`, …): Tessera signs plain components only.
pub(crate) fn component_name(id: &HttpMessageComponentId) -> Option<&str> {
    if !id.params.0.is_empty() {
        return None;
    }
    Some(match &id.name {
        HttpMessageComponentName::HttpField(name) => name.as_str(),
        HttpMessageComponentName::Derived(derived) => derived.as_ref(),
    })
}

/// The signature base of `params` (RFC 9421 section 2.5): one line per covered component, in the
/// order `params` lists them, with the value `values` gives for its name, then the
/// `@signature-params` line.
pub(crate) fn signature_base(
    params: &HttpSignatureParams,
    values: &[(&str, &str)],
) -> Result<HttpSignatureBase, String> {
    let lines = params
        .covered_components
        .iter()
        .map(|id| {
            let name =
                component_name(id).ok_or_else(|| format!("component {id} has parameters"))?;
            let value = values
                .iter()
                .find(|(covered, _)| *covered == name)
                .map(|(_, value)| (*value).to_owned())
                .ok_or_else(|| format!("no value for component {id}"))?;
            HttpMessageComponent::try_from((id, &[value][..])).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    HttpSignatureBase::try_new(&lines, params).map_err(|e| e.to_string())
}

/// A value Tessera puts in a signature parameter or the instance header (a nonce, a kid, an
/// instance id): 1 to 256 characters of base64/base64url and id alphabets. Kept this narrow so a
/// value never needs escaping in a structured field (whose serialisation `httpsig` does not
/// escape).
pub(crate) fn is_plain_token(value: &str) -> bool {
    (1..=256).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

/// A signing key, named by `kid`, as `httpsig`'s signing key.
pub(crate) struct KeySigner<'a> {
    pub(crate) key: &'a super::SigningKey,
    pub(crate) kid: &'a str,
}

impl httpsig::prelude::SigningKey for KeySigner<'_> {
    fn sign(&self, data: &[u8]) -> HttpSigResult<Vec<u8>> {
        Ok(self.key.sign(data))
    }

    fn key_id(&self) -> String {
        self.kid.to_owned()
    }

    fn alg(&self) -> AlgorithmName {
        self.key.algorithm_name()
    }
}

/// Checks `signature` over `base` with `key`.
pub(crate) fn verifies(
    key: &super::VerifyingKey,
    base: &HttpSignatureBase,
    signature: &[u8],
) -> bool {
    key.verifies(&base.as_bytes(), signature)
}
