//! The result of a run: a human table or JSON.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::{RunOptions, Scenario};

/// Measured figures of one scenario run. Latencies in milliseconds.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub clients: usize,
    pub duration_sec: f64,
    pub mode: String,
    pub requests_ok: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<String, u64>,
}

impl Report {
    pub(crate) fn new(
        scenario: Scenario,
        options: &RunOptions,
        hist: Histogram<u64>,
        ok: u64,
        errors: BTreeMap<String, u64>,
    ) -> Report {
        let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
        let secs = options.duration.as_secs_f64();
        Report {
            scenario: scenario.name().to_owned(),
            clients: options.clients,
            duration_sec: secs,
            mode: match options.rate {
                Some(r) => format!("open loop {r}/s"),
                None => "closed loop".to_owned(),
            },
            requests_ok: ok,
            requests_per_sec: ok as f64 / secs,
            p50_ms: ms(0.50),
            p90_ms: ms(0.90),
            p99_ms: ms(0.99),
            max_ms: hist.max() as f64 / 1000.0,
            errors,
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The human-readable table; the last line says whether there were errors.
    pub fn table(&self) -> String {
        let mut out = format!(
            "scenario        clients  mode              ok       req/s      p50 ms   p90 ms   p99 ms   max ms\n\
             {:<15} {:>7}  {:<16} {:>8} {:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2}\n",
            self.scenario,
            self.clients,
            self.mode,
            self.requests_ok,
            self.requests_per_sec,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.max_ms
        );
        for (kind, n) in &self.errors {
            out.push_str(&format!("  error {kind}: {n}\n"));
        }
        out.push_str(&match self.error_count() {
            0 => "result: no errors\n".to_owned(),
            n => format!("result: {n} ERRORS\n"),
        });
        out
    }
}
