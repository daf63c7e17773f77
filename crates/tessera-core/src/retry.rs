//! The one retry policy of everything Tessera tries again: outbound deliveries (webhooks,
//! workflow HTTP steps) and internal job failures. A [`RetryPolicy`] is an attempt limit, a base
//! schedule, jitter, a scale and a `Retry-After` stretch; the named policies below are the only
//! ones, and every retry time is computed by one of them. Everything here is pure: the jitter and
//! the current time are inputs, so the schedules are tested without sleeping.
//!
//! - [`WEBHOOK_DELIVERY`]: 8 attempts in all, the n-th retry about n⁶ seconds after the failure
//!   before it (3 s, 64 s, 729 s, 4096 s, 15625 s, 46656 s, 117649 s), ±10 % jitter, scaled by a
//!   configured factor, stretched by a receiver's `Retry-After` when that asks for longer.
//! - [`WORKFLOW_HTTP_STEP`]: the same schedule, 5 attempts.
//! - [`INTERNAL_JOB`]: a job whose handler failed (a database error, a crash): 10 attempts, 2 s,
//!   4 s, 8 s … doubling up to 256 s, no jitter, never scaled, no `Retry-After`.

use std::time::Duration;

use crate::time::Timestamp;

/// How the delay before a retry grows with the attempts made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// `max(n^power, floor_secs)` seconds after failed attempt `n`.
    Power { power: u32, floor_secs: u64 },
    /// `base_ms · 2^n` milliseconds after failed attempt `n`, `n` at most `max_doublings`.
    Doubling { base_ms: u64, max_doublings: u32 },
}

/// When to try something again, and when to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    pub schedule: Schedule,
    /// The longest delay of the schedule, before jitter and scale. A `Retry-After` may not push
    /// a retry past it either, so a receiver cannot park a delivery for months.
    pub max_delay_secs: u64,
    /// How far jitter moves a delay either way, as a fraction of it. Spreads the retries of many
    /// deliveries that failed together (a receiver outage) so they do not return together.
    pub jitter_spread: f64,
    /// Multiplies every delay (`TESSERA_WEBHOOK_RETRY_SCALE` shrinks the outbound schedules for
    /// tests and demos). A scale that is not finite or is negative counts as 1.
    pub scale: f64,
    /// Whether a receiver's `Retry-After` may lengthen a delay.
    pub honours_retry_after: bool,
}

/// Webhook deliveries.
pub const WEBHOOK_DELIVERY: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    // 1⁶ = 1 s is too soon to help a receiver that just failed.
    schedule: Schedule::Power {
        power: 6,
        floor_secs: 3,
    },
    max_delay_secs: 117_649,
    jitter_spread: 0.10,
    scale: 1.0,
    honours_retry_after: true,
};

/// The `http-request` steps of workflow runs: the webhook schedule, fewer attempts.
pub const WORKFLOW_HTTP_STEP: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    ..WEBHOOK_DELIVERY
};

/// A job whose handler failed (not an outbound failure, which the job records itself).
pub const INTERNAL_JOB: RetryPolicy = RetryPolicy {
    max_attempts: 10,
    schedule: Schedule::Doubling {
        base_ms: 1000,
        max_doublings: 8,
    },
    max_delay_secs: 256,
    jitter_spread: 0.0,
    scale: 1.0,
    honours_retry_after: false,
};

/// A configured scale that is usable: finite and not negative. Anything else falls back to 1,
/// the production schedule, rather than to retrying in a tight loop.
fn usable_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale >= 0.0 {
        scale
    } else {
        1.0
    }
}

impl RetryPolicy {
    /// This policy with every delay multiplied by `scale`.
    #[must_use]
    pub fn with_scale(self, scale: f64) -> Self {
        Self { scale, ..self }
    }

    /// Attempts still allowed after `attempts_made` attempts.
    pub fn attempts_left(&self, attempts_made: u32) -> u32 {
        self.max_attempts.saturating_sub(attempts_made)
    }

