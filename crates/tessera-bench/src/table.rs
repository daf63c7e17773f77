//! The table the benchmark prints: one row per measure (result, target, verdict), then the
//! offered-rate sweep of share-token creation.

use crate::Bench;
use crate::load::Stats;

pub struct Row {
    what: String,
    result: String,
    target: String,
    verdict: String,
}

pub fn row(what: &str, result: String, target: &str, met: Option<bool>) -> Row {
    Row {
        what: what.into(),
        result,
        target: target.into(),
        verdict: match met {
            Some(true) => "met".into(),
            Some(false) => "missed".into(),
            None => "—".into(),
        },
    }
}

pub fn fmt_stats(s: &Stats) -> String {
    format!(
        "{:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        s.throughput(),
        s.p50_ms,
        s.p99_ms
    )
}

impl Bench {
    pub fn print(&self, backend: &str) {
        println!("\n### {backend}\n");
        println!("| measure | result | target | |");
        println!("|---|---|---|---|");
        for r in &self.rows {
            println!(
                "| {} | {} | {} | {} |",
                r.what, r.result, r.target, r.verdict
            );
        }
        if self.sweep.is_empty() {
            return;
        }
        println!("\nOffered-rate sweep of share-token creation:\n");
        println!("| offered | achieved | p50 | p99 | max | errors | dropped | units per commit |");
        println!("|---|---|---|---|---|---|---|---|");
        for (s, per_commit) in &self.sweep {
            println!(
                "| {:.0}/s | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {} |",
                s.offered.unwrap_or(0.0),
                s.throughput(),
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.errors,
                s.dropped,
                per_commit.map_or_else(|| "—".to_owned(), |u| format!("{u:.1}"))
            );
        }
    }
}
