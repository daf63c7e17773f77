//! Server configuration. The binary fills it from flags, environment variables and an optional
//! `tessera.toml` (in that order of precedence); tests build it directly.

use std::net::SocketAddr;
use std::path::PathBuf;

use tessera_outbound::{OutboundClient, OutboundConfig, SetupError};

/// Everything the server needs to know at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TESSERA_LISTEN`: address of the HTTP server.
    pub listen: SocketAddr,
    /// `TESSERA_DATABASE_URL`: `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Where generated files (the operator token) are written.
    pub data_dir: PathBuf,
    /// `TESSERA_ADMIN_TOKEN`: the operator token; generated on first start when absent.
    pub admin_token: Option<String>,
    /// `TESSERA_RATE_LIMIT_PER_MINUTE`: requests per API key per minute (0 = unlimited).
    pub rate_limit_per_minute: u32,
    /// Largest JSON request body.
    pub body_limit: usize,
    /// Largest document upload.
    pub upload_limit: usize,
    /// `TESSERA_WEBHOOK_ALLOWED_NETWORKS`: CIDRs outbound HTTP may reach although not public.
    pub webhook_allowed_networks: Vec<String>,
    /// `TESSERA_PEER_ALLOWED_NETWORKS`: CIDRs peer instances may be reached at although not
    /// public (a separate list from the webhooks': letting tenants' webhooks reach a private
    /// network is not letting peers live there, and the reverse).
    pub peer_allowed_networks: Vec<String>,
    /// `TESSERA_WEBHOOK_TIMEOUT_MS`: per-attempt timeout of outbound HTTP.
    pub webhook_timeout_ms: u64,
    /// `TESSERA_WEBHOOK_RETRY_SCALE`: multiplies the webhook retry schedule.
    pub webhook_retry_scale: f64,
    /// How long a rotated-out webhook secret keeps signing, in seconds.
    pub webhook_secret_overlap_secs: i64,
    /// Run the background worker in this process.
    pub worker: bool,
    /// `TESSERA_WORKER_LEASE_MS`: how long a claimed job belongs to its worker before another
    /// worker may take it over (the recovery time after a worker dies).
    pub worker_lease_ms: i64,
    /// `TESSERA_IDEMPOTENCY_LEASE_MS`: how long a request holds its `Idempotency-Key` before a
    /// retry may take it over (the time a retry waits, answered 409, after the process that ran
    /// the first request died).
    pub idempotency_lease_ms: i64,
    /// `TESSERA_DASHBOARD_SECURE_COOKIES`: mark dashboard cookies `Secure` on every response
    /// (they are marked so anyway when a proxy says `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// `TESSERA_MASTER_KEY`: the master keys that seal secrets at rest, given by the operator
    /// (comma-separated, the sealing one first). Exclusive with `master_key_file`; without
    /// either, the data directory's `master-key` file is used (made at first start).
    pub master_keys: Option<tessera_core::keys::Keyring>,
    /// `TESSERA_MASTER_KEY_FILE`: a file holding the master keys (one per line, the sealing one
    /// first), provided by the operator (a mounted secret).
    pub master_key_file: Option<PathBuf>,
    /// `TESSERA_PUBLIC_BASE_URL`: the URL other instances and clients reach this one at,
    /// published in `/.well-known/tessera` (default: `http://<listen>`).
    pub public_base_url: Option<String>,
    /// A dashboard session unused this long ends (seconds).
    pub session_idle_secs: i64,
    /// A dashboard session ends this long after sign-in, however busy (seconds).
    pub session_max_secs: i64,
    /// Failed sign-ins allowed per email address within `sign_in_window_secs` (0: no limit).
    pub sign_in_failures_per_email: u32,
    /// Failed sign-ins allowed per client address within `sign_in_window_secs` (0: no limit).
    pub sign_in_failures_per_address: u32,
    /// The window over which failed sign-ins are counted (seconds).
    pub sign_in_window_secs: i64,
    /// `TESSERA_SIGNING_ALGORITHM`: the algorithm of the signing key made at first start and of
    /// the keys `tessera keys rotate` makes (`EdDSA`, the default, or `ES256`). A key already
    /// made stays until it is rotated.
    pub signing_algorithm: tessera_core::keys::Algorithm,
}

/// Default requests per API key per minute.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 1200;
/// Default database URL.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./tessera-data/tessera.db";

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            data_dir: PathBuf::from("./tessera-data"),
            admin_token: None,
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            body_limit: 1024 * 1024,
            upload_limit: 10 * 1024 * 1024,
            webhook_allowed_networks: Vec::new(),
            peer_allowed_networks: Vec::new(),
            webhook_timeout_ms: 5000,
            webhook_retry_scale: 1.0,
            webhook_secret_overlap_secs: 24 * 60 * 60,
            worker: true,
            worker_lease_ms: 60_000,
            idempotency_lease_ms: tessera_store::units::idempotency::LEASE_MS,
            secure_cookies: false,
            master_keys: None,
            master_key_file: None,
            public_base_url: None,
            session_idle_secs: 12 * 60 * 60,
            session_max_secs: 7 * 24 * 60 * 60,
            sign_in_failures_per_email: 5,
            sign_in_failures_per_address: 50,
            sign_in_window_secs: 15 * 60,
            signing_algorithm: tessera_core::keys::Algorithm::EdDSA,
        }
    }
}

/// Room for the multipart framing around an upload's file.
pub const MULTIPART_OVERHEAD: usize = 64 * 1024;

impl Config {
    /// How long dashboard sessions last.
    pub fn session_lifetimes(&self) -> tessera_store::units::sessions::Lifetimes {
        tessera_store::units::sessions::Lifetimes {
            idle_ms: self.session_idle_secs.saturating_mul(1000),
            absolute_ms: self.session_max_secs.saturating_mul(1000),
        }
    }

    /// The public base URL: `public_base_url`, else `http://<listen>`; no trailing slash.
    pub fn public_base_url(&self) -> String {
        self.public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The largest request body of any kind: an upload at its limit, with its multipart framing.
    pub fn max_request_body(&self) -> usize {
        self.upload_limit + MULTIPART_OVERHEAD
    }

    /// The outbound client's settings: `webhook_allowed_networks` parsed (bad ones refused) and
    /// `webhook_timeout_ms`.
    pub fn outbound(&self) -> Result<OutboundConfig, SetupError> {
        OutboundConfig::new(&self.webhook_allowed_networks, self.webhook_timeout_ms)
    }

    /// The production outbound client of this configuration.
    pub fn outbound_client(&self) -> Result<OutboundClient, SetupError> {
        OutboundClient::builder(self.outbound()?).build()
    }

    /// The client peers are reached through: the same guard as webhooks', with
    /// `peer_allowed_networks` as its allow-list.
    pub fn peer_outbound_client(&self) -> Result<OutboundClient, SetupError> {
        OutboundClient::builder(OutboundConfig::new(
            &self.peer_allowed_networks,
            self.webhook_timeout_ms,
        )?)
        .build()
    }

    /// The data directory implied by a database URL: the SQLite file's folder, else
    /// `./tessera-data`.
    pub fn data_dir_for(database_url: &str) -> PathBuf {
        database_url
            .strip_prefix("sqlite://")
            .and_then(|p| std::path::Path::new(p).parent())
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("./tessera-data"), PathBuf::from)
    }
}
