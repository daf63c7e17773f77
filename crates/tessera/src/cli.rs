//! Command line: flags win over environment variables, which win over `tessera.toml`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use tessera_core::id::OrganizationId;
use tessera_core::permission::Permissions;
use tessera_core::tenancy::EnvKind;
use tessera_server::Config;
use tessera_store::units::tenancy;
use tessera_store::{Store, StoreOptions};

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "Share verified identity data between organizations"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// `sqlite://PATH` (embedded, created if absent) or `postgres://…`.
    #[arg(long, env = "TESSERA_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// An optional configuration file.
    #[arg(
        long,
        env = "TESSERA_CONFIG",
        global = true,
        default_value = "tessera.toml"
    )]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Runs migrations, then the API, the dashboard and the background worker.
    Serve(ServeArgs),
    /// Runs the background worker alone.
    Worker,
    /// Applies migrations and exits.
    Migrate,
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Shows Tessera working: a fresh database, two organizations sharing a verified inquiry,
    /// a webhook delivery; then serves the dashboard with a sign-in for each organization.
    Demo(DemoArgs),
    /// Prints the OpenAPI description of the tenant API.
    Openapi,
    /// The instance's signing keys and the master keys sealing secrets at rest.
    #[command(subcommand)]
    Keys(crate::keys::KeysCommand),
    /// Signed share receipts.
    #[command(subcommand)]
    Receipt(crate::receipt::ReceiptCommand),
    /// The peer instances this one trusts (federation), each pinned to one of its keys.
    #[command(subcommand)]
    Peers(crate::peers::PeersCommand),
}

#[derive(Args)]
struct DemoArgs {
    /// Address of the HTTP server (another port is used if this one is taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Keep the demo database in this directory (it must not hold one yet) instead of a
    /// temporary directory that is removed at the end.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also start a second Tessera instance and share across the two (federation).
    #[arg(long)]
    peer: bool,
}

#[derive(Args)]
struct ServeArgs {
    /// Address of the HTTP server.
    #[arg(long, env = "TESSERA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Serve the API without the background worker.
    #[arg(long)]
    no_worker: bool,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Creates an organization and one API key per environment.
    Create {
        #[arg(long)]
        name: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Creates an API key and prints its secret.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        environment: String,
        /// A permission (repeatable); default: all.
        #[arg(long = "permission")]
        permissions: Vec<String>,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates a dashboard user; the password is read from standard input.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

/// `tessera.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    database_url: Option<String>,
    admin_token: Option<String>,
    rate_limit_per_minute: Option<u32>,
    webhook_allowed_networks: Option<Vec<String>>,
    peer_allowed_networks: Option<Vec<String>>,
    webhook_timeout_ms: Option<u64>,
    webhook_retry_scale: Option<f64>,
    dashboard_secure_cookies: Option<bool>,
    worker_lease_ms: Option<i64>,
    idempotency_lease_ms: Option<i64>,
    log: Option<String>,
    /// A file holding the master keys (the keys themselves are never in this file).
    master_key_file: Option<PathBuf>,
    public_base_url: Option<String>,
    /// `EdDSA` (default) or `ES256`.
    signing_algorithm: Option<String>,
}

fn env<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name} has an invalid value: {v}")),
        _ => Ok(None),
    }
}

fn load_file(path: &PathBuf) -> anyhow::Result<FileConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn build_config(
    global: &Global,
    file: &FileConfig,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Config> {
    let defaults = Config::default();
    let database_url = global
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or(defaults.database_url.clone());
    let list = |name: &str| -> anyhow::Result<Option<Vec<String>>> {
        Ok(env::<String>(name)?.map(|s| {
            s.split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        }))
    };
    let networks = list("TESSERA_WEBHOOK_ALLOWED_NETWORKS")?;
    let peer_networks = list("TESSERA_PEER_ALLOWED_NETWORKS")?;
    let config = Config {
        listen: listen.or(file.listen).unwrap_or(defaults.listen),
        data_dir: Config::data_dir_for(&database_url),
        database_url,
        admin_token: env::<String>("TESSERA_ADMIN_TOKEN")?.or_else(|| file.admin_token.clone()),
        rate_limit_per_minute: env("TESSERA_RATE_LIMIT_PER_MINUTE")?
            .or(file.rate_limit_per_minute)
            .unwrap_or(defaults.rate_limit_per_minute),
        webhook_allowed_networks: networks
            .or_else(|| file.webhook_allowed_networks.clone())
            .unwrap_or_default(),
        peer_allowed_networks: peer_networks
            .or_else(|| file.peer_allowed_networks.clone())
            .unwrap_or_default(),
        webhook_timeout_ms: env("TESSERA_WEBHOOK_TIMEOUT_MS")?
            .or(file.webhook_timeout_ms)
            .unwrap_or(defaults.webhook_timeout_ms),
        worker_lease_ms: env("TESSERA_WORKER_LEASE_MS")?
            .or(file.worker_lease_ms)
            .unwrap_or(defaults.worker_lease_ms),
        idempotency_lease_ms: env("TESSERA_IDEMPOTENCY_LEASE_MS")?
            .or(file.idempotency_lease_ms)
            .unwrap_or(defaults.idempotency_lease_ms),
        webhook_retry_scale: env("TESSERA_WEBHOOK_RETRY_SCALE")?
            .or(file.webhook_retry_scale)
            .unwrap_or(defaults.webhook_retry_scale),
        secure_cookies: env("TESSERA_DASHBOARD_SECURE_COOKIES")?
            .or(file.dashboard_secure_cookies)
            .unwrap_or(defaults.secure_cookies),
        ..defaults
    };
    // The master keys: parsed now so a malformed one is refused at once (never echoed).
    let master_keys = match std::env::var("TESSERA_MASTER_KEY") {
        Ok(v) if !v.trim().is_empty() => Some(
            tessera_core::keys::Keyring::parse(&v)
                .map_err(|e| anyhow::anyhow!("TESSERA_MASTER_KEY: {e}"))?,
        ),
        _ => None,
    };
    let config = Config {
        master_keys,
        master_key_file: env::<PathBuf>("TESSERA_MASTER_KEY_FILE")?
            .or_else(|| file.master_key_file.clone()),
        public_base_url: env::<String>("TESSERA_PUBLIC_BASE_URL")?
            .or_else(|| file.public_base_url.clone()),
        signing_algorithm: match env("TESSERA_SIGNING_ALGORITHM")? {
            Some(algorithm) => algorithm,
            None => file
                .signing_algorithm
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e: String| {
                    anyhow::anyhow!("signing_algorithm in the configuration file: {e}")
                })?
                .unwrap_or(config.signing_algorithm),
        },
        ..config
    };
    // Refuse a bad network list or timeout now, with a clear message, rather than at the first
    // webhook delivery.
    config.outbound()?;
    config.peer_outbound_client()?;
    Ok(config)
}

