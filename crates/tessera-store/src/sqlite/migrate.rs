//! The SQLite schema: the embedded migrations, applied by sqlx's migrator on a connection of its
//! own (the writer and readers are rusqlite connections).

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

fn options(path: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

/// Applies the embedded migrations.
pub(super) async fn run(path: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::SqliteConnection::connect_with(&options(path)?).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Creates the database file (and WAL mode) when it is new, without migrating it.
pub(super) async fn create(path: &str) -> anyhow::Result<()> {
    drop(sqlx::SqliteConnection::connect_with(&options(path)?).await?);
    Ok(())
}
