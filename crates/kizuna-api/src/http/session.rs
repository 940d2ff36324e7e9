//! `POST /v2/session/logout` (Nakama `api_session.go`).

use axum::{extract::State, routing::post, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/session/logout", post(session_logout))
}

/// `POST /v2/session/logout` — SessionLogout.
async fn session_logout(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::SessionLogoutRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.session_logout(session.user_id, &body.token, &body.refresh_token).await?;
    Ok(Empty)
}