fn init_logging(file: &FileConfig) {
    let filter = std::env::var("TESSERA_LOG")
        .ok()
        .or_else(|| file.log.clone())
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("TESSERA_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The demo prints its own timeline: logs only say what went wrong (unless `TESSERA_LOG` says
/// otherwise).
fn init_demo_logging() {
    let filter = std::env::var("TESSERA_LOG").unwrap_or_else(|_| "warn".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn open(config: &Config, migrate: bool) -> anyhow::Result<Store> {
    tessera_server::master_key::open_store(
        config,
        StoreOptions {
            migrate,
            ..StoreOptions::default()
        },
    )
    .await
}

fn parse_org(s: &str) -> anyhow::Result<OrganizationId> {
    OrganizationId::parse(s).map_err(|_| anyhow::anyhow!("{s} is not an organization id"))
}

pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let file = load_file(&cli.global.config)?;
    let listen = match &cli.command {
        Command::Serve(a) => a.listen,
        _ => None,
    };
    let mut config = build_config(&cli.global, &file, listen)?;
    match cli.command {
        Command::Serve(args) => {
            init_logging(&file);
            config.worker = !args.no_worker;
            let store = open(&config, true).await?;
            tessera_server::serve::run(store, config).await
        }
        Command::Worker => {
            init_logging(&file);
            let store = open(&config, true).await?;
            tessera_server::serve::run_worker(store, config).await
        }
        Command::Migrate => {
            let store = open(&config, true).await?;
            store.ready().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Org(OrgCommand::Create { name, json }) => {
            let store = open(&config, true).await?;
            let name =
                tenancy::check_name(&name, "--name").map_err(|e| anyhow::anyhow!(e.detail))?;
            let created = store.write(tenancy::create_organization(name)).await?;
            let key = |kind: EnvKind| {
                created
                    .keys
                    .iter()
                    .find(|(k, _)| k.scope.kind == kind)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default()
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "organization-id": created.organization.id,
                        "api-keys": {"sandbox": key(EnvKind::Sandbox), "production": key(EnvKind::Production)},
                    })
                );
            } else {
                println!("organization   {}", created.organization.id);
                println!("sandbox key    {}", key(EnvKind::Sandbox));
                println!("production key {}", key(EnvKind::Production));
                println!("(the keys are shown once)");
            }
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create {
            org,
            environment,
            permissions,
            name,
        }) => {
            let org = parse_org(&org)?;
            let kind =
                EnvKind::parse(&environment).context("--environment is sandbox or production")?;
            let permissions = if permissions.is_empty() {
                Permissions::all()
            } else {
                Permissions::parse_names(&permissions)
                    .map_err(|p| anyhow::anyhow!("unknown permission {p}"))?
            };
            let store = open(&config, true).await?;
            let (key, secret) = store
                .write(tenancy::create_api_key_for(
                    org,
                    kind,
                    name,
                    permissions,
                    None,
                ))
                .await?;
            println!("{secret}");
            eprintln!("api key {} ({}), shown once", key.id, kind.as_str());
            Ok(())
        }
        Command::User(UserCommand::Create {
            org,
            email,
            password_stdin,
            role,
        }) => {
            if !password_stdin {
                bail!("pass the password on standard input with --password-stdin");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let store = open(&config, true).await?;
            let user = tessera_server::api::admin::create_user_in(
                &store,
                parse_org(&org)?,
                &email,
                password,
                &role,
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
            println!("{}", user.id);
            Ok(())
        }
        Command::Demo(args) => {
            init_demo_logging();
            crate::demo::run(crate::demo::DemoArgs {
                listen: args.listen,
                dir: args.dir,
                peer: args.peer,
            })
            .await
        }
        Command::Keys(command) => {
            init_logging(&file);
            crate::keys::run(&config, command).await
        }
        Command::Receipt(command) => crate::receipt::run(command).await,
        Command::Peers(command) => {
            init_logging(&file);
            crate::peers::run(&config, command).await
        }
        Command::Openapi => {
            println!(
                "{}",
                tessera_server::api::openapi::to_json(&tessera_server::app::openapi())?
            );
            Ok(())
        }
    }
}
