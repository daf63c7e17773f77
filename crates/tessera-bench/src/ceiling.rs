//! The store ceiling: share-token creation through tessera-store's own unit of work, in this
//! process, with no HTTP: the same SQL and migrations as the server, the same group commit on
//! SQLite. What HTTP creation achieves is reported as a fraction of it.
//!
//! The data is made the way the HTTP creation phase makes its own: a `tessera serve` on the
//! fresh database creates the two organizations, the accepted connection and the completed
//! inquiries over its API, and is stopped before the store is opened here.
//!
//! [`share_token_creation`] is the only code of this crate that calls tessera-store (opening the
//! store and the one unit of work); everything else here speaks HTTP and `tessera_core` types.
//!
//! `Bench::ceiling`, at the end, measures the ceiling after the creation phase and makes its two
//! rows (the ceiling, and HTTP's peak as a fraction of it).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tessera_core::id::{ApiKeyId, ConnectionId, EnvironmentId, OrganizationId};
use tessera_core::share_token::{DEFAULT_EXPIRES_IN, SourceId, TokenSpec};
use tessera_core::tenancy::{Actor, EnvKind, Scope};

use crate::Bench;
use crate::api::Api;
use crate::load::{Stats, closed_loop};
use crate::server::Server;
use crate::table::{fmt_stats, row};

/// What one creation needs: the caller as the server would see it, and the request's ids.
#[derive(Debug, Clone)]
pub struct Target {
    /// The source organization's sandbox.
    pub scope: Scope,
    pub connection: ConnectionId,
    /// Completed inquiries of the source, used in turn (as the HTTP phase does).
    pub sources: Arc<Vec<SourceId>>,
    /// The source's API key, recorded as the creator.
    pub creator: Actor,
}

/// A fresh database for the ceiling: its URL for the server that sets it up and, on
/// PostgreSQL, the URL and schema the store opens (a schema of its own in the benchmark's
/// database, dropped afterwards).
pub struct CeilingDb {
    pub server_url: String,
    pub store_url: String,
    pub pg_schema: Option<String>,
}

impl CeilingDb {
    pub fn sqlite(dir: &Path) -> Self {
        let url = format!("sqlite://{}", dir.join("ceiling.db").display());
        Self {
            server_url: url.clone(),
            store_url: url,
            pg_schema: None,
        }
    }

    pub fn postgres(url: &str) -> anyhow::Result<Self> {
        let schema = format!(
            "bench_ceiling_{}",
            tessera_core::id::random_base62(12).to_lowercase()
        );
        crate::psql::psql_ok(url, &format!("create schema {schema}"))?;
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(Self {
            server_url: format!("{url}{sep}options=-csearch_path%3D{schema}"),
            store_url: url.to_owned(),
            pg_schema: Some(schema),
        })
    }

    /// Drops the PostgreSQL schema (so the database size the benchmark reports is the server's).
    pub fn drop_schema(&self) {
        if let Some(schema) = &self.pg_schema {
            let _ = crate::psql::psql_ok(&self.store_url, &format!("drop schema {schema} cascade"));
        }
    }
}

/// Sets up the HTTP creation phase's data on `db` with a `tessera serve --no-worker` of its own:
/// two organizations, an accepted connection, `inquiries` completed inquiries. One token is
/// created over HTTP to learn the source's environment and key ids.
pub async fn set_up(binary: &Path, db: &CeilingDb, inquiries: usize) -> anyhow::Result<Target> {
    let mut server = Server::start(binary, &db.server_url, &["serve", "--no-worker"]).await?;
    let api = Api::new(&server.base);
    let a = api.org("Source").await?;
    let b = api.org("Destination").await?;
    let connection = api.connection(&a, &b).await?;
    let mut ids = Vec::with_capacity(inquiries);
    for _ in 0..inquiries {
        ids.push(api.completed_inquiry(&a).await?);
    }
    let inquiry = ids.first().context("no inquiries")?;
    let r = api
        .http
        .post(format!("{}/api/v1/connect/share-tokens", api.base))
        .bearer_auth(&a.key)
        .json(&serde_json::json!({"data": {"attributes": {"connection-id": connection, "source-id": inquiry}}}))
        .send()
        .await?;
    let env = r
        .headers()
        .get("persona-environment-id")
        .and_then(|v| v.to_str().ok())
        .context("no Persona-Environment-Id on the share token response")?
        .to_owned();
    let doc: serde_json::Value = r.json().await?;
    let creator = doc["data"]["relationships"]["creator"]["data"]["id"]
        .as_str()
        .context("no creator on the share token")?
        .to_owned();
    server.stop();
    Ok(Target {
        scope: Scope {
            org: OrganizationId::parse(&a.id).context("organization id")?,
            env: EnvironmentId::parse(&env).context("environment id")?,
            kind: EnvKind::Sandbox,
        },
        connection: ConnectionId::parse(&connection).context("connection id")?,
        sources: Arc::new(
            ids.iter()
                .map(|id| SourceId::parse(id).map_err(|e| anyhow::anyhow!("{id}: {}", e.detail)))
                .collect::<anyhow::Result<_>>()?,
        ),
        creator: Actor::ApiKey(ApiKeyId::parse(&creator).context("api key id")?),
    })
}

