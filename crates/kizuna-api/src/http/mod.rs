//! The REST API on `socket.port` (Nakama `api.go` and the grpc-gateway routes of
//! nakama-wire.md §1.2).
//!
//! Request flow, as in Nakama: route match (404 / 501 otherwise) → body read (size limit) →
//! binding into the request message (400 on malformed input) → authentication (401) → the core
//! function → protojson response. Every response carries `Cache-Control: no-store, ...`; CORS is
//! open; gzip/deflate both ways.

mod account;
mod authenticate;
mod channel;
mod event;
mod friend;
mod group;
pub mod bind;
pub mod error;
mod link;
mod matches;
mod notification;
mod rpc;
mod session;
mod storage;
mod unimplemented;
mod user;

use std::time::Instant;

use axum::{
    body::Body as AxumBody,
    extract::{FromRequest, FromRequestParts, MatchedPath, RawPathParams, Request, State},
    http::{header, request::Parts, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use bytes::Bytes;
use kizuna_core::{session::Session, Core, Error};
use tower_http::{
    compression::CompressionLayer,
    cors::{Any, CorsLayer},
    decompression::RequestDecompressionLayer,
    set_header::SetResponseHeaderLayer,
};

use crate::metrics::{ApiMetrics, RequestLabels};
pub use bind::Body;
pub use error::ApiError;

/// Settings of the HTTP edge (from `socket.*` and `runtime.*`).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `socket.server_key`: the Basic-auth username for authenticate and refresh.
    pub server_key: String,
    /// `runtime.http_key`: server-to-server key for RPC functions.
    pub http_key: String,
    /// `socket.max_request_size_bytes`.
    pub max_request_size_bytes: usize,
    /// `socket.read_timeout_ms`: a request body must arrive within this.
    pub read_timeout: std::time::Duration,
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub core: Core,
    pub config: std::sync::Arc<ApiConfig>,
    pub metrics: ApiMetrics,
    /// Settings of the realtime socket.
    pub socket: std::sync::Arc<crate::socket::SocketConfig>,
}

/// The full REST router with its middleware.
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/", get(|| async { StatusCode::OK }))
        .route("/healthcheck", get(|| async { Empty }))
        .route("/readyz", get(readiness))
        .merge(account::routes())
        .merge(authenticate::routes())
        .merge(link::routes())
        .merge(session::routes())
        .merge(channel::routes())
        .merge(event::routes())
        .merge(friend::routes())
        .merge(group::routes())
        .merge(matches::routes())
        .merge(notification::routes())
        .merge(storage::routes())
        .merge(user::routes())
        .merge(rpc::routes())
        .merge(crate::socket::routes())
        .merge(unimplemented::routes())
        .fallback(|| async { error::error_response(5, "Not Found") })
        .method_not_allowed_fallback(|| async { error::error_response(12, "Method Not Allowed") })
        .route_layer(middleware::from_fn_with_state(state.clone(), track_metrics));
    api.layer(
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache, must-revalidate"),
            ))
            .layer(
                CorsLayer::new()
                    .allow_origin(Any)
                    .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE])
                    .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::USER_AGENT]),
            )
            // Responses under 1 KiB go out as they are: a compressor's set-up (zeroing its
            // tables) costs more than the bytes it saves, and they fit one packet anyway
            // (docs/benchmarks.md: 15-20 % of the CPU of a device authentication).
            .layer(
                CompressionLayer::new()
                    .gzip(true)
                    .deflate(true)
                    .quality(tower_http::CompressionLevel::Fastest)
                    .compress_when(tower_http::compression::predicate::SizeAbove::new(1024)),
            )
            .layer(RequestDecompressionLayer::new().gzip(true).deflate(true)),
    )
    .with_state(state)
}

/// Counts requests and records latency per matched route.
async fn track_metrics(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let method = request.method().clone();
    let start = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels { route: format!("{method} {route}"), status: response.status().as_u16() };
    state.metrics.requests.get_or_create(&labels).inc();
    state.metrics.latency_seconds.get_or_create(&labels).observe(start.elapsed().as_secs_f64());
    response
}

/// `google.protobuf.Empty` as JSON.
pub struct Empty;

impl IntoResponse for Empty {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
    }
}

/// A response message written as Nakama's JSON.
pub struct Proto<M>(pub M);

