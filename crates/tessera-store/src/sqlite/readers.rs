//! Reader connections: read-only, reused, and used on the caller's own task (WAL lets them read
//! while the writer thread writes).

use std::sync::{Arc, Mutex};

use tessera_core::Error;

use super::connection::{self, db_err};

/// Idle reader connections kept open.
const IDLE_READERS: usize = 8;

/// Reader connections, reused.
pub(super) struct ReadPool {
    path: String,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl ReadPool {
    pub(super) fn new(path: &str) -> Arc<Self> {
        Arc::new(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// An idle connection, or a new one.
    pub(super) fn lease(self: &Arc<Self>) -> Result<ReadConn, Error> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(c) => c,
            None => connection::open(&self.path, true).map_err(db_err)?,
        };
        Ok(ReadConn {
            conn: Some(conn),
            pool: self.clone(),
        })
    }

    /// Closes the idle connections.
    pub(super) fn clear(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}

/// A reader connection; goes back to the pool when dropped.
pub(crate) struct ReadConn {
    conn: Option<rusqlite::Connection>,
    pool: Arc<ReadPool>,
}

impl ReadConn {
    pub(crate) fn get(&self) -> Option<&rusqlite::Connection> {
        self.conn.as_ref()
    }

    pub(crate) fn get_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        self.conn.as_mut()
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.pool.idle.lock())
            && idle.len() < IDLE_READERS
        {
            idle.push(conn);
        }
    }
}