/// One share-token creation, `i`-th of a load loop: says whether it committed.
pub type Create = Arc<dyn Fn(u64) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// Opens the store on `db` (migrations applied, as the server opens it) and returns the
/// creation of one share token through the store's own unit of work — the one the server's
/// `POST /api/v1/connect/share-tokens` commits — for `target`.
///
/// The only function of this crate that calls tessera-store.
pub async fn share_token_creation(db: &CeilingDb, target: Target) -> anyhow::Result<Create> {
    use tessera_store::{Store, StoreOptions, units::share_tokens};
    let clock: tessera_core::SharedClock = Arc::new(tessera_core::SystemClock);
    let options = StoreOptions {
        pg_schema: db.pg_schema.clone(),
        ..StoreOptions::default()
    };
    let ring = tessera_core::keys::Keyring::parse(crate::server::MASTER_KEY)
        .map_err(anyhow::Error::msg)?;
    let keys = tessera_store::MasterKeys::new(ring);
    let store = Store::open(&db.store_url, clock, keys, options)
        .await
        .with_context(|| format!("opening {}", db.store_url))?;
    let reported = Arc::new(AtomicBool::new(false));
    Ok(Arc::new(move |i: u64| {
        let (store, t, reported) = (store.clone(), target.clone(), reported.clone());
        Box::pin(async move {
            let source = t.sources[i as usize % t.sources.len()].clone();
            let created = store
                .write(share_tokens::create(
                    t.scope,
                    TokenSpec {
                        connection_id: t.connection,
                        source_id: source,
                        expires_in_seconds: DEFAULT_EXPIRES_IN,
                        disclosure: Default::default(),
                    },
                    t.creator,
                ))
                .await;
            match created {
                Ok(_) => true,
                Err(e) => {
                    if !reported.swap(true, Ordering::Relaxed) {
                        eprintln!("store ceiling: a creation failed: {}", e.detail);
                    }
                    false
                }
            }
        })
    }))
}

impl Bench {
    /// The store ceiling: the share-token unit of work from 32 tasks back to back in this
    /// process, on a fresh database with the same data, no HTTP; HTTP's peak (32 clients) is
    /// reported as a fraction of it.
    pub async fn ceiling(&mut self, http_peak: &Stats) {
        let sqlite = self.args.postgres.is_none();
        let measured = self.store_ceiling().await;
        let (what, ratio_what) = (
            "store ceiling: creation in process (32 tasks)",
            "share-token creation: HTTP peak / store ceiling",
        );
        let ceiling = match measured {
            Ok(s) => s,
            Err(e) => {
                eprintln!("store ceiling: {e:#}");
                self.rows.push(row(
                    ratio_what,
                    format!("not measured: {e:#}"),
                    if sqlite { "≥ 0.8×" } else { "(reported)" },
                    sqlite.then_some(false),
                ));
                return;
            }
        };
        eprintln!(
            "store ceiling, 32 tasks back to back: {} (errors {})",
            fmt_stats(&ceiling),
            ceiling.errors
        );
        let errors = if ceiling.errors > 0 {
            format!("; {} errors", ceiling.errors)
        } else {
            String::new()
        };
        self.rows.push(row(
            what,
            format!(
                "{}{errors} (the server's unit of work through tessera-store, fresh database, no HTTP)",
                fmt_stats(&ceiling)
            ),
            "(the limit)",
            None,
        ));
        let ratio = http_peak.throughput() / ceiling.throughput();
        self.rows.push(row(
            ratio_what,
            format!(
                "{ratio:.2}× ({:.0}/s over HTTP, 32 clients ÷ {:.0}/s)",
                http_peak.throughput(),
                ceiling.throughput()
            ),
            if sqlite {
                "≥ 0.8×"
            } else {
                "(reported; the 0.8× target is SQLite's)"
            },
            sqlite.then_some(ratio >= 0.8 && ceiling.errors == 0),
        ));
    }

    async fn store_ceiling(&self) -> anyhow::Result<Stats> {
        eprintln!("store ceiling: setting up a fresh database");
        let db = match &self.args.postgres {
            None => CeilingDb::sqlite(&self.dir),
            Some(url) => CeilingDb::postgres(url)?,
        };
        let measured = async {
            let target = set_up(&self.binary, &db, self.inquiries.len()).await?;
            let create = share_token_creation(&db, target).await?;
            anyhow::Ok(closed_loop(32, self.phase, move |i| create(i)).await)
        }
        .await;
        db.drop_schema();
        measured
    }
}
