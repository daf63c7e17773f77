//! Running a unit's statements on a SQLite connection: [`Arg`]s bound to `$n` placeholders,
//! rows read out into [`SqliteRow`]s. Statements are prepared once per connection and cached.

use std::sync::Arc;

use rusqlite::ToSql;
use rusqlite::types::{Value, ValueRef};
use tessera_core::Error;

use super::connection::db_err;
use crate::sql::Arg;

/// A row, read out of SQLite.
pub struct SqliteRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl SqliteRow {
    pub(crate) fn value(&self, col: &str) -> Result<&Value, Error> {
        self.names
            .iter()
            .position(|n| n == col)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::internal(std::io::Error::other(format!("no column {col}"))))
    }
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for (i, a) in args.iter().enumerate() {
        let Some(index) = stmt.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        let v: &dyn ToSql = match a {
            Arg::Int(v) => v,
            Arg::Float(v) => v,
            Arg::Text(v) => v,
            Arg::Blob(v) => v,
            Arg::NullInt | Arg::NullText | Arg::NullBlob => &rusqlite::types::Null,
        };
        stmt.raw_bind_parameter(index, v)?;
    }
    Ok(())
}

/// Runs a statement; the number of rows it changed.
pub(crate) fn execute(conn: &rusqlite::Connection, sql: &str, args: &[Arg]) -> Result<u64, Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    bind(&mut stmt, args).map_err(db_err)?;
    let changed = if stmt.column_count() > 0 {
        // A query (or `… returning`) run for its effect: step through it.
        let read_only = stmt.readonly();
        let mut rows = stmt.raw_query();
        while rows.next().map_err(db_err)?.is_some() {}
        if read_only { 0 } else { conn.changes() }
    } else {
        stmt.raw_execute().map_err(db_err)? as u64
    };
    Ok(changed)
}

/// Runs a query; every row.
pub(crate) fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg],
) -> Result<Vec<SqliteRow>, Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    bind(&mut stmt, args).map_err(db_err)?;
    let names: Arc<[String]> = stmt
        .column_names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let width = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i).map_err(db_err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Integer(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(SqliteRow {
            names: names.clone(),
            values,
        });
    }
    Ok(out)
}
