//! Load generation: open loops at a fixed offered rate (latency measured from when each request
//! was due, so a slow server cannot hide its queueing) and closed loops for peak throughput.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Stats {
    pub offered: Option<f64>,
    pub ok: u64,
    pub errors: u64,
    /// Requests not sent because too many were outstanding (the server fell behind).
    pub dropped: u64,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn from(
        offered: Option<f64>,
        h: &Histogram<u64>,
        ok: u64,
        errors: u64,
        dropped: u64,
        elapsed: Duration,
    ) -> Self {
        let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
        Self {
            offered,
            ok,
            errors,
            dropped,
            elapsed,
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            max_ms: h.max() as f64 / 1000.0,
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
}

/// Sends `rate` requests per second for `duration`; `make(i)` sends request `i` and says whether
/// it succeeded. At most `max_in_flight` requests are outstanding.
pub async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    make: F,
) -> Stats
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let hist = Arc::new(Mutex::new(histogram()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let start = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * duration.as_secs_f64()) as u64;
    let mut dropped = 0;
    let mut handles = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            dropped += 1;
            continue;
        };
        let fut = make(i);
        let (hist, tally) = (hist.clone(), tally.clone());
        handles.push(tokio::spawn(async move {
            let ok = fut.await;
            let micros = due.elapsed().as_micros() as u64;
            drop(permit);
            if let Ok(mut t) = tally.lock() {
                if ok { t.ok += 1 } else { t.errors += 1 }
            }
            if ok && let Ok(mut h) = hist.lock() {
                let _ = h.record(micros.max(1));
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let elapsed = start.elapsed();
    let (ok, errors) = tally.lock().map(|t| (t.ok, t.errors)).unwrap_or_default();
    let h = hist
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|_| histogram());
    Stats::from(Some(rate), &h, ok, errors, dropped, elapsed)
}

/// `concurrency` workers each send requests back to back for `duration`.
pub async fn closed_loop<F, Fut>(concurrency: usize, duration: Duration, make: F) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let make = Arc::new(make);
    let hist = Arc::new(Mutex::new(histogram()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (make, hist, tally, counter) =
            (make.clone(), hist.clone(), tally.clone(), counter.clone());
        handles.push(tokio::spawn(async move {
            while start.elapsed() < duration {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = Instant::now();
                let ok = make(i).await;
                let micros = t.elapsed().as_micros() as u64;
                if let Ok(mut tl) = tally.lock() {
                    if ok { tl.ok += 1 } else { tl.errors += 1 }
                }
                if ok && let Ok(mut h) = hist.lock() {
                    let _ = h.record(micros.max(1));
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let elapsed = start.elapsed();
    let (ok, errors) = tally.lock().map(|t| (t.ok, t.errors)).unwrap_or_default();
    let h = hist
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|_| histogram());
    Stats::from(None, &h, ok, errors, 0, elapsed)
}

/// Percentiles of a list of latencies in milliseconds.
pub fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    if ms.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.99))
}

/// Makes `total` calls with `concurrency` callers; returns how many succeeded.
pub async fn closed_loop_n<F, Fut>(concurrency: usize, total: u64, make: F) -> usize
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let make = Arc::new(make);
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ok = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (make, counter, ok) = (make.clone(), counter.clone(), ok.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                if make(i).await {
                    ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    ok.load(std::sync::atomic::Ordering::Relaxed)
}