    /// The delay before the retry that follows failed attempt number `attempt` (1-based), before
    /// jitter and scale. Attempt 0 counts as 1; no delay exceeds `max_delay_secs`.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let cap = Duration::from_secs(self.max_delay_secs);
        let d = match self.schedule {
            Schedule::Power { power, floor_secs } => Duration::from_secs(
                u64::from(attempt.max(1))
                    .saturating_pow(power)
                    .max(floor_secs),
            ),
            Schedule::Doubling {
                base_ms,
                max_doublings,
            } => Duration::from_millis(
                base_ms.saturating_mul(1_u64 << attempt.min(max_doublings).min(63)),
            ),
        };
        d.min(cap)
    }

    fn seconds(&self, secs: f64) -> Duration {
        let longest = self.max_delay_secs as f64 * (1.0 + self.jitter_spread) * 1e6;
        Duration::try_from_secs_f64(secs.clamp(0.0, longest)).unwrap_or(Duration::ZERO)
    }

    /// The delay before the retry that follows failed attempt number `attempt` (1-based).
    ///
    /// `jitter` is a uniform draw in `[0, 1]` ([`random_jitter`] in production, a constant in
    /// tests): 0 shortens the delay by `jitter_spread`, 1 lengthens it by as much, 0.5 leaves it
    /// exact. Values outside `[0, 1]` are clamped. The scale multiplies the result.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let factor = 1.0 + self.jitter_spread * (2.0 * jitter - 1.0);
        self.seconds(self.base_delay(attempt).as_secs_f64() * factor * usable_scale(self.scale))
    }

    /// The delay to use when the receiver answered with a `Retry-After` (on 429 or 503): the
    /// longer of the scheduled delay and the receiver's wish, the wish scaled like the schedule
    /// and capped at the schedule's longest step. A policy that does not honour `Retry-After`
    /// keeps the schedule.
    pub fn stretch(&self, scheduled: Duration, retry_after: Option<Duration>) -> Duration {
        let Some(wish) = retry_after.filter(|_| self.honours_retry_after) else {
            return scheduled;
        };
        let cap = self.max_delay_secs as f64;
        let wish = self.seconds(wish.as_secs_f64().min(cap) * usable_scale(self.scale));
        scheduled.max(wish)
    }

    /// How long to wait after failed attempt number `attempts_made` before trying again, or
    /// `None` when that was the last attempt.
    pub fn next_retry(
        &self,
        attempts_made: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        (self.attempts_left(attempts_made) > 0)
            .then(|| self.stretch(self.delay(attempts_made, jitter), retry_after))
    }

    /// [`Self::next_retry`] as a time: when to try again after failed attempt number
    /// `attempts_made`, which ended at `now`.
    pub fn next_retry_at(
        &self,
        now: Timestamp,
        attempts_made: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Timestamp> {
        self.next_retry(attempts_made, jitter, retry_after)
            .map(|d| now.plus_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }
}

/// A uniform draw in `[0, 1)` for [`RetryPolicy::delay`].
pub fn random_jitter() -> f64 {
    rand::random::<f64>()
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110), the latter relative to
/// `now` (unix seconds). A date in the past means "now"; anything unparsable is ignored.
pub fn parse_retry_after(value: &str, now: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate instead of failing: they still mean "a long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = date.timestamp().saturating_sub(now).max(0);
    Some(Duration::from_secs(secs.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The webhook schedule's tests, as they were written before there were policies.
    const W: RetryPolicy = WEBHOOK_DELIVERY;
    const MAX_ATTEMPTS: u32 = W.max_attempts;
    const JITTER_SPREAD: f64 = W.jitter_spread;
    const MAX_SCHEDULED_SECS: u64 = W.max_delay_secs;

    fn retry_delay(attempt: u32, scale: f64, jitter: f64) -> Duration {
        W.with_scale(scale).delay(attempt, jitter)
    }
    fn attempts_left(made: u32) -> u32 {
        W.attempts_left(made)
    }
    fn base_delay_secs(attempt: u32) -> u64 {
        W.base_delay(attempt).as_secs()
    }
    fn honour_retry_after(s: Duration, wish: Option<Duration>, scale: f64) -> Duration {
        W.with_scale(scale).stretch(s, wish)
    }
    fn next_retry(made: u32, scale: f64, jitter: f64, wish: Option<Duration>) -> Option<Duration> {
        W.with_scale(scale).next_retry(made, jitter, wish)
    }

    #[test]
    fn workflow_http_steps_use_the_webhook_schedule_with_five_attempts() {
        let p = WORKFLOW_HTTP_STEP.with_scale(1.0);
        let schedule: Vec<Option<u64>> = (1..=6)
            .map(|a| p.next_retry(a, 0.5, None).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            schedule,
            [Some(3), Some(64), Some(729), Some(4096), None, None]
        );
        assert_eq!(
            p.next_retry(1, 0.5, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
        assert_close(p.with_scale(0.001).next_retry(2, 0.5, None).unwrap(), 0.064);
        assert_eq!(p.attempts_left(2), 3);
    }

    #[test]
    fn internal_jobs_double_from_two_seconds_up_to_256_and_stop_after_ten_attempts() {
        // Before the policies: `1000 << attempts.clamp(0, 8)` ms, given up at 10 attempts.
        let p = INTERNAL_JOB;
        let schedule: Vec<Option<u128>> = (0..=11)
            .map(|a| p.next_retry(a, 0.5, None).map(|d| d.as_millis()))
            .collect();
        let expected: Vec<Option<u128>> = [1, 2, 4, 8, 16, 32, 64, 128, 256, 256]
            .into_iter()
            .map(|s| Some(s * 1000))
            .chain([None, None])
            .collect();
        assert_eq!(schedule, expected);
        // No jitter, no Retry-After, and the outbound scale is not applied to it.
        assert_eq!(p.delay(3, 0.0), p.delay(3, 1.0));
        assert_eq!(
            p.next_retry(3, 0.5, Some(Duration::from_secs(3600))),
            Some(Duration::from_secs(8))
        );
        assert_eq!(p.delay(u32::MAX, 0.5), Duration::from_secs(256));
        assert_eq!(
            p.next_retry_at(Timestamp::from_millis(1_000), 1, 0.5, None),
            Some(Timestamp::from_millis(3_000))
        );
        assert_eq!(
            p.next_retry_at(Timestamp::from_millis(0), 10, 0.5, None),
            None
        );
    }

    #[test]
    fn retry_times_follow_the_delays() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        assert_eq!(
            W.next_retry_at(now, 2, 0.5, None),
            Some(now.plus_millis(64_000))
        );
        assert_eq!(W.next_retry_at(now, 8, 0.5, None), None);
    }

    #[test]
    fn the_schedule_is_n_to_the_sixth_with_a_three_second_floor() {
        let schedule: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|a| retry_delay(a, 1.0, 0.5).as_secs())
            .collect();
        assert_eq!(schedule, [3, 64, 729, 4096, 15625, 46656, 117649]);
        // 8 attempts: 7 retries after the first, none after the eighth.
        assert_eq!(attempts_left(1), 7);
        assert!(next_retry(7, 1.0, 0.5, None).is_some());
        assert_eq!(next_retry(8, 1.0, 0.5, None), None);
        assert_eq!(next_retry(9, 1.0, 0.5, None), None);
    }

    fn assert_close(d: Duration, secs: f64) {
        assert!(
            (d.as_secs_f64() - secs).abs() < 1e-6,
            "{d:?} is not {secs} s"
        );
    }

    #[test]
    fn jitter_moves_a_delay_by_at_most_ten_percent() {
        assert_close(retry_delay(2, 1.0, 0.0), 57.6);
        assert_close(retry_delay(2, 1.0, 1.0), 70.4);
        assert_eq!(retry_delay(2, 1.0, 7.0), retry_delay(2, 1.0, 1.0));
        assert_eq!(retry_delay(2, 1.0, f64::NAN), retry_delay(2, 1.0, 0.5));
    }

    #[test]
    fn scale_shrinks_the_schedule_for_tests() {
        assert_close(retry_delay(2, 0.001, 0.5), 0.064);
        assert_eq!(retry_delay(7, 0.0, 0.5), Duration::ZERO);
        for bad in [f64::NAN, f64::INFINITY, -1.0] {
            assert_eq!(retry_delay(2, bad, 0.5), Duration::from_secs(64));
        }
        assert!(retry_delay(7, 1e300, 1.0) > Duration::from_secs(10_000_000_000));
    }

    #[test]
    fn retry_after_wins_only_when_longer() {
        let scheduled = Duration::from_secs(64);
        assert_eq!(honour_retry_after(scheduled, None, 1.0), scheduled);
        assert_eq!(
            honour_retry_after(scheduled, Some(Duration::from_secs(10)), 1.0),
            scheduled
        );
        assert_eq!(
            honour_retry_after(scheduled, Some(Duration::from_secs(600)), 1.0),
            Duration::from_secs(600)
        );
        assert_close(
            honour_retry_after(
                Duration::from_millis(64),
                Some(Duration::from_secs(600)),
                0.001,
            ),
            0.6,
        );
        assert_eq!(
            honour_retry_after(scheduled, Some(Duration::from_secs(u64::MAX)), 1.0),
            Duration::from_secs(MAX_SCHEDULED_SECS)
        );
        assert_eq!(
            next_retry(1, 1.0, 0.5, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = 1_445_412_480; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-5", "1.5", "soon", "Wed, 99 Oct 2015 07:30:00 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn delays_grow_with_attempts_and_stay_within_jitter(attempt in 1u32..7, jitter in 0.0f64..=1.0, scale in 0.0001f64..10.0) {
            let base = base_delay_secs(attempt) as f64 * scale;
            let d = retry_delay(attempt, scale, jitter).as_secs_f64();
            prop_assert!(d >= base * (1.0 - JITTER_SPREAD) - 1e-6);
            prop_assert!(d <= base * (1.0 + JITTER_SPREAD) + 1e-6);
            // Even the worst jitter keeps the schedule increasing (64·0.9 > 3·1.1, and so on).
            prop_assert!(retry_delay(attempt + 1, scale, 0.0) > retry_delay(attempt, scale, 1.0));
        }

        #[test]
        fn retry_after_never_shortens(secs in 0u64..1_000_000, wish in proptest::option::of(0u64..10_000_000), scale in 0.0f64..10.0) {
            let scheduled = Duration::from_secs(secs);
            let d = honour_retry_after(scheduled, wish.map(Duration::from_secs), scale);
            prop_assert!(d >= scheduled);
            prop_assert!(d.as_secs_f64() <= (secs as f64).max(MAX_SCHEDULED_SECS as f64 * scale) + 1e-3);
        }

        #[test]
        fn never_panics(attempt in any::<u32>(), scale in any::<f64>(), jitter in any::<f64>(), text in ".{0,40}", now in any::<i64>()) {
            let _ = retry_delay(attempt, scale, jitter);
            let _ = next_retry(attempt, scale, jitter, Some(Duration::from_secs(5)));
            let _ = INTERNAL_JOB.with_scale(scale).next_retry(attempt, jitter, None);
            let _ = WORKFLOW_HTTP_STEP.next_retry_at(Timestamp::from_millis(now), attempt, jitter, Some(Duration::from_secs(5)));
            let _ = parse_retry_after(&text, now);
        }
    }
}
