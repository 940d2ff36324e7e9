//! Prometheus metrics: request counts and latencies per route, and gauges of the realtime state
//! read at scrape time. The registry is owned by the server (no global recorder), so many servers
//! can run in one process.

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::{counter::Counter, family::Family, gauge::ConstGauge, histogram::Histogram},
    registry::Registry,
};

/// Labels of a request: method and matched route, and the HTTP status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

/// The API's metric families.
#[derive(Clone)]
pub struct ApiMetrics {
    pub requests: Family<RequestLabels, Counter>,
    pub latency_seconds: Family<RequestLabels, Histogram>,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~6.5 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 17))
}

impl ApiMetrics {
    /// Creates the families and registers them in `registry` under the `kizuna_api_` prefix.
    pub fn register(registry: &mut Registry) -> ApiMetrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency_seconds = Family::<RequestLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let sub = registry.sub_registry_with_prefix("kizuna_api");
        sub.register("requests", "API requests by route and HTTP status", requests.clone());
        sub.register("request_latency_seconds", "API request latency by route and HTTP status", latency_seconds.clone());
        ApiMetrics { requests, latency_seconds }
    }
}

/// Reads the realtime gauges from the core on every scrape (`kizuna_realtime_sessions`,
/// `kizuna_realtime_relayed_matches`, `kizuna_matchmaker_tickets`).
pub struct RealtimeCollector(pub kizuna_core::Core);

impl std::fmt::Debug for RealtimeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RealtimeCollector")
    }
}

impl Collector for RealtimeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let g = self.0.realtime_gauges();
        for (name, help, value) in [
            ("kizuna_realtime_sessions", "Live realtime sockets on this node", g.sessions),
            ("kizuna_realtime_relayed_matches", "Relayed matches with at least one presence", g.relayed_matches),
            ("kizuna_matchmaker_tickets", "Tickets waiting in the matchmaker pool", g.matchmaker_tickets),
        ] {
            let gauge = ConstGauge::new(value as i64);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}
