//! The limits the results are compared with, measured in the same run: the disk's serial fsync
//! rate, and PostgreSQL's own speed at the equivalent SQL (pgbench).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Serial durable writes per second in `dir`: write 4 KiB, `fdatasync`, repeat.
pub fn serial_fsync_rate(dir: &Path, duration: Duration) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)?;
    let block = vec![7u8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        f.write_all(&block)?;
        f.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

/// pgbench running the SQL a share-token creation runs, at `clients` connections, for `secs`.
/// Returns transactions per second.
pub fn pgbench_share_token(url: &str, ids: &Ids, clients: usize, secs: u64) -> anyhow::Result<f64> {
    let script = format!(
        r#"\set n random(1, 1000000000)
\set m random(1, 1000000000)
select k.id from api_keys k join environments e on e.id = k.environment_id where k.secret_hash = '{hash}';
begin;
select id, status from connections where id = '{cxn}' and (source_env = '{env}' or destination_env = '{env}');
select id, status, fields from inquiries where id = '{inq}' and environment_id = '{env}' for update;
insert into share_tokens (id, connection_id, env_kind, source_org, source_env, destination_org, destination_env, source_inquiry_id, status, creator_type, creator_id, created_at, updated_at, expires_at)
  values ('cnst_pgbench' || :n || '_' || :client_id || '_' || :m, '{cxn}', 'sandbox', '{org}', '{env}', '{dorg}', '{denv}', '{inq}', 'created', 'api-key', 'api_x', 0, 0, 9000000000000);
insert into events (id, environment_id, name, object_type, object_id, payload, created_at) values ('evt_pgbench_o' || :n || '_' || :client_id || '_' || :m, '{env}', 'connect/share-token.outbound-created', 'connect/share-token', 'x', '{{"data":{{}}}}', 0);
select id, enabled_events from webhooks where environment_id = '{env}' and status = 'enabled';
select id from workflows where environment_id = '{env}' and status = 'active' and trigger_event = 'connect/share-token.outbound-created' order by seq;
insert into events (id, environment_id, name, object_type, object_id, payload, created_at) values ('evt_pgbench_i' || :n || '_' || :client_id || '_' || :m, '{denv}', 'connect/share-token.inbound-created', 'connect/share-token', 'x', '{{"data":{{}}}}', 0);
select id, enabled_events from webhooks where environment_id = '{denv}' and status = 'enabled';
select id from workflows where environment_id = '{denv}' and status = 'active' and trigger_event = 'connect/share-token.inbound-created' order by seq;
commit;
"#,
        hash = ids.key_hash,
        cxn = ids.connection,
        env = ids.source_env,
        denv = ids.destination_env,
        org = ids.source_org,
        dorg = ids.destination_org,
        inq = ids.inquiry,
    );
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), script)?;
    let pgbench = ["/usr/lib/postgresql/15/bin/pgbench", "pgbench"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .context("pgbench not found (Debian's postgresql package has it)")?;
    let out = Command::new(pgbench)
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            "-f",
        ])
        .arg(file.path())
        .arg(url)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .context("no tps in pgbench's output")
}

/// Ids of the objects the equivalent SQL touches.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    pub key_hash: String,
    pub connection: String,
    pub inquiry: String,
    pub source_org: String,
    pub source_env: String,
    pub destination_org: String,
    pub destination_env: String,
}
