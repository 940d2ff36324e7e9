//! kizuna-bench: many concurrent clients doing real Nakama client work against any server that
//! speaks the protocol (`--target`, `--server-key`), so Kizuna and Nakama are measured the same way.
//!
//! Two load models:
//! - closed loop (default): `--clients` workers, each sends its next request when the last one
//!   answered;
//! - open loop (`--rate R`): requests are scheduled at R per second regardless of answers, and
//!   latency is measured from the scheduled time, so a slow server cannot hide its queueing
//!   (coordinated omission).
//!
//! Latencies go into HdrHistograms (microseconds). Errors are counted by kind and always shown.

pub mod report;
pub mod scenario;
pub mod socket;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;

pub use report::Report;
pub use scenario::{Scenario, Target};

/// How to run a scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub clients: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// Requests per second for open-loop runs; `None` for closed loop.
    pub rate: Option<f64>,
    /// The data set of scenarios that build one (friends of the user, groups); `None` for the
    /// scenario's default.
    pub size: Option<usize>,
}

/// Results gathered by the workers. Locked once per worker at the end, never per request.
#[derive(Default)]
struct Totals {
    histogram: Option<Histogram<u64>>,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Runs `scenario` against `target` and returns the measured report.
pub async fn run(scenario: Scenario, target: Target, options: RunOptions) -> anyhow::Result<Report> {
    let target = Arc::new(target);
    let prepared = Arc::new(scenario.prepare(&target, options.clients, options.size).await?);
    let totals = Arc::new(Mutex::new(Totals::default()));
    let start = Instant::now();
    let measure_from = start + options.warmup;
    let end = measure_from + options.duration;
    let mut workers = Vec::with_capacity(options.clients);
    for worker in 0..options.clients {
        let target = target.clone();
        let prepared = prepared.clone();
        let totals = totals.clone();
        let rate = options.rate.map(|r| r / options.clients as f64);
        workers.push(tokio::spawn(async move {
            let mut hist = new_histogram();
            let mut ok = 0u64;
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1e-9)));
            // Spread open-loop workers over one interval so they don't fire in lockstep.
            let mut scheduled = start + interval.map_or(Duration::ZERO, |i| i.mul_f64(worker as f64 / 64.0 % 1.0));
            let mut seq = 0u64;
            loop {
                let intended = match interval {
                    Some(i) => {
                        let t = scheduled;
                        scheduled += i;
                        if t > Instant::now() {
                            tokio::time::sleep_until(t.into()).await;
                        }
                        t
                    }
                    None => Instant::now(),
                };
                if intended >= end {
                    break;
                }
                let outcome = prepared.call(&target, worker, seq).await;
                seq += 1;
                let done = Instant::now();
                if intended < measure_from {
                    continue;
                }
                match outcome {
                    Ok(()) => {
                        ok += 1;
                        let micros = done.duration_since(intended).as_micros().max(1) as u64;
                        let _ = hist.record(micros.min(60_000_000));
                    }
                    Err(kind) => *errors.entry(kind).or_default() += 1,
                }
            }
            let mut t = totals.lock().expect("totals lock");
            match &mut t.histogram {
                Some(h) => h.add(&hist).expect("same histogram bounds"),
                None => t.histogram = Some(hist),
            }
            t.ok += ok;
            for (k, v) in errors {
                *t.errors.entry(k).or_default() += v;
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let t = std::mem::take(&mut *totals.lock().expect("totals lock"));
    Ok(Report::new(scenario, &options, t.histogram.unwrap_or_else(new_histogram), t.ok, t.errors))
}
