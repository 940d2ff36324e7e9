//! Prometheus metrics for the API: request counts and latencies per route. The registry is owned
//! by the server (no global recorder), so many servers can run in one process.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
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
