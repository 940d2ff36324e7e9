//! `GET /v2/channel/{channel_id}` (Nakama `api_channel.go`).

use axum::{extract::State, routing::get, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/channel/{channel_id}", get(list_channel_messages))
}

/// `GET /v2/channel/{channel_id}` — ListChannelMessages.
async fn list_channel_messages(State(s): State<ApiState>, req: Req) -> Result<Proto<api::ChannelMessageList>, ApiError> {
    let b: api::ListChannelMessagesRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.list_channel_messages(Some(session.user_id), &b.channel_id, b.limit, b.forward, &b.cursor).await?))
}
