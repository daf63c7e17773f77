//! Per-API-key rate limiting with a fixed one-minute window. Counters live in this process:
//! with several API processes each enforces the limit on its own share of traffic.

use std::collections::HashMap;
use std::sync::Mutex;

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

/// Counts requests per key per minute.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

const WINDOW_SECS: i64 = 60;
/// Past this many tracked keys, stale windows are dropped.
const PRUNE_AT: usize = 10_000;

impl RateLimiter {
    /// A limiter; `0` means unlimited.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_unlimited(&self) -> bool {
        self.per_minute == 0
    }

    /// The window an unlimited limiter reports (`RateLimit-*` are sent on every authenticated
    /// response): the largest limit, nothing used, resetting with the minute.
    pub fn unlimited(&self, now_secs: i64) -> Decision {
        Decision {
            allowed: true,
            limit: u32::MAX,
            remaining: u32::MAX,
            reset_secs: u64::try_from(WINDOW_SECS - now_secs.rem_euclid(WINDOW_SECS)).unwrap_or(0),
        }
    }

    /// Counts one request of `key` at `now_secs` (unix seconds).
    pub fn check(&self, key: &str, now_secs: i64) -> Decision {
        let window = now_secs - now_secs.rem_euclid(WINDOW_SECS);
        let reset_secs = u64::try_from(window + WINDOW_SECS - now_secs).unwrap_or(0);
        let mut windows = match self.windows.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        if windows.len() > PRUNE_AT {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < self.per_minute;
        if allowed {
            entry.1 += 1;
        }
        Decision {
            allowed,
            limit: self.per_minute,
            remaining: self.per_minute.saturating_sub(entry.1),
            reset_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_resets_each_minute() {
        let l = RateLimiter::new(2);
        let t = 1_000_020;
        assert!(l.check("a", t).allowed);
        let d = l.check("a", t + 1);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        let d = l.check("a", t + 2);
        assert!(!d.allowed);
        assert_eq!(d.reset_secs, 60 - ((t + 2) % 60) as u64);
        assert!(l.check("b", t + 2).allowed, "keys are counted apart");
        let next_window = t - t % 60 + 60;
        assert!(l.check("a", next_window).allowed);
    }
}
