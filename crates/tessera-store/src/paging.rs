//! Cursor pagination, newest first. A cursor is the id of an object of the same list; pages are
//! cut on the table's insertion-ordered `seq`.

use tessera_core::{Error, codes};

use crate::tx::{Arg, Row, Tx};

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Objects older than this id.
    After(String),
    /// Objects newer than this id.
    Before(String),
}

/// A requested page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub size: u32,
    pub cursor: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            size: 10,
            cursor: None,
        }
    }
}

/// A page of results, newest first, and whether there are more on either side.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_prev: bool,
    pub has_next: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_prev: self.has_prev,
            has_next: self.has_next,
        }
    }

    pub fn try_map<U>(self, f: impl FnMut(T) -> Result<U, Error>) -> Result<Page<U>, Error> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            has_prev: self.has_prev,
            has_next: self.has_next,
        })
    }
}

/// A `where` clause over numbered arguments (`$1`…), without the `where` keyword.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    clause: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a condition; `?` in it is replaced by the argument's placeholder.
    pub fn and(mut self, condition: &str, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        let placeholder = format!("${}", self.args.len());
        self.clause.push(condition.replace('?', &placeholder));
        self
    }

    /// Adds a condition with no argument (only ever built from constants).
    pub fn and_raw(mut self, condition: &str) -> Self {
        self.clause.push(condition.to_owned());
        self
    }

    /// Adds a condition only when the value is present.
    pub fn and_opt<A: Into<Arg>>(self, condition: &str, arg: Option<A>) -> Self {
        match arg {
            Some(a) => self.and(condition, a),
            None => self,
        }
    }

    /// Adds `column in (…)` over several values (nothing when `values` is empty).
    pub fn and_in<A: Into<Arg>>(mut self, column: &str, values: Vec<A>) -> Self {
        if values.is_empty() {
            return self;
        }
        let mut placeholders = Vec::with_capacity(values.len());
        for v in values {
            self.args.push(v.into());
            placeholders.push(format!("${}", self.args.len()));
        }
        self.clause
            .push(format!("{column} in ({})", placeholders.join(", ")));
        self
    }

    /// The arguments, in placeholder order.
    pub fn args(&self) -> Vec<Arg> {
        self.args.clone()
    }

    /// The clause (`1 = 1` when empty).
    pub fn sql(&self) -> String {
        if self.clause.is_empty() {
            String::from("1 = 1")
        } else {
            self.clause.join(" and ")
        }
    }
}

fn bad_cursor(name: &str) -> Error {
    Error::bad_request(
        codes::INVALID_QUERY_PARAMETER,
        format!("{name} does not name an object of this list"),
    )
    .at_parameter(name)
}

/// Fetches one page of `columns` from `table` under `filter`.
pub(crate) async fn fetch_page(
    tx: &mut Tx,
    table: &str,
    columns: &str,
    filter: Filter,
    req: &PageRequest,
) -> Result<Page<Row>, Error> {
    let where_sql = filter.sql();
    let limit = i64::from(req.size) + 1;
    let mut args = filter.args.clone();
    let cursor_seq = match &req.cursor {
        None => None,
        Some(c) => {
            let (id, name) = match c {
                Cursor::After(id) => (id, "page[after]"),
                Cursor::Before(id) => (id, "page[before]"),
            };
            let mut a = filter.args.clone();
            a.push(Arg::Text(id.clone()));
            let row = tx
                .fetch_optional(
                    &format!(
                        "select seq from {table} where {where_sql} and id = ${}",
                        a.len()
                    ),
                    a,
                )
                .await?
                .ok_or_else(|| bad_cursor(name))?;
            Some(row.i64("seq")?)
        }
    };
    match (&req.cursor, cursor_seq) {
        (Some(Cursor::Before(_)), Some(seq)) => {
            args.push(Arg::Int(seq));
            args.push(Arg::Int(limit));
            let sql = format!(
                "select {columns} from {table} where {where_sql} and seq > ${} order by seq asc limit ${}",
                args.len() - 1,
                args.len()
            );
            let mut rows = tx.fetch_all(&sql, args).await?;
            let has_prev = rows.len() as i64 == limit;
            rows.truncate(req.size as usize);
            rows.reverse();
            Ok(Page {
                items: rows,
                has_prev,
                has_next: true,
            })
        }
        (cursor, seq) => {
            let mut sql = format!("select {columns} from {table} where {where_sql}");
            if let Some(seq) = seq {
                args.push(Arg::Int(seq));
                sql.push_str(&format!(" and seq < ${}", args.len()));
            }
            args.push(Arg::Int(limit));
            sql.push_str(&format!(" order by seq desc limit ${}", args.len()));
            let mut rows = tx.fetch_all(&sql, args).await?;
            let has_next = rows.len() as i64 == limit;
            rows.truncate(req.size as usize);
            Ok(Page {
                items: rows,
                has_prev: cursor.is_some(),
                has_next,
            })
        }
    }
}
