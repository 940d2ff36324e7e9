//! The one place where core errors become HTTP responses (Nakama's grpc-gateway error handler):
//! status from the gRPC code, body `{"code":…,"message":…}`, and `WWW-Authenticate` on 401.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use kizuna_core::Error;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// grpc-gateway's `HTTPStatusFromCode`.
pub fn http_status(code: i32) -> StatusCode {
    match code {
        0 => StatusCode::OK,
        1 => StatusCode::from_u16(499).expect("499 is a valid status"),
        3 | 9 | 11 => StatusCode::BAD_REQUEST,
        4 => StatusCode::GATEWAY_TIMEOUT,
        5 => StatusCode::NOT_FOUND,
        6 | 10 => StatusCode::CONFLICT,
        7 => StatusCode::FORBIDDEN,
        8 => StatusCode::TOO_MANY_REQUESTS,
        12 => StatusCode::NOT_IMPLEMENTED,
        14 => StatusCode::SERVICE_UNAVAILABLE,
        16 => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON error body for a code and message (the `google.rpc.Status` with defaults omitted).
pub fn error_body(code: i32, message: &str) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    if code != 0 {
        body.insert("code".into(), code.into());
    }
    if !message.is_empty() {
        body.insert("message".into(), message.into());
    }
    serde_json::to_vec(&body).expect("a map of strings and numbers serializes")
}

/// A complete error response for a code and message.
pub fn error_response(code: i32, message: &str) -> Response {
    let mut response = (
        http_status(code),
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        error_body(code, message),
    )
        .into_response();
    if code == 16
        && let Ok(v) = HeaderValue::from_str(message) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Error::Internal { message, source } = &self.0 {
            // Logged once, here; the client sees only the fixed message.
            tracing::error!(error = ?source, client_message = %message, "internal error");
        }
        error_response(self.0.code(), self.0.message())
    }
}
