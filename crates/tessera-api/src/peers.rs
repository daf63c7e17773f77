//! Registering a peer instance (issue #17, item 2), shared by the operator API
//! (`POST /admin/v1/peers`) and `tessera peers add`: fetch the peer's `/.well-known/tessera` and
//! `/.well-known/jwks.json` through the peers' SSRF-guarded client, check the JWKS against the
//! pinned thumbprint, and store the peer — or refuse with a 422 and store nothing.

use serde_json::{Value, json};
use tessera_core::id::PeerId;
use tessera_core::keys::peer::{self, PeerDocumentError};
use tessera_core::{Error, codes};
use tessera_outbound::OutboundClient;
use tessera_store::Store;
use tessera_store::units::peers::{self as units, NewPeer, Peer};

use crate::well_known::{JWKS_PATH, TESSERA_PATH};

const URL: &str = "/data/attributes/url";
const PIN: &str = "/data/attributes/pin";

/// The peer's base URL: `url` without a trailing slash, with no query or fragment.
fn base_url(url: &str) -> Result<String, Error> {
    let bad = |detail: &str| Error::invalid(codes::INVALID_URL, detail.to_owned()).at(URL);
    let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&format!("not a URL: {e}")))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a peer's URL has no query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

async fn fetch(outbound: &OutboundClient, url: &str) -> Result<Vec<u8>, Error> {
    outbound
        .get_document(url)
        .await
        .map(|b| b.to_vec())
        .map_err(|f| {
            Error::invalid(
                codes::PEER_UNREACHABLE,
                format!("fetching {url} failed ({}): {}", f.kind, f.message),
            )
            .at(URL)
        })
}

fn refused(e: PeerDocumentError) -> Error {
    match e {
        PeerDocumentError::Malformed(m) => Error::invalid(codes::PEER_DOCUMENT_INVALID, m).at(URL),
        e @ PeerDocumentError::PinNotPublished(_) => {
            Error::invalid(codes::PEER_PIN_MISMATCH, e.to_string()).at(PIN)
        }
    }
}

/// Registers the peer at `url` pinned to `pin` (an RFC 7638 thumbprint of one of its keys).
pub async fn register(
    store: &Store,
    outbound: &OutboundClient,
    url: &str,
    pin: &str,
) -> Result<Peer, Error> {
    if !peer::is_thumbprint(pin) {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            "pin is an RFC 7638 SHA-256 thumbprint: 43 base64url characters",
        )
        .at(PIN));
    }
    let base = base_url(url)?;
    // The URL rules and the address guard first, with the webhooks' error (invalid_url).
    let base = tessera_edge::inputs::check_url(outbound, base).await?;
    let identity = peer::parse_identity(&fetch(outbound, &format!("{base}{TESSERA_PATH}")).await?)
        .map_err(refused)?;
    let jwks = peer::parse_jwks(&fetch(outbound, &format!("{base}{JWKS_PATH}")).await?)
        .map_err(refused)?;
    peer::check_jwks(pin, &jwks).map_err(refused)?;
    store
        .write(units::create_peer(NewPeer {
            base_url: base,
            instance_id: identity.instance_id,
            pin: pin.to_owned(),
            jwks,
        }))
        .await
}

/// Fetches a registered peer's documents again and records the contact: the JWKS replaces the
/// stored one only if the peer still answers as the same instance and the JWKS still lists the
/// pinned key; otherwise the failure is recorded (`failures`, `last-error`) and the stored JWKS —
/// the keys trusted for the peer — stays as it was.
pub async fn refresh(store: &Store, outbound: &OutboundClient, id: PeerId) -> Result<Peer, Error> {
    let peer = store.read(units::get_peer(id.clone())).await?;
    let base = &peer.base_url;
    let fetched = async {
        let identity =
            peer::parse_identity(&fetch(outbound, &format!("{base}{TESSERA_PATH}")).await?)
                .map_err(refused)?;
        if identity.instance_id != peer.instance_id {
            return Err(Error::invalid(
                codes::PEER_DOCUMENT_INVALID,
                format!(
                    "the peer now answers as instance {}, not {}",
                    identity.instance_id, peer.instance_id
                ),
            ));
        }
        let jwks = peer::parse_jwks(&fetch(outbound, &format!("{base}{JWKS_PATH}")).await?)
            .map_err(refused)?;
        peer::check_jwks(&peer.pin, &jwks).map_err(refused)?;
        Ok(jwks)
    }
    .await;
    match fetched {
        Ok(jwks) => store.write(units::record_peer_contact(id, jwks)).await,
        Err(e) => {
            let error = format!("{}: {}", e.code, e.detail);
            store.write(units::record_peer_failure(id, error)).await
        }
    }
}

/// A peer as a JSON:API resource.
pub fn resource(p: &Peer) -> Value {
    let keys: Vec<&str> = p.jwks.iter().map(|k| k.kid.as_str()).collect();
    json!({
        "type": "peer",
        "id": p.id,
        "attributes": {
            "url": p.base_url,
            "instance-id": p.instance_id,
            "pin": p.pin,
            "published-keys": keys,
            "status": p.status,
            "created-at": p.created_at,
            "last-contact-at": p.last_contact_at,
            "failures": p.failures,
            "last-error": p.last_error,
            "clock-skew-seconds": p.clock_skew_seconds,
            "messages-sent": p.messages_sent,
            "messages-received": p.messages_received,
        }
    })
}
