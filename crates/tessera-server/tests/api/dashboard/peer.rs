//! A connection with an organization of a peer instance shows, on its page, the peer instance the
//! partner lives on and how the exchange with it goes (issue #17, item 8); a local connection
//! shows no such row.

use tessera_store::on_both_backends;
use tessera_store::testing::Backend;

use super::{Browser, page, user};
use crate::peer_health::receive_offer;
use crate::peers::{Peer, local, register};
use crate::support::ADMIN;

async fn a_connection_to_a_peer_shows_the_peer_instance(backend: Backend) {
    let app = local(backend).await;
    let a = user(&app, "Alpha", "admin").await;
    let b = user(&app, "Bravo", "admin").await;
    let peer = Peer::start(backend).await;
    let (pin, instance) = (peer.pin().await, peer.instance_id().await);
    let id = register(&app, &peer.url, &pin).await.expect(201).id();
    // The peer offers a connection to Alpha; its clock is 2 s behind ours.
    let remote = receive_offer(&app, &instance, &a.org.id, -2).await;
    let local_one = app.active_connection(&a.org, &b.org).await;

    let mut web = Browser::new(&app);
    web.sign_in(&a).await;
    let body = page(
        &web.get(&format!("/dashboard/connections/{remote}")).await,
        200,
    );
    assert!(body.contains("Peer instance"), "{body}");
    let row = &body[body.find("id=\"peer-instance\"").unwrap()..];
    let row = &row[..row.find("</dd>").unwrap()];
    assert!(row.contains(&instance), "{row}");
    assert!(row.contains(&peer.url), "{row}");
    assert!(row.contains("<time"), "the last contact: {row}");
    assert!(
        row.contains(r#"<span id="peer-failures">0</span>"#),
        "{row}"
    );
    assert!(
        row.contains(r#"<span id="peer-clock-skew">-2 s</span>"#),
        "{row}"
    );

    let body = page(
        &web.get(&format!("/dashboard/connections/{local_one}"))
            .await,
        200,
    );
    assert!(!body.contains("Peer instance"), "{body}");

    // Once the operator removes the peer, the row says so.
    app.delete(&format!("/admin/v1/peers/{id}"))
        .key(ADMIN)
        .send()
        .await
        .expect(200);
    let body = page(
        &web.get(&format!("/dashboard/connections/{remote}")).await,
        200,
    );
    assert!(body.contains("no longer registered"), "{body}");
    assert!(!body.contains(&peer.url), "{body}");
}

on_both_backends!(a_connection_to_a_peer_shows_the_peer_instance);
