//! Query parameters of the JSON:API conventions: `page[size|after|before]`, `filter[name]`,
//! `fields[type]` and `include`. Unknown parameters are refused, so a typo never silently
//! widens a list.

use std::collections::HashMap;

use tessera_core::inflect::to_kebab;
use tessera_core::{Error, codes};
use tessera_store::{Cursor, PageRequest};

/// Largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// What a query string asked for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub page: PageRequest,
    /// `filter[name]` → value (names in kebab-case).
    pub filters: HashMap<String, String>,
    /// `fields[type]` → attribute names (kebab-case).
    pub fields: HashMap<String, Vec<String>>,
    pub include: Vec<String>,
    /// Whether `include` was given at all (even empty): the response then carries `included`,
    /// an empty array when nothing is included (Persona's `empty-included-objects`).
    pub include_given: bool,
    /// Other allowed parameters (e.g. `peek-source-data`).
    pub extra: HashMap<String, String>,
    /// Every parameter but `page[…]`, in the order given, to rebuild pagination links.
    pub link_pairs: Vec<(String, String)>,
}

/// What an endpoint accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accepts<'a> {
    pub list: bool,
    pub filters: &'a [&'a str],
    /// Relationship names `include` may name; [`ANY_INCLUDE`] accepts every name.
    pub includes: &'a [&'a str],
    pub extra: &'a [&'a str],
}

/// In [`Accepts::includes`]: any relationship name.
pub const ANY_INCLUDE: &str = "*";

impl Accepts<'static> {
    /// What every write (POST, PATCH, DELETE) accepts before its handler says more: Persona lets
    /// writes take `include` and `fields[TYPE]`, and nothing else.
    pub const WRITE: Accepts<'static> = Accepts {
        list: false,
        filters: &[],
        includes: &[ANY_INCLUDE],
        extra: &[],
    };
}

fn bad(name: &str, detail: impl Into<String>) -> Error {
    Error::bad_request(codes::INVALID_QUERY_PARAMETER, detail).at_parameter(name)
}

/// `page[size]`: Persona types it as a number, so `10` and `10.0` both mean ten.
fn page_size(value: &str) -> Option<u32> {
    value.parse::<u32>().ok().or_else(|| {
        let (whole, fraction) = value.split_once('.')?;
        (!fraction.is_empty() && fraction.bytes().all(|b| b == b'0'))
            .then(|| whole.parse::<u32>().ok())
            .flatten()
    })
}

fn bracket<'a>(key: &'a str, family: &str) -> Option<&'a str> {
    key.strip_prefix(family)?
        .strip_prefix('[')?
        .strip_suffix(']')
}

