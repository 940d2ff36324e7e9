//! `GET|POST /v2/rpc/{id}` — RpcFunc over HTTP (Nakama `api_rpc.go`, a custom handler outside the
//! gateway, nakama-wire.md §1.3). Auth is checked in Nakama's order: `http_key` query, Basic
//! http key, Bearer session. No runtime functions can be registered yet (the Lua runtime is not
//! built), so every id answers Nakama's "RPC function not found" — exactly what Nakama answers for
//! an id no module registered.
//!
//! Error bodies here are Go `encoding/json` maps: keys sorted, with an `error` copy of the message.

use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use super::{basic_username, strip_auth_prefix, ApiState, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v2/rpc/{*id}", get(rpc_func).post(rpc_func))
        .route("/v2/rpc/", get(rpc_func).post(rpc_func))
        .route("/v2/rpc", get(rpc_func).post(rpc_func))
}

/// An `api_rpc.go` error response: `{"code":…,"error":…,"message":…}`.
fn rpc_error(status: StatusCode, code: i32, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "error": message, "message": message });
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
    if code == 16
        && let Ok(v) = HeaderValue::from_str(message) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    response
}

/// `GET|POST /v2/rpc/{id}` — RpcFunc.
async fn rpc_func(State(s): State<ApiState>, req: Req) -> Response {
    let unauthorized = |m: &str| rpc_error(StatusCode::UNAUTHORIZED, 16, m);
    let query = req.parts.uri.query().unwrap_or("");
    let http_key = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "http_key").map(|(_, v)| v.into_owned());
    let authorization = req.parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(key) = http_key {
        if key != s.config.http_key {
            return unauthorized("HTTP key invalid");
        }
    } else if let Some(auth) = authorization {
        if strip_auth_prefix(auth, "Basic ").is_some() {
            if basic_username(auth).as_deref() != Some(s.config.http_key.as_str()) {
                return unauthorized("HTTP key invalid");
            }
        } else {
            let valid = strip_auth_prefix(auth, "Bearer ").is_some_and(|t| s.core.verify_session_token(t).is_ok());
            if !valid {
                return unauthorized("Auth token invalid");
            }
        }
    } else {
        return unauthorized("Auth token or HTTP key required");
    }
    let id = req.path.iter().find(|(k, _)| k == "id").map(|(_, v)| v.as_str()).unwrap_or("");
    if id.is_empty() {
        return rpc_error(StatusCode::BAD_REQUEST, 3, "RPC ID must be set");
    }
    // Function ids are case-insensitive; none are registered until the runtime exists.
    rpc_error(StatusCode::NOT_FOUND, 5, "RPC function not found")
}
