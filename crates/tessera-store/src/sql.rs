//! What a unit of work binds, whatever the driver: [`Arg`] values, [`Sql`] under construction,
//! the [`Dialect`] it runs on. Driver-neutral: nothing here knows SQLite or PostgreSQL, and both
//! drivers (and [`crate::tx`]) build on it.

use serde::Serialize;
use tessera_core::Timestamp;

/// The SQL dialect a unit of work runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound value. NULLs carry their type, which PostgreSQL needs.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    NullInt,
    NullText,
    NullBlob,
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl From<u32> for Arg {
    fn from(v: u32) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Float(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Blob(v)
    }
}
impl From<Timestamp> for Arg {
    fn from(v: Timestamp) -> Self {
        Arg::Int(v.millis())
    }
}
impl From<Option<Timestamp>> for Arg {
    fn from(v: Option<Timestamp>) -> Self {
        v.map_or(Arg::NullInt, Arg::from)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NullInt, Arg::Int)
    }
}
impl From<Option<u32>> for Arg {
    fn from(v: Option<u32>) -> Self {
        v.map_or(Arg::NullInt, Arg::from)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::NullText, Arg::Text)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Arg::NullText, Arg::from)
    }
}
impl From<Option<&String>> for Arg {
    fn from(v: Option<&String>) -> Self {
        v.map_or(Arg::NullText, Arg::from)
    }
}

macro_rules! id_args {
    ($($t:ident),*) => {$(
        impl From<&tessera_core::id::$t> for Arg {
            fn from(v: &tessera_core::id::$t) -> Self { Arg::Text(v.as_str().to_owned()) }
        }
        impl From<tessera_core::id::$t> for Arg {
            fn from(v: tessera_core::id::$t) -> Self { Arg::Text(v.into_string()) }
        }
        impl From<Option<&tessera_core::id::$t>> for Arg {
            fn from(v: Option<&tessera_core::id::$t>) -> Self { v.map_or(Arg::NullText, Arg::from) }
        }
        impl From<Option<tessera_core::id::$t>> for Arg {
            fn from(v: Option<tessera_core::id::$t>) -> Self { v.map_or(Arg::NullText, Arg::from) }
        }
    )*};
}
id_args!(
    OrganizationId,
    EnvironmentId,
    ApiKeyId,
    UserId,
    InquiryId,
    VerificationId,
    DocumentId,
    FileId,
    TemplateId,
    ConnectionId,
    ShareTokenId,
    EventId,
    WebhookId,
    DeliveryId,
    WorkflowId,
    WorkflowRunId,
    JobId,
    SessionId,
    ShareTokenBatchId,
    ShareTokenBatchItemId,
    PeerId,
    MessageId
);

/// Serializes a value to JSON text for a TEXT column.
pub fn json<T: Serialize + ?Sized>(v: &T) -> Arg {
    Arg::Text(serde_json::to_string(v).unwrap_or_else(|_| String::from("null")))
}

/// Builds a `Vec<Arg>` from values convertible to [`Arg`].
#[macro_export]
macro_rules! args {
    () => { ::std::vec::Vec::<$crate::Arg>::new() };
    ($($v:expr),+ $(,)?) => { vec![$($crate::Arg::from($v)),+] };
}

/// A SQL statement under construction: text plus numbered arguments.
#[derive(Debug, Default, Clone)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Adds an argument and returns its placeholder (`$n`).
    pub fn arg(&mut self, v: impl Into<Arg>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
}
