//! Kizuna's edges: how clients reach the rules in `kizuna-core`. Nakama's `api_*.go` (REST via
//! grpc-gateway) lives in [`http`]; the realtime socket (`socket_ws.go`, `pipeline_*.go`) will sit
//! beside it.
//!
//! Errors from core are mapped to the wire exactly once per edge ([`http::error`]).

pub mod http;
pub mod metrics;
pub mod socket;

pub use http::{router, ApiConfig, ApiState};
