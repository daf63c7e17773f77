//! `tessera peers …`: the peer instances this one trusts (issue #17, item 2). `add` fetches the
//! peer's well-known documents through the peers' SSRF-guarded client (allow-list:
//! `TESSERA_PEER_ALLOWED_NETWORKS`) and pins one of its keys, exactly as `POST /admin/v1/peers`.

use clap::Subcommand;
use tessera_core::id::PeerId;
use tessera_server::Config;
use tessera_server::api::peers::register;
use tessera_store::StoreOptions;
use tessera_store::paging::{Cursor, PageRequest};
use tessera_store::units::peers::{self, Peer};

#[derive(Subcommand)]
pub enum PeersCommand {
    /// Registers the Tessera instance at URL, pinned to one of its keys: the RFC 7638 thumbprint
    /// its operator gives you (its `kid` in /.well-known/jwks.json; `tessera keys status` there).
    Add {
        url: String,
        #[arg(long)]
        pin: String,
    },
    /// Lists the registered peers.
    List,
    /// Forgets a peer.
    Remove { id: String },
    /// Stops trusting a peer (its messages refused, nothing sent to it) without forgetting it.
    Disable { id: String },
    /// Trusts a disabled peer again.
    Enable { id: String },
}

fn print(p: &Peer) {
    let contact = p
        .last_contact_at
        .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
    let skew = p
        .clock_skew_seconds
        .map_or_else(|| "unknown".to_owned(), |s| format!("{s:+}s"));
    println!(
        "{}  {}  {}  {}  pin {}  last contact {contact}  failures {}  clock skew {skew}  sent {}  received {}",
        p.id,
        p.status,
        p.instance_id,
        p.base_url,
        p.pin,
        p.failures,
        p.messages_sent,
        p.messages_received
    );
}

pub async fn run(config: &Config, command: PeersCommand) -> anyhow::Result<()> {
    let store = tessera_server::master_key::open_store(config, StoreOptions::default()).await?;
    match command {
        PeersCommand::Add { url, pin } => {
            let outbound = config.peer_outbound_client()?;
            let peer = register(&store, &outbound, &url, &pin)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.detail))?;
            println!("peer {} registered", peer.id);
            print(&peer);
        }
        PeersCommand::List => {
            let mut page = PageRequest {
                size: 100,
                cursor: None,
            };
            loop {
                let list = store.read(peers::list_peers(page.clone())).await?;
                list.items.iter().for_each(print);
                match list.items.last() {
                    Some(last) if list.has_next => {
                        page.cursor = Some(Cursor::After(last.id.to_string()));
                    }
                    _ => break,
                }
            }
        }
        PeersCommand::Remove { id } => {
            let id = PeerId::parse(&id)?;
            store.write(peers::delete_peer(id.clone())).await?;
            println!("peer {id} removed");
        }
        PeersCommand::Disable { id } => {
            let peer = store
                .write(peers::set_peer_disabled(PeerId::parse(&id)?, true))
                .await?;
            print(&peer);
        }
        PeersCommand::Enable { id } => {
            let peer = store
                .write(peers::set_peer_disabled(PeerId::parse(&id)?, false))
                .await?;
            print(&peer);
        }
    }
    Ok(())
}
