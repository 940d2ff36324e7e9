//! `GET /v2/user` (Nakama `api_user.go`).

use axum::{extract::State, routing::get, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/user", get(get_users))
}

/// `GET /v2/user` — GetUsers.
async fn get_users(State(s): State<ApiState>, req: Req) -> Result<Proto<api::Users>, ApiError> {
    let body: api::GetUsersRequest = req.bind(Body::None)?;
    req.require_session(&s)?;
    Ok(Proto(s.core.get_users(&body.ids, &body.usernames, &body.facebook_ids).await?))
}
