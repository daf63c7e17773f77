//! The layering of `src/ops` (see `src/ops/mod.rs`), checked on the source: the modules form a
//! DAG, and only `fanout` records events (every other op emits through it, so an event always
//! gets its deliveries and runs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The ops modules (file stems; `mod.rs` is `ops`) and their source without comments.
fn ops_sources() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let name = if stem == "mod" {
            "ops".to_owned()
        } else {
            stem
        };
        let code: String = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| match l.find("//") {
                Some(i) => &l[..i],
                None => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.insert(name, code);
    }
    out
}

/// The identifiers that start each path of a `{…}` group (nested groups skipped).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut start) = (0, true);
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                start = true;
                heads.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        if depth == 0 && start {
            if c.is_alphanumeric() || c == '_' {
                current.push(c);
            } else if !current.is_empty() {
                start = false;
            }
        }
    }
    heads.push(current);
    heads.into_iter().filter(|h| !h.is_empty()).collect()
}

/// The ops modules a module's code names.
fn uses(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for prefix in ["crate::ops::", "super::"] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find("};").unwrap_or(group.len());
                out.extend(group_heads(&group[..end]));
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // A name that is no module is an item of `ops` itself (`lock`).
                out.insert(if modules.contains(&name) {
                    name
                } else {
                    "ops".into()
                });
            }
        }
    }
    out.retain(|m| modules.contains(m));
    out
}

#[test]
fn the_ops_modules_form_a_dag() {
    let sources = ops_sources();
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    assert!(modules.len() > 20, "read {modules:?}");
    let graph: BTreeMap<&str, BTreeSet<String>> = sources
        .iter()
        .map(|(m, code)| {
            let mut deps = uses(code, &modules);
            deps.remove(m);
            (m.as_str(), deps)
        })
        .collect();
    assert!(
        graph["fanout"].contains("events"),
        "the graph is read: {graph:?}"
    );
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = path.iter().position(|p| *p == m) {
            panic!("src/ops has a cycle: {} -> {m}", path[i..].join(" -> "));
        }
        path.push(m);
        for d in &graph[m] {
            visit(d, graph, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn only_fanout_records_events() {
    for (m, code) in ops_sources() {
        if m != "fanout" && m != "events" {
            assert!(
                !code.contains("events::record"),
                "ops::{m} records an event itself: emit through fanout::emit"
            );
        }
    }
}
