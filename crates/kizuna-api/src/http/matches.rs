//! `GET /v2/match` and `GET /v2/matchmaker/stats` (Nakama `api_match.go`, `api_matchmaker.go`).

use axum::{extract::State, routing::get, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/match", get(list_matches)).route("/v2/matchmaker/stats", get(matchmaker_stats))
}

/// `GET /v2/matchmaker/stats` — GetMatchmakerStats: the figures of the latest matchmaker pass.
async fn matchmaker_stats(State(s): State<ApiState>, req: Req) -> Result<Proto<api::MatchmakerStats>, ApiError> {
    req.require_session(&s)?;
    Ok(Proto(s.core.matchmaker_stats()))
}

/// `GET /v2/match` — ListMatches.
async fn list_matches(State(s): State<ApiState>, req: Req) -> Result<Proto<api::MatchList>, ApiError> {
    let b: api::ListMatchesRequest = req.bind(Body::None)?;
    req.require_session(&s)?;
    Ok(Proto(s.core.list_matches(&b).await?))
}
