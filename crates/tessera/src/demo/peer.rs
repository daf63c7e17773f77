//! `tessera demo --peer`: a second, independent Tessera instance (its own database, its own keys)
//! on loopback, and a federated share. The two instances pin each other's key, Acme Bank on the
//! first connects to an organization of the second, shares the story's inquiry, and the second
//! redeems it through its own store: the copy lands there with a receipt signed by the first.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tessera_core::connection::{ConnectionAction, ConnectionStatus};
use tessera_core::federation::RemoteOrganization;
use tessera_core::id::InquiryId;
use tessera_core::share_token::{RedeemParams, ShareTokenStatus, SourceId, TokenSpec};
use tessera_core::tenancy::{Actor, EnvKind, Scope};
use tessera_server::Config;
use tessera_server::api::peers::register;
use tessera_store::units::{connections, federation, keys, share_tokens, tenancy};
use tessera_store::{Store, StoreOptions};
use tokio_util::sync::CancellationToken;

use crate::demo::{Timeline, trust};

/// An instance of the demo: its store, configuration and URL.
pub struct Side {
    pub store: Store,
    pub config: Config,
    pub url: String,
}

/// Polls `check` every 50 ms for up to 30 s.
async fn until<T, F, Fut>(what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(t) = check().await? {
            return Ok(t);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the peer instance never {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pin(store: &Store) -> anyhow::Result<String> {
    let keys = store.read(keys::published_keys()).await?;
    keys.iter()
        .find(|k| k.active)
        .map(|k| k.jwk.kid.clone())
        .context("no active signing key")
}

/// Starts the second instance in `dir` (serving until `stop`).
pub async fn start(dir: &Path, stop: &CancellationToken) -> anyhow::Result<Side> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let config = Config {
        listen: listener.local_addr()?,
        database_url: format!("sqlite://{}", dir.join("tessera.db").display()),
        data_dir: dir.to_path_buf(),
        peer_allowed_networks: vec!["127.0.0.0/8".into()],
        public_base_url: Some(url.clone()),
        ..Config::default()
    };
    let store = tessera_server::master_key::open_store(&config, StoreOptions::default()).await?;
    tokio::spawn(tessera_server::serve::run_on(
        listener,
        store.clone(),
        config.clone(),
        stop.clone(),
    ));
    Ok(Side { store, config, url })
}

/// The federated share: `source` (Acme Bank's scope and actor on `main`) shares `inquiry` with
/// an organization of `peer`. Returns the copy on the peer.
pub async fn share(
    main: &Side,
    peer: &Side,
    source: (&Scope, &Actor),
    inquiry: &InquiryId,
    timeline: &Timeline,
) -> anyhow::Result<InquiryId> {
    let say = |text: &str| timeline.line("peer", text);
    // Each operator pins the other's key (the identity is made as each server starts).
    let (main_pin, peer_pin) = until("published its keys", || async {
        match (pin(&main.store).await, pin(&peer.store).await) {
            (Ok(a), Ok(b)) => Ok(Some((a, b))),
            _ => Ok(None),
        }
    })
    .await?;
    let refuse = |e: tessera_core::Error| anyhow::anyhow!("{}: {}", e.code, e.detail);
    register(
        &main.store,
        &main.config.peer_outbound_client()?,
        &peer.url,
        &peer_pin,
    )
    .await
    .map_err(refuse)?;
    register(
        &peer.store,
        &peer.config.peer_outbound_client()?,
        &main.url,
        &main_pin,
    )
    .await
    .map_err(refuse)?;
    let peer_instance = peer
        .store
        .read(keys::instance_id())
        .await?
        .context("the peer has no instance id")?;
    say(&format!(
        "a second Tessera instance {peer_instance} runs at {}, its own database and keys; the two operators pin each other's key",
        peer.url
    ));

    let gamma = peer
        .store
        .write(tenancy::create_organization("Gamma Credit".into()))
        .await?;
    let (key, _) = gamma
        .keys
        .iter()
        .find(|(k, _)| k.scope.kind == EnvKind::Sandbox)
        .context("no sandbox key")?;
    let gamma_scope = key.scope.clone();
    let remote = RemoteOrganization {
        organization: gamma.organization.id.clone(),
        instance: peer_instance.clone(),
    };
    let connection = main
        .store
        .write(federation::create_to_peer(
            source.0.clone(),
            remote.clone(),
            Some("Gamma Credit, across instances".into()),
            source.1.clone(),
        ))
        .await?;
    say(&format!(
        "Acme Bank connects to {remote} (Gamma Credit on the peer); the offer travels as a signed message"
    ));
    until("received the connection", || async {
        Ok(peer
            .store
            .read(connections::get(gamma_scope.clone(), connection.id.clone()))
            .await
            .ok())
    })
    .await?;
    peer.store
        .write(connections::act(
            gamma_scope.clone(),
            connection.id.clone(),
            ConnectionAction::Activate,
        ))
        .await?;
    until("activated the connection", || async {
        let c = main
            .store
            .read(connections::get(source.0.clone(), connection.id.clone()))
            .await?;
        Ok((c.status == ConnectionStatus::Active).then_some(()))
    })
    .await?;
    say("Gamma Credit accepts it on its own instance; the connection is active on both");

    let token = main
        .store
        .write(share_tokens::create(
            source.0.clone(),
            TokenSpec::new(
                connection.id.clone(),
                SourceId::Inquiry(inquiry.clone()),
                3600,
            ),
            source.1.clone(),
        ))
        .await?;
    until("received the share token", || async {
        Ok(peer
            .store
            .read(share_tokens::get(gamma_scope.clone(), token.id.clone()))
            .await
            .ok())
    })
    .await?;
    peer.store
        .write(share_tokens::redeem(
            gamma_scope.clone(),
            token.id.clone(),
            RedeemParams::default(),
        ))
        .await?;
    say(&format!(
        "Acme Bank shares inquiry {inquiry} as token {}; Gamma Credit redeems it on the peer, which asks Acme's instance (the authority on the token)",
        token.id
    ));
    let copy = until("finished the redemption", || async {
        let t = peer
            .store
            .read(share_tokens::get(gamma_scope.clone(), token.id.clone()))
            .await?;
        match t.status {
            ShareTokenStatus::Redeemed => Ok(t.destination_inquiry_id),
            ShareTokenStatus::Failed => anyhow::bail!(
                "the federated redemption failed: {}",
                t.failure_reason.unwrap_or_default()
            ),
            _ => Ok(None),
        }
    })
    .await?;

    // The receipt the peer holds, checked against the first instance's published keys.
    let claims = trust::verified_receipt(&peer.store, &gamma_scope, &token.id, &main.store).await?;
    say(&format!(
        "the copy is inquiry {copy} on the peer, with a receipt signed by {} that verifies against {}/.well-known/jwks.json",
        claims.iss, main.url
    ));
    Ok(copy)
}
