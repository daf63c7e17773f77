//! The operator API's peers (issue #17, item 2): `GET|POST /admin/v1/peers`,
//! `GET|DELETE /admin/v1/peers/{peer}`, `POST /admin/v1/peers/{peer}/refresh`. Registration is [`crate::peers::register`].
//! And the federation events (item 8): `GET /admin/v1/peer-events`.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::id::PeerId;
use tessera_store::units::federation::{PeerEvent, list_peer_events};
use tessera_store::units::peers as units;

use crate::admin::AdminCtx;
use crate::peers::{refresh, register, resource};
use crate::{Body, page_doc, required};
use tessera_edge::extract::{JsonBody, Reply, path_id};
use tessera_edge::render::Doc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct NewPeer {
    url: Option<String>,
    pin: Option<String>,
}

pub(crate) async fn create_peer(ctx: AdminCtx, JsonBody(body): JsonBody<Body<NewPeer>>) -> Reply {
    ctx.query(false)?;
    let a = body.data.attributes;
    let url = required(a.url, "url")?;
    let pin = required(a.pin, "pin")?;
    let peer = register(&ctx.state.store, &ctx.state.peer_outbound, &url, &pin).await?;
    ctx.respond(StatusCode::CREATED, Doc::one(resource(&peer)), None)
}

pub(crate) async fn list_peers(ctx: AdminCtx) -> Reply {
    let q = ctx.query(true)?;
    let list = ctx
        .state
        .store
        .read(units::list_peers(q.page.clone()))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/admin/v1/peers", &q, resource),
        Some(&q),
    )
}

pub(crate) async fn show_peer(ctx: AdminCtx, Path(peer): Path<String>) -> Reply {
    let q = ctx.query(false)?;
    let id = path_id(PeerId::parse, &peer, "peer")?;
    let peer = ctx.state.store.read(units::get_peer(id)).await?;
    ctx.respond(StatusCode::OK, Doc::one(resource(&peer)), Some(&q))
}

/// Forgets the peer; answers with the peer as it was.
pub(crate) async fn delete_peer(ctx: AdminCtx, Path(peer): Path<String>) -> Reply {
    ctx.query(false)?;
    let id = path_id(PeerId::parse, &peer, "peer")?;
    let found = ctx.state.store.write(units::delete_peer(id)).await?;
    ctx.respond(StatusCode::OK, Doc::one(resource(&found)), None)
}

/// Fetches the peer's documents again and records the contact (200 either way: a failed contact
/// is recorded in the peer's `failures` and `last-error`, and its trusted keys stay as they were).
pub(crate) async fn refresh_peer(ctx: AdminCtx, Path(peer): Path<String>) -> Reply {
    ctx.query(false)?;
    let id = path_id(PeerId::parse, &peer, "peer")?;
    let peer = refresh(&ctx.state.store, &ctx.state.peer_outbound, id).await?;
    ctx.respond(StatusCode::OK, Doc::one(resource(&peer)), None)
}

/// Disables a peer: nothing of it is trusted and nothing is sent to it until it is enabled again.
pub(crate) async fn disable_peer(ctx: AdminCtx, Path(peer): Path<String>) -> Reply {
    set_disabled(ctx, peer, true).await
}

/// Enables a disabled peer again.
pub(crate) async fn enable_peer(ctx: AdminCtx, Path(peer): Path<String>) -> Reply {
    set_disabled(ctx, peer, false).await
}

async fn set_disabled(ctx: AdminCtx, peer: String, disabled: bool) -> Reply {
    ctx.query(false)?;
    let id = path_id(PeerId::parse, &peer, "peer")?;
    let peer = ctx
        .state
        .store
        .write(units::set_peer_disabled(id, disabled))
        .await?;
    ctx.respond(StatusCode::OK, Doc::one(resource(&peer)), None)
}

/// A federation event as a JSON:API resource (the shape of the tenant API's events).
fn event_resource(e: &PeerEvent) -> Value {
    json!({
        "type": "event",
        "id": e.id,
        "attributes": {
            "name": e.name,
            "instance-id": e.instance_id,
            "payload": e.payload,
            "created-at": e.created_at,
        }
    })
}

/// The federation events (`peer.*`), newest first.
pub(crate) async fn list_events(ctx: AdminCtx) -> Reply {
    let q = ctx.query(true)?;
    let list = ctx
        .state
        .store
        .read(list_peer_events(q.page.clone()))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/admin/v1/peer-events", &q, event_resource),
        Some(&q),
    )
}