impl<M: prost::Message + prost::Name> IntoResponse for Proto<M> {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], kizuna_proto::json::to_json(&self.0)).into_response()
    }
}

/// `GET /readyz` — readiness (Kizuna only): 200 `{}` while the database answers, otherwise 503
/// with code 14. `/healthcheck` stays Nakama's liveness answer (always 200).
async fn readiness(State(s): State<ApiState>) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(2), s.core.database_ready()).await {
        Ok(Ok(())) => Empty.into_response(),
        Ok(Err(e)) => ApiError(e).into_response(),
        Err(_) => ApiError(Error::Unavailable("Database unavailable.".into())).into_response(),
    }
}

/// A buffered request: headers, query, path parameters and the body (within the size limit).
pub struct Req {
    pub(crate) parts: Parts,
    pub(crate) body: Bytes,
    pub(crate) path: Vec<(String, String)>,
}

impl FromRequest<ApiState> for Req {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let path = match RawPathParams::from_request_parts(&mut parts, state).await {
            Ok(params) => params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            Err(_) => Vec::new(),
        };
        let read = axum::body::to_bytes(AxumBody::new(body), state.config.max_request_size_bytes);
        let Ok(read) = tokio::time::timeout(state.config.read_timeout, read).await else {
            return Err(ApiError(Error::invalid("Request body was not received in time.")));
        };
        let body = read.map_err(|e| {
            // Over the limit is Nakama's message; anything else is a body that could not be read,
            // such as a corrupt gzip or deflate stream.
            let too_large = std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| e.source())
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            ApiError(Error::invalid(if too_large { "http: request body too large" } else { "Request body could not be read or decompressed." }))
        })?;
        Ok(Req { parts, body, path })
    }
}


impl Req {
    /// Binds the request message (see [`bind`]).
    pub fn bind<M: prost::Message + prost::Name + Default>(&self, spec: Body) -> Result<M, ApiError> {
        let path: Vec<(&str, &str)> = self.path.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Ok(bind::bind(spec, &self.body, self.parts.uri.query(), &path)?)
    }

    /// The single `Authorization` header value: `Ok(None)` if absent, `Err(())` if repeated or
    /// not text.
    fn authorization(&self) -> Result<Option<&str>, ()> {
        let mut values = self.parts.headers.get_all(header::AUTHORIZATION).iter();
        let Some(first) = values.next() else { return Ok(None) };
        if values.next().is_some() {
            return Err(());
        }
        first.to_str().map(Some).map_err(|_| ())
    }

    /// Checks `Authorization: Basic base64("<server_key>:")`; only the username is compared.
    pub fn require_server_key(&self, state: &ApiState) -> Result<(), ApiError> {
        let invalid = || ApiError(Error::Unauthenticated("Server key invalid".into()));
        let header = match self.authorization() {
            Ok(Some(h)) => h,
            Ok(None) => return Err(ApiError(Error::Unauthenticated("Server key required".into()))),
            Err(()) => return Err(invalid()),
        };
        let username = basic_username(header).ok_or_else(invalid)?;
        if username != state.config.server_key {
            return Err(invalid());
        }
        Ok(())
    }

    /// Checks `Authorization: Bearer <session token>` and returns the caller's session.
    pub fn require_session(&self, state: &ApiState) -> Result<Session, ApiError> {
        let invalid = || ApiError(Error::Unauthenticated("Auth token invalid".into()));
        let header = match self.authorization() {
            Ok(Some(h)) => h,
            Ok(None) => return Err(ApiError(Error::Unauthenticated("Auth token required".into()))),
            Err(()) => return Err(invalid()),
        };
        let token = strip_auth_prefix(header, "Bearer ").ok_or_else(invalid)?;
        Ok(state.core.verify_session_token(token)?)
    }
}

/// The credential after an auth scheme prefix. Nakama compares the prefix case-sensitively
/// (`Bearer `, `Basic `), so we do too.
pub(crate) fn strip_auth_prefix<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.strip_prefix(prefix)
}

/// The username part of a Basic credential.
pub(crate) fn basic_username(header: &str) -> Option<String> {
    use base64::Engine;
    let encoded = strip_auth_prefix(header, "Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, _password) = text.split_once(':')?;
    Some(user.to_owned())
}
