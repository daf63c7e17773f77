//! A SQLite connection with the project's settings, and SQLite's errors mapped as the PostgreSQL
//! driver maps its own.

use std::time::Duration;

use rusqlite::OpenFlags;
use tessera_core::Error;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// Opens a connection with the project's settings.
pub(super) fn open(path: &str, read_only: bool) -> rusqlite::Result<rusqlite::Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Maps SQLite errors like the PostgreSQL driver does: a unique violation is a 409 (another unit
/// made a conflicting change first), anything else is internal.
pub(crate) fn db_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    {
        return Error::conflict(
            tessera_core::codes::CONFLICT,
            "a conflicting change was made at the same time; retry",
        );
    }
    Error::internal(e)
}

/// Runs statements without arguments (transaction control).
pub(super) fn exec_plain(conn: &rusqlite::Connection, sql: &str) -> Result<(), Error> {
    conn.execute_batch(sql).map_err(db_err)
}
