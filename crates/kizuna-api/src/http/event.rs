//! `POST /v2/event` (Nakama `api_event.go`).

use axum::{extract::State, routing::post, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/event", post(event))
}

/// `POST /v2/event` — Event.
async fn event(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::Event = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.event(session.user_id, body);
    Ok(Empty)
}
