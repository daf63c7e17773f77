//! Failed sign-ins, counted per email address and per client address over a sliding window.
//! Counters live in this process (like the API's rate limits): with several API processes each
//! enforces the limits on the sign-ins it sees.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Past this many tracked keys, keys with no failure inside the window are dropped.
const PRUNE_AT: usize = 10_000;

/// Counts failed sign-ins.
#[derive(Debug)]
pub struct Throttle {
    per_email: u32,
    per_address: u32,
    window_ms: i64,
    /// Times (unix ms) of recent failures, oldest first, per key.
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

impl Throttle {
    pub fn new(per_email: u32, per_address: u32, window_secs: i64) -> Self {
        Self {
            per_email,
            per_address,
            window_ms: window_secs.saturating_mul(1000),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<i64>>> {
        match self.failures.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Seconds until a key over its limit may try again, if it is over.
    fn wait(
        map: &HashMap<String, VecDeque<i64>>,
        key: &str,
        limit: u32,
        window_ms: i64,
        now: i64,
    ) -> Option<i64> {
        // A limit of 0 turns the check off (as for the API's rate limit).
        if limit == 0 {
            return None;
        }
        let times = map.get(key)?;
        let recent: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| *t > now - window_ms)
            .collect();
        if recent.len() < limit as usize {
            return None;
        }
        // The attempt is allowed again once the oldest failure that counts leaves the window.
        let oldest = recent[recent.len() - limit as usize];
        Some(((oldest + window_ms - now) / 1000).max(1))
    }

    /// Seconds to wait before this email or address may try again, or `None` if it may now.
    pub fn blocked(&self, email: &str, address: Option<&str>, now_ms: i64) -> Option<i64> {
        let map = self.lock();
        let by_email = Self::wait(
            &map,
            &email_key(email),
            self.per_email,
            self.window_ms,
            now_ms,
        );
        let by_address = address.and_then(|a| {
            Self::wait(
                &map,
                &address_key(a),
                self.per_address,
                self.window_ms,
                now_ms,
            )
        });
        by_email.max(by_address)
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, email: &str, address: Option<&str>, now_ms: i64) {
        let mut map = self.lock();
        if map.len() > PRUNE_AT {
            let horizon = now_ms - self.window_ms;
            map.retain(|_, times| times.back().is_some_and(|t| *t > horizon));
        }
        let keys = [
            Some((email_key(email), self.per_email)),
            address.map(|a| (address_key(a), self.per_address)),
        ];
        for (key, limit) in keys.into_iter().flatten() {
            let times = map.entry(key).or_default();
            times.push_back(now_ms);
            while times.len() > limit.max(1) as usize {
                times.pop_front();
            }
        }
    }

    /// Forgets an email's failures after it signed in (its address's failures still count).
    pub fn succeeded(&self, email: &str) {
        self.lock().remove(&email_key(email));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_an_email_after_its_limit_until_the_window_passes() {
        let t = Throttle::new(3, 100, 60);
        let now = 1_000_000;
        for i in 0..3 {
            assert_eq!(t.blocked("A@b.c", None, now + i), None);
            t.failed("a@b.c", None, now + i);
        }
        assert_eq!(t.blocked("a@b.c", None, now + 10), Some(59));
        assert_eq!(t.blocked("other@b.c", None, now + 10), None);
        assert_eq!(t.blocked("a@b.c", None, now + 60_001), None);
    }

    #[test]
    fn blocks_an_address_across_emails() {
        let t = Throttle::new(100, 2, 60);
        t.failed("a@b.c", Some("10.0.0.1"), 0);
        t.failed("z@b.c", Some("10.0.0.1"), 1);
        assert!(t.blocked("new@b.c", Some("10.0.0.1"), 2).is_some());
        assert!(t.blocked("new@b.c", Some("10.0.0.2"), 2).is_none());
    }

    #[test]
    fn a_zero_limit_is_no_limit() {
        let t = Throttle::new(0, 0, 60);
        t.failed("a@b.c", Some("10.0.0.1"), 0);
        assert_eq!(t.blocked("a@b.c", Some("10.0.0.1"), 1), None);
    }

    #[test]
    fn success_forgets_the_email() {
        let t = Throttle::new(1, 100, 60);
        t.failed("a@b.c", None, 0);
        assert!(t.blocked("a@b.c", None, 1).is_some());
        t.succeeded("a@b.c");
        assert!(t.blocked("a@b.c", None, 1).is_none());
    }
}