impl Query {
    /// Parses a raw query string against what the endpoint accepts.
    pub fn parse(raw: Option<&str>, accepts: Accepts<'_>) -> Result<Self, Error> {
        let pairs: Vec<(String, String)> = match raw {
            None | Some("") => Vec::new(),
            Some(raw) => serde_urlencoded::from_str(raw)
                .map_err(|_| bad("query", "the query string is malformed"))?,
        };
        let mut q = Query::default();
        let mut seen = std::collections::HashSet::new();
        for (key, value) in pairs {
            if key.contains('\0') || value.contains('\0') {
                return Err(bad(
                    &key,
                    "query parameters may not contain the NUL character",
                ));
            }
            if !seen.insert(key.clone()) {
                return Err(bad(&key, format!("{key} is given more than once")));
            }
            if let Some(p) = bracket(&key, "page") {
                if !accepts.list {
                    return Err(bad(
                        &key,
                        "this endpoint returns one object and takes no page parameters",
                    ));
                }
                match p {
                    "size" => {
                        q.page.size = page_size(&value)
                            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                            .ok_or_else(|| {
                                bad(&key, format!("page[size] is between 1 and {MAX_PAGE_SIZE}"))
                            })?;
                    }
                    "after" | "before" => {
                        if value.is_empty() || value.len() > 100 {
                            return Err(bad(&key, format!("{key} must be an id from this list")));
                        }
                        if q.page.cursor.is_some() {
                            return Err(bad(
                                &key,
                                "page[after] and page[before] cannot be combined",
                            ));
                        }
                        q.page.cursor = Some(if p == "after" {
                            Cursor::After(value)
                        } else {
                            Cursor::Before(value)
                        });
                    }
                    _ => return Err(bad(&key, format!("unknown parameter {key}"))),
                }
            } else if let Some(f) = bracket(&key, "filter") {
                let name = to_kebab(f);
                if !accepts.filters.contains(&name.as_str()) {
                    return Err(bad(
                        &key,
                        format!(
                            "unknown filter {key}; filters here: {}",
                            accepts.filters.join(", ")
                        ),
                    ));
                }
                if value.len() > 1000 {
                    return Err(bad(&key, "the filter value is too long"));
                }
                q.link_pairs.push((key.clone(), value.clone()));
                q.filters.insert(name, value);
            } else if let Some(t) = bracket(&key, "fields") {
                q.link_pairs.push((key.clone(), value.clone()));
                let names = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(to_kebab)
                    .collect();
                q.fields.insert(t.to_owned(), names);
            } else if key == "include" {
                q.include_given = true;
                for inc in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let inc = to_kebab(inc);
                    if !accepts.includes.contains(&inc.as_str())
                        && !accepts.includes.contains(&ANY_INCLUDE)
                    {
                        return Err(bad(&key, format!("cannot include {inc} here")));
                    }
                    q.include.push(inc);
                }
            } else if accepts.extra.contains(&key.as_str()) {
                q.link_pairs.push((key.clone(), value.clone()));
                q.extra.insert(key, value);
            } else {
                return Err(bad(&key, format!("unknown parameter {key}")));
            }
        }
        Ok(q)
    }

    /// A filter's values, split on commas.
    pub fn filter_list(&self, name: &str) -> Vec<String> {
        self.filters
            .get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A filter's values, each parsed by `parse`; a value it does not know is a 400 naming the
    /// filter (`unknown {what} {value}`).
    pub fn filter_values<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        self.filter_list(name)
            .iter()
            .map(|v| {
                parse(v)
                    .ok_or_else(|| bad(&format!("filter[{name}]"), format!("unknown {what} {v}")))
            })
            .collect()
    }

    /// A boolean extra parameter (`true`/`false`).
    pub fn flag(&self, name: &str) -> Result<bool, Error> {
        match self.extra.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(bad(name, format!("{name} is true or false"))),
        }
    }

    /// The pagination links for a page of `ids` (newest first) at `path`.
    pub fn links(
        &self,
        path: &str,
        first: Option<&str>,
        last: Option<&str>,
        has_prev: bool,
        has_next: bool,
    ) -> tessera_core::jsonapi::Links {
        let make = |cursor: (&str, &str)| {
            let mut pairs: Vec<(String, String)> = self.link_pairs.clone();
            pairs.push(("page[size]".into(), self.page.size.to_string()));
            pairs.push((cursor.0.into(), cursor.1.into()));
            let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            format!("{path}?{qs}")
        };
        tessera_core::jsonapi::Links {
            prev: first
                .filter(|_| has_prev)
                .map(|id| make(("page[before]", id))),
            next: last
                .filter(|_| has_next)
                .map(|id| make(("page[after]", id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: Accepts<'static> = Accepts {
        list: true,
        filters: &["status", "reference-id"],
        includes: &[],
        extra: &[],
    };

    #[test]
    fn parses_the_conventions() {
        let q = Query::parse(Some("page%5Bsize%5D=5&page[after]=inq_x&filter[referenceId]=r1&fields[inquiry]=status,referenceId"), LIST)
            .unwrap_or_default();
        assert_eq!(q.page.size, 5);
        assert_eq!(q.page.cursor, Some(Cursor::After("inq_x".into())));
        assert_eq!(
            q.filters.get("reference-id").map(String::as_str),
            Some("r1")
        );
        assert_eq!(q.fields["inquiry"], vec!["status", "reference-id"]);
        assert!(!q.include_given);
        let q = Query::parse(Some("filter[status]=created,%20x"), LIST).unwrap_or_default();
        let known = |v: &str| (v == "created").then_some(1);
        let e = q.filter_values("status", "status", known).err();
        assert_eq!(
            e.map(|e| (e.detail, e.location)),
            Some((
                "unknown status x".to_owned(),
                Some(tessera_core::error::Source::Parameter(
                    "filter[status]".into()
                ))
            ))
        );
        let q = Query::parse(Some("page[size]=7.00"), LIST).unwrap_or_default();
        assert_eq!(q.page.size, 7);
    }

    #[test]
    fn writes_take_include_and_fields_only() {
        let q = Query::parse(Some("include=&fields[inquiry]=status"), Accepts::WRITE)
            .unwrap_or_default();
        assert!(q.include_given && q.include.is_empty());
        let q = Query::parse(Some("include=destination,connection"), Accepts::WRITE)
            .unwrap_or_default();
        assert_eq!(q.include, vec!["destination", "connection"]);
        for bad in ["filter[status]=x", "page[size]=1", "peek-source-data=true"] {
            assert!(Query::parse(Some(bad), Accepts::WRITE).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_what_is_not_accepted() {
        for bad in [
            "page[size]=0",
            "page[size]=101",
            "page[size]=x",
            "page[size]=1.5",
            "page[size]=.0",
            "filter[nope]=1",
            "nope=1",
            "page[after]=a&page[before]=b",
            "include=x",
            "page[size]=1&page[size]=2",
        ] {
            assert!(Query::parse(Some(bad), LIST).is_err(), "{bad}");
        }
        let one = Accepts {
            list: false,
            ..LIST
        };
        assert!(Query::parse(Some("page[size]=2"), one).is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Query strings as clients (and attackers) write them: known and unknown parameters,
        /// percent-encoded or not, repeated, with odd values.
        fn query_string() -> impl Strategy<Value = String> {
            let key = prop_oneof![
                Just("page[size]".to_owned()),
                Just("page[after]".to_owned()),
                Just("page[before]".to_owned()),
                Just("page%5Bsize%5D".to_owned()),
                Just("filter[status]".to_owned()),
                Just("filter[referenceId]".to_owned()),
                Just("filter[reference_id]".to_owned()),
                Just("fields[inquiry]".to_owned()),
                Just("include".to_owned()),
                "[a-z\\[\\]%]{0,12}",
                ".{0,12}",
            ];
            let value = prop_oneof![
                (0u64..200).prop_map(|n| n.to_string()),
                "-?[0-9]{1,25}",
                "[a-zA-Z0-9_,]{0,20}",
                ".{0,30}",
                "%[0-9A-Fa-f]{0,2}.{0,4}",
            ];
            proptest::collection::vec((key, value, any::<bool>()), 0..6).prop_map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(k, v, has_value)| if has_value { format!("{k}={v}") } else { k })
                    .collect::<Vec<_>>()
                    .join("&")
            })
        }

        proptest! {
            /// Any query string parses or is refused with a 400 that names a parameter; never a
            /// panic, and whatever is accepted is within the documented bounds.
            #[test]
            fn any_query_string_parses_or_is_a_400(raw in query_string()) {
                match Query::parse(Some(&raw), LIST) {
                    Ok(q) => {
                        prop_assert!((1..=MAX_PAGE_SIZE).contains(&q.page.size));
                        if let Some(Cursor::After(c) | Cursor::Before(c)) = &q.page.cursor {
                            prop_assert!(!c.is_empty() && c.len() <= 100);
                        }
                        for name in q.filters.keys() {
                            prop_assert!(LIST.filters.contains(&name.as_str()));
                        }
                    }
                    Err(e) => {
                        prop_assert_eq!(e.status.code(), 400);
                        prop_assert_eq!(e.code, codes::INVALID_QUERY_PARAMETER);
                        let named = matches!(e.location, Some(tessera_core::error::Source::Parameter(_)));
                        prop_assert!(named);
                    }
                }
            }

            /// Arbitrary bytes, too (the raw query of a request is not necessarily UTF-8 text
            /// that makes sense).
            #[test]
            fn any_text_is_total(raw in ".{0,60}") {
                let _ = Query::parse(Some(&raw), LIST);
            }

            /// The pagination links round-trip: the `next` link's query, parsed again, asks for
            /// the same filters, sparse fields and page size, after the last id of the page (and
            /// `prev` before the first).
            #[test]
            fn pagination_links_round_trip(
                size in 1u32..=MAX_PAGE_SIZE,
                status in proptest::option::of("[a-z,]{1,20}"),
                reference in proptest::option::of("[^\\x00]{1,30}"),
                fields in proptest::option::of("[a-z-]{1,10}(,[a-z-]{1,10}){0,3}"),
                first in "[a-z]{3}_[A-Za-z0-9]{1,24}",
                last in "[a-z]{3}_[A-Za-z0-9]{1,24}",
            ) {
                let mut pairs = vec![("page[size]".to_owned(), size.to_string())];
                if let Some(s) = &status { pairs.push(("filter[status]".into(), s.clone())); }
                if let Some(r) = &reference { pairs.push(("filter[reference-id]".into(), r.clone())); }
                if let Some(f) = &fields { pairs.push(("fields[inquiry]".into(), f.clone())); }
                let raw = serde_urlencoded::to_string(&pairs).unwrap_or_default();
                let q = Query::parse(Some(&raw), LIST);
                prop_assert!(q.is_ok(), "{raw}");
                let q = q.unwrap_or_default();
                let links = q.links("/api/v1/inquiries", Some(&first), Some(&last), true, true);
                for (link, cursor) in [
                    (links.next, Cursor::After(last.clone())),
                    (links.prev, Cursor::Before(first.clone())),
                ] {
                    let link = link.unwrap_or_default();
                    let query = link.strip_prefix("/api/v1/inquiries?");
                    prop_assert!(query.is_some(), "{link}");
                    let again = Query::parse(query, LIST);
                    prop_assert!(again.is_ok(), "{link}");
                    let again = again.unwrap_or_default();
                    prop_assert_eq!(again.page.size, size);
                    prop_assert_eq!(again.page.cursor, Some(cursor));
                    prop_assert_eq!(&again.filters, &q.filters);
                    prop_assert_eq!(&again.fields, &q.fields);
                }
            }
        }
    }
}
