//! `GET /v2/match` (Nakama `api_match.go`).

use axum::{extract::State, routing::get, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/match", get(list_matches))
}

/// `GET /v2/match` — ListMatches.
async fn list_matches(State(s): State<ApiState>, req: Req) -> Result<Proto<api::MatchList>, ApiError> {
    let b: api::ListMatchesRequest = req.bind(Body::None)?;
    req.require_session(&s)?;
    Ok(Proto(s.core.list_matches(&b)?))
}
