//! A webhook receiver in the load generator: counts deliveries and when each event arrived.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;

/// One received delivery: when, and the event's `created-at` (unix ms).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at_ms: f64,
    pub event_created_ms: f64,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub arrivals: Arc<Mutex<Vec<Arrival>>>,
}

pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// RFC 3339 to unix milliseconds.
pub fn parse_ms(s: &str) -> Option<f64> {
    chrono_free_parse(s)
}

fn chrono_free_parse(s: &str) -> Option<f64> {
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`
    let b = s.as_bytes();
    if b.len() < 24 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    // Days from civil (Howard Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) * 1000 + ms) as f64)
}

async fn receive(State(r): State<Receiver>, body: Bytes) -> &'static str {
    let at_ms = now_ms();
    let created = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v["data"]["attributes"]["created-at"]
                .as_str()
                .and_then(parse_ms)
        })
        .unwrap_or(f64::NAN);
    if let Ok(mut a) = r.arrivals.lock() {
        a.push(Arrival {
            at_ms,
            event_created_ms: created,
        });
    }
    "ok"
}

impl Receiver {
    /// Starts on loopback; returns its URL.
    pub async fn start(&self) -> anyhow::Result<String> {
        let app = Router::new().fallback(receive).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(format!("http://{addr}/hook"))
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().map(|a| a.len()).unwrap_or(0)
    }

    pub fn take(&self) -> Vec<Arrival> {
        self.arrivals
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_rfc3339_millis() {
        assert_eq!(super::parse_ms("1970-01-01T00:00:01.500Z"), Some(1500.0));
        assert_eq!(
            super::parse_ms("2026-11-22T14:36:51.907Z"),
            Some(1_795_358_211_907.0)
        );
    }
}
