//! `tessera keys …`: the instance's signing keys and the master keys that seal secrets at rest.

use anyhow::bail;
use clap::Subcommand;
use tessera_core::keys::MasterKey;
use tessera_server::Config;
use tessera_server::master_key::{self, Source};
use tessera_server::secret_file;
use tessera_store::units::keys::{self, Algorithm};
use tessera_store::{Store, StoreOptions};

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
}

/// Secrets sealed again per transaction during a master key rotation.
const RESEAL_BATCH: i64 = 500;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Makes a new active signing key; the old one stays published (retired) so what it signed
    /// still verifies.
    Rotate {
        /// The new key's algorithm: EdDSA (Ed25519) or ES256 (ECDSA P-256). Default: the
        /// configured one (TESSERA_SIGNING_ALGORITHM, `signing_algorithm` in tessera.toml).
        #[arg(long, value_parser = parse_algorithm)]
        algorithm: Option<Algorithm>,
    },
    /// Rotates the master key: adds a new key first in the master key file (the old ones stay
    /// for reading) and seals every stored secret again under it. Running processes pick the new
    /// key up from the file. With TESSERA_MASTER_KEY, put a new key first in it yourself,
    /// restart, and run `tessera keys reseal`.
    RotateMaster,
    /// Seals every stored secret under the first configured master key (resumable: run it
    /// again after an interruption).
    Reseal,
    /// Prints a new random master key (for TESSERA_MASTER_KEY or a key file).
    GenerateMaster,
    /// Shows the master keys, how many secrets each seals, and the signing keys.
    Status,
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    master_key::open_store(config, StoreOptions::default()).await
}

/// Seals every secret under the sealing key, in batches; returns how many.
async fn reseal(store: &Store) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let n = store.write(keys::reseal(RESEAL_BATCH)).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

async fn print_status(store: &Store) -> anyhow::Result<()> {
    let ring = store.keys().current();
    let counts = store.read(keys::kids_in_use()).await?;
    for kid in ring.kids() {
        let role = if kid == ring.sealing_kid() {
            "seals"
        } else {
            "opens"
        };
        let n = counts.get(kid).copied().unwrap_or(0);
        println!("master key   {kid}  {role}  {n} secrets");
    }
    if let Some(n) = counts.get("") {
        println!("in the clear {n} secrets (sealed at the next start)");
    }
    for k in store.read(keys::published_keys()).await? {
        let status = if k.active { "active" } else { "retired" };
        println!(
            "signing key  {}  {}  {status}  made {}",
            k.jwk.kid,
            k.algorithm,
            k.created_at.to_rfc3339()
        );
    }
    Ok(())
}

pub async fn run(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate { algorithm } => {
            let algorithm = algorithm.unwrap_or(config.signing_algorithm);
            let store = open(config).await?;
            let old = store
                .write(keys::ensure_identity(config.signing_algorithm))
                .await?;
            let new = store.write(keys::rotate_signing_key(algorithm)).await?;
            println!("signing key {new} ({algorithm}) is active");
            println!("signing key {old} is retired (still published in /.well-known/jwks.json)");
            Ok(())
        }
        KeysCommand::RotateMaster => {
            let source = Source::of(config)?;
            let Some(file) = source.file().map(ToOwned::to_owned) else {
                bail!(
                    "the master keys come from TESSERA_MASTER_KEY, which this command cannot change: put a new key (tessera keys generate-master) first in it, keeping the old one after a comma, restart every process, then run `tessera keys reseal`"
                );
            };
            // The keys in use must open this database before a new one is added to them.
            let store = open(config).await?;
            let before = store.keys().current();
            store.close().await;
            let ring = before.with_new_key(MasterKey::generate());
            secret_file::replace(&file, &ring.encode())
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", file.display()))?;
            println!(
                "master key {} added to {} (it seals from now on)",
                ring.sealing_kid(),
                file.display()
            );
            let store = open(config).await?;
            let n = reseal(&store).await?;
            println!("{n} secrets sealed again under {}", ring.sealing_kid());
            print_status(&store).await?;
            println!(
                "the older keys stay in {} so that processes still running can read; remove them once every process has restarted and `tessera keys status` shows no secret under them",
                file.display()
            );
            Ok(())
        }
        KeysCommand::Reseal => {
            let store = open(config).await?;
            let n = reseal(&store).await?;
            println!(
                "{n} secrets sealed again under {}",
                store.keys().current().sealing_kid()
            );
            print_status(&store).await
        }
        KeysCommand::GenerateMaster => {
            let key = MasterKey::generate();
            println!("{}", key.encode().as_str());
            eprintln!("master key {} (keep it secret, and keep a copy)", key.kid());
            Ok(())
        }
        KeysCommand::Status => {
            let store = open(config).await?;
            println!("master keys from {}", Source::of(config)?);
            print_status(&store).await
        }
    }
}
