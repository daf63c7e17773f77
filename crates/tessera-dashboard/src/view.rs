//! How values are shown: times (relative and absolute), status labels, list paging, and the
//! names of partner organizations.

use std::collections::HashMap;

use tessera_core::id::OrganizationId;
use tessera_core::{Error, Timestamp};
use tessera_store::units::tenancy;
use tessera_store::{Cursor, Page, PageRequest, Read, Store};

use crate::form::Fields;

/// Rows per list page.
pub const PAGE_SIZE: u32 = 20;

/// A moment, shown relative to now ("3 minutes ago") and absolute (UTC), or a dash when there
/// is none. Renders as HTML built only from numbers (`{{ x|safe }}` in templates).
#[derive(Debug, Clone, Default)]
pub struct When(Option<(Timestamp, String, String)>);

impl When {
    /// `2026-11-28 14:36:51 UTC`.
    pub fn abs(&self) -> &str {
        self.0.as_ref().map_or("", |(_, abs, _)| abs.as_str())
    }

    /// `3 minutes ago`, `in 14 days`.
    pub fn rel(&self) -> &str {
        self.0.as_ref().map_or("", |(_, _, rel)| rel.as_str())
    }
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some((t, abs, rel)) => write!(
                f,
                r#"<time datetime="{}" title="{abs}">{rel}</time> <small class="abs">{abs}</small>"#,
                t.to_rfc3339()
            ),
            None => f.write_str(r#"<span class="none">—</span>"#),
        }
    }
}

pub fn when(t: Timestamp, now: Timestamp) -> When {
    let abs = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(t.millis())
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    When(Some((t, abs, relative(t.millis() - now.millis()))))
}

pub fn when_opt(t: Option<Timestamp>, now: Timestamp) -> When {
    t.map_or_else(When::default, |t| when(t, now))
}

/// A status badge. Renders as HTML; statuses come from our own enums, never from users.
#[derive(Debug, Clone)]
pub struct Badge(pub String);

pub fn badge(status: &str) -> Badge {
    Badge(status.to_owned())
}

impl std::fmt::Display for Badge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let safe = self
            .0
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-');
        if !safe {
            return f.write_str(r#"<span class="badge">?</span>"#);
        }
        write!(
            f,
            r#"<span class="badge s-{}">{}</span>"#,
            self.0,
            label(&self.0)
        )
    }
}

/// "in 5 minutes" for a positive difference, "5 minutes ago" for a negative one.
pub fn relative(diff_ms: i64) -> String {
    let secs = diff_ms.abs() / 1000;
    if secs < 5 {
        return String::from("just now");
    }
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 86_400 * 60 => (s / 86_400, "day"),
        s if s < 86_400 * 730 => (s / (86_400 * 30), "month"),
        s => (s / (86_400 * 365), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if diff_ms > 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// A status as people read it: `needs_review` → `needs review`.
pub fn label(status: &str) -> String {
    status.replace('_', " ")
}

/// The page a list shows: `after`/`before` cursors from the query string.
pub fn page_request(q: &Fields) -> PageRequest {
    let cursor = match (q.get("after"), q.get("before")) {
        (Some(a), _) => Some(Cursor::After(a.to_owned())),
        (None, Some(b)) => Some(Cursor::Before(b.to_owned())),
        (None, None) => None,
    };
    PageRequest {
        size: PAGE_SIZE,
        cursor,
    }
}

/// Links to the previous and next pages of a list.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `filters` are the query parameters every page of the list keeps.
    pub fn new<T>(
        page: &Page<T>,
        base: &str,
        filters: &[(&str, &str)],
        id_of: impl Fn(&T) -> String,
    ) -> Self {
        let link = |cursor: &str, id: String| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in filters.iter().filter(|(_, v)| !v.is_empty()) {
                q.append_pair(k, v);
            }
            q.append_pair(cursor, &id);
            format!("{base}?{}", q.finish())
        };
        Self {
            prev: page
                .has_prev
                .then(|| page.items.first().map(|t| link("before", id_of(t))))
                .flatten(),
            next: page
                .has_next
                .then(|| page.items.last().map(|t| link("after", id_of(t))))
                .flatten(),
        }
    }
}

/// A choice of a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Choices from `(value, label)` pairs, with `current` selected.
pub fn choices(options: &[(&str, &str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            selected: *v == current,
        })
        .collect()
}

/// The names of organizations (a connection's other side, a copy's origin). The ids come from
/// objects the caller may see, so their names are the caller's to see.
pub async fn org_names(
    store: &Store,
    ids: impl IntoIterator<Item = OrganizationId>,
) -> Result<HashMap<OrganizationId, String>, Error> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        let name = match store.read(tenancy::get_organization(id.clone())).await {
            Ok(o) => o.name,
            Err(e) if e.is(tessera_core::codes::NOT_FOUND) => id.to_string(),
            Err(e) => return Err(e),
        };
        names.insert(id, name);
    }
    Ok(names)
}

/// Runs a list read on a page: `or_first_page(store, page, |p| units::x::list(…, p))`. A cursor
/// that names no object of the list (an old link) shows the first page instead of an error.
pub async fn or_first_page<T: Send + 'static>(
    store: &Store,
    page: PageRequest,
    list: impl Fn(PageRequest) -> Read<Page<T>>,
) -> Result<Page<T>, Error> {
    match store.read(list(page.clone())).await {
        Err(e) if e.is(tessera_core::codes::INVALID_QUERY_PARAMETER) => {
            store
                .read(list(PageRequest {
                    cursor: None,
                    ..page
                }))
                .await
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(0), "just now");
        assert_eq!(relative(-90_000), "1 minute ago");
        assert_eq!(relative(-7_200_000), "2 hours ago");
        assert_eq!(relative(14 * 86_400_000), "in 14 days");
    }

    #[test]
    fn absolute_times_are_utc() {
        let t = Timestamp::from_millis(1_795_358_211_907);
        assert_eq!(when(t, t).abs(), "2026-11-22 14:36:51 UTC");
        assert!(when(t, t).to_string().contains("just now"));
        assert_eq!(
            badge("needs_review").to_string(),
            r#"<span class="badge s-needs_review">needs review</span>"#
        );
        assert_eq!(badge("<b>").to_string(), r#"<span class="badge">?</span>"#);
    }
}
