//! How a store is opened.

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Apply pending migrations when opening.
    pub migrate: bool,
    /// PostgreSQL only: the schema to use (tests isolate themselves in one each).
    pub pg_schema: Option<String>,
    /// Most connections to PostgreSQL, or SQLite readers.
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            migrate: true,
            pg_schema: None,
            max_connections: 16,
        }
    }
}
