//! The retry schedule of outbound deliveries (webhooks, workflow HTTP steps): 8 attempts in all,
//! the n-th retry about n⁶ seconds after the failure before it (3 s, 64 s, 729 s, 4096 s, 15625 s,
//! 46656 s, 117649 s), with jitter, scaled by a configured factor, and stretched by a receiver's
//! `Retry-After` when that asks for longer. Everything here is pure: the jitter and the current
//! time are inputs, so the schedule is tested without sleeping.

use std::time::Duration;

/// Attempts per delivery, the first one included.
pub const MAX_ATTEMPTS: u32 = 8;

/// How far jitter moves a delay either way, as a fraction of it (±10 %). Spreads the retries of
/// many deliveries that failed together (a receiver outage) so they do not return together.
pub const JITTER_SPREAD: f64 = 0.10;

/// The shortest first retry. 1⁶ = 1 s is too soon to help a receiver that just failed.
const MIN_DELAY_SECS: u64 = 3;

/// The longest unscaled delay of the schedule; a `Retry-After` may not push a retry past it, so a
/// receiver cannot park a delivery for months.
pub const MAX_SCHEDULED_SECS: u64 = 117_649;

/// Attempts still allowed after `attempts_made` attempts.
pub fn attempts_left(attempts_made: u32) -> u32 {
    MAX_ATTEMPTS.saturating_sub(attempts_made)
}

/// The delay before the retry that follows failed attempt number `attempt` (1-based), before
/// jitter and scale: `max(attempt⁶, 3)` seconds. Out-of-range attempts are clamped to 1..=7.
pub fn base_delay_secs(attempt: u32) -> u64 {
    let n = u64::from(attempt.clamp(1, MAX_ATTEMPTS - 1));
    n.pow(6).max(MIN_DELAY_SECS)
}

/// A configured scale that is usable: finite and not negative. Anything else falls back to 1,
/// the production schedule, rather than to retrying in a tight loop.
fn usable_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale >= 0.0 {
        scale
    } else {
        1.0
    }
}

fn seconds(secs: f64) -> Duration {
    let capped = secs.clamp(0.0, MAX_SCHEDULED_SECS as f64 * (1.0 + JITTER_SPREAD) * 1e6);
    Duration::try_from_secs_f64(capped).unwrap_or(Duration::ZERO)
}

/// The delay before the retry that follows failed attempt number `attempt` (1-based).
///
/// `jitter` is a uniform draw in `[0, 1]` ([`random_jitter`] in production, a constant in tests):
/// 0 shortens the delay by [`JITTER_SPREAD`], 1 lengthens it by as much, 0.5 leaves it exact.
/// Values outside `[0, 1]` are clamped. `scale` multiplies the result
/// (`TESSERA_WEBHOOK_RETRY_SCALE`).
pub fn retry_delay(attempt: u32, scale: f64, jitter: f64) -> Duration {
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let factor = 1.0 + JITTER_SPREAD * (2.0 * jitter - 1.0);
    seconds(base_delay_secs(attempt) as f64 * factor * usable_scale(scale))
}

/// The delay to use when the receiver answered with a `Retry-After` (on 429 or 503): the longer
/// of the scheduled delay and the receiver's wish, the wish scaled like the schedule and capped at
/// the schedule's longest step.
pub fn honour_retry_after(
    scheduled: Duration,
    retry_after: Option<Duration>,
    scale: f64,
) -> Duration {
    let Some(wish) = retry_after else {
        return scheduled;
    };
    let cap = MAX_SCHEDULED_SECS as f64;
    let wish = seconds(wish.as_secs_f64().min(cap) * usable_scale(scale));
    scheduled.max(wish)
}

/// When to try again after failed attempt number `attempts_made`, or `None` when that was the
/// last attempt.
pub fn next_retry(
    attempts_made: u32,
    scale: f64,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    (attempts_left(attempts_made) > 0).then(|| {
        honour_retry_after(
            retry_delay(attempts_made, scale, jitter),
            retry_after,
            scale,
        )
    })
}

/// A uniform draw in `[0, 1)` for [`retry_delay`].
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
            let _ = parse_retry_after(&text, now);
        }
    }
}
