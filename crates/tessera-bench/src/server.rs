//! The server under test: the real `tessera` binary in its own process, and what it costs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running `tessera` process.
pub struct Server {
    child: Child,
    pub base: String,
}

pub const ADMIN: &str = "bench-admin-token";
/// The master key of the benchmark's servers (and of the ceiling's own store, which opens the
/// database they made): a fixed key, as the admin token is.
pub const MASTER_KEY: &str = "YmVuY2gtbWFzdGVyLWtleS1vZi0zMi1ieXRlcyEhISE";

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    /// Starts `tessera <args…>` on a free port against `database_url` and waits until ready.
    pub async fn start(binary: &Path, database_url: &str, args: &[&str]) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut cmd = Command::new(binary);
        cmd.args(args)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("TESSERA_DATABASE_URL", database_url)
            .env("TESSERA_ADMIN_TOKEN", ADMIN)
            .env("TESSERA_MASTER_KEY", MASTER_KEY)
            .env("TESSERA_RATE_LIMIT_PER_MINUTE", "0")
            .env("TESSERA_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
            // The federation phase's two instances pin each other on loopback.
            .env("TESSERA_PEER_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env(
                "TESSERA_PUBLIC_BASE_URL",
                format!("http://127.0.0.1:{port}"),
            )
            .env("TESSERA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server did not become ready");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory so far, in MiB (`VmHWM`).
    pub fn peak_rss_mib(&self) -> f64 {
        peak_rss_mib(self.pid())
    }
}

impl Server {
    /// Kills the process (SIGKILL) and reaps it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Peak resident memory of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The default binary: `target/release/tessera` next to this one.
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("tessera")))
        .unwrap_or_else(|| PathBuf::from("target/release/tessera"))
}

/// Total size of the SQLite database files (db, wal) at `path`.
pub fn sqlite_size(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}
