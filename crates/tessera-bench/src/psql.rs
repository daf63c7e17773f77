//! psql, run as a command (PostgreSQL runs only).

use anyhow::Context;

/// Runs `sql` with psql and fails if psql does.
pub fn psql_ok(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
        .output()
        .context("psql")?;
    if !out.status.success() {
        anyhow::bail!(
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

pub fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new("psql")
        .args([url, "-tAc", sql])
        .output()
        .context("psql")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
