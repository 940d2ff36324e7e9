//! `GET|PUT|DELETE /v2/account` (Nakama `api_account.go`).

use axum::{extract::State, routing::get, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/account", get(get_account).put(update_account).delete(delete_account))
}

/// `GET /v2/account` — GetAccount.
async fn get_account(State(s): State<ApiState>, req: Req) -> Result<Proto<api::Account>, ApiError> {
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.get_account(session.user_id).await?))
}

/// `PUT /v2/account` — UpdateAccount.
async fn update_account(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::UpdateAccountRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.update_account(session.user_id, body).await?;
    Ok(Empty)
}

/// `DELETE /v2/account` — DeleteAccount.
async fn delete_account(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let session = req.require_session(&s)?;
    s.core.delete_account(session.user_id).await?;
    Ok(Empty)
}
