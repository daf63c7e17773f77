//! Messages to peer instances (issue #17): the organizations that live on a peer (stand-ins here,
//! `organizations.home_instance`), and the durable outbox — a message is a `send_peer_message`
//! job written in the unit of work whose change it reports, so it exists exactly when the change
//! does, and the worker sends it (with the one retry policy) after the commit.

use tessera_core::federation::{Body, Message, RemoteOrganization};
use tessera_core::id::{EnvironmentId, MessageId, OrganizationId};
use tessera_core::job::{Job, SendPeerMessage};
use tessera_core::tenancy::{EnvKind, Scope};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::{jobs, peers, signing_keys, tenancy};
use crate::tx::Tx;

/// The instance `org` lives on, when it is an organization of a peer; `None` for this instance's
/// own (and for an unknown id).
pub(crate) async fn home_of(tx: &mut Tx, org: &OrganizationId) -> Result<Option<String>, Error> {
    Ok(tx
        .fetch_optional(
            "select home_instance from organizations where id = $1",
            args![org],
        )
        .await?
        .map(|r| r.opt_text("home_instance"))
        .transpose()?
        .flatten())
}

/// The scope (environment of `kind`) of the stand-in of `remote`, made when first needed: an
/// organization row with the peer's id for it and its two environments, no keys, no users. 409
/// when the id is one of this instance's own organizations, or a stand-in for another instance.
pub(crate) async fn stand_in(
    tx: &mut Tx,
    remote: &RemoteOrganization,
    name: &str,
    kind: EnvKind,
) -> Result<Scope, Error> {
    let now = tx.now();
    tx.execute(
        "insert into organizations (id, name, created_at, home_instance) values ($1, $2, $3, $4) on conflict do nothing",
        args![&remote.organization, name, now, &remote.instance],
    )
    .await?;
    if home_of(tx, &remote.organization).await?.as_deref() != Some(remote.instance.as_str()) {
        return Err(Error::conflict(
            codes::CONFLICT,
            format!(
                "organization {} is not one of instance {}",
                remote.organization, remote.instance
            ),
        ));
    }
    for k in EnvKind::ALL {
        tx.execute(
            "insert into environments (id, organization_id, kind, created_at) values ($1, $2, $3, $4) on conflict do nothing",
            args![&EnvironmentId::generate(), &remote.organization, k.as_str(), now],
        )
        .await?;
    }
    tenancy::scope_of(tx, &remote.organization, kind).await
}

/// Refuses (422 `peer_unknown` at `attribute`) an instance that is not a registered, active peer.
pub(crate) async fn check_peer(tx: &mut Tx, instance: &str, attribute: &str) -> Result<(), Error> {
    if peers::active_by_instance(tx, instance).await?.is_none() {
        return Err(Error::invalid(
            codes::PEER_UNKNOWN,
            format!("instance {instance} is not a registered peer of this instance"),
        )
        .at(attribute));
    }
    Ok(())
}

/// Writes `body` to instance `to` into the outbox: sent after this unit commits, again until the
/// peer answers. Returns the message's id.
pub(crate) async fn send(tx: &mut Tx, to: &str, body: Body) -> Result<MessageId, Error> {
    let message = Message {
        id: MessageId::generate(),
        from: signing_keys::instance_id(tx).await?,
        to: to.to_owned(),
        body,
    };
    let id = message.id.clone();
    let now = tx.now();
    jobs::enqueue(tx, &Job::from(SendPeerMessage { message }), now).await?;
    Ok(id)
}

/// Sends `body` to the home of `org` when `org` lives on a peer; nothing for a local one.
pub(crate) async fn tell(tx: &mut Tx, org: &OrganizationId, body: Body) -> Result<(), Error> {
    if let Some(home) = home_of(tx, org).await? {
        send(tx, &home, body).await?;
    }
    Ok(())
}
