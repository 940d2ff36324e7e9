//! `/v2/friend` routes (Nakama `api_friend.go`). The Facebook and Steam imports need the social
//! providers and are still listed in `unimplemented.rs`.

use axum::{
    extract::State,
    routing::{get, post},
    Router,
};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v2/friend", get(list_friends).post(add_friends).delete(delete_friends))
        .route("/v2/friend/block", post(block_friends))
        .route("/v2/friend/friends", get(list_friends_of_friends))
}

/// `POST /v2/friend` — AddFriends.
async fn add_friends(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AddFriendsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.add_friends(session.user_id, &session.username, &body.ids, &body.usernames, &body.metadata).await?;
    Ok(Empty)
}

/// `DELETE /v2/friend` — DeleteFriends.
async fn delete_friends(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::DeleteFriendsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.delete_friends(session.user_id, &session.username, &body.ids, &body.usernames).await?;
    Ok(Empty)
}

/// `POST /v2/friend/block` — BlockFriends.
async fn block_friends(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::BlockFriendsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.block_friends(session.user_id, &session.username, &body.ids, &body.usernames).await?;
    Ok(Empty)
}

/// `GET /v2/friend` — ListFriends.
async fn list_friends(State(s): State<ApiState>, req: Req) -> Result<Proto<api::FriendList>, ApiError> {
    let body: api::ListFriendsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.list_friends(session.user_id, body.limit, body.state, &body.cursor).await?))
}

/// `GET /v2/friend/friends` — ListFriendsOfFriends.
async fn list_friends_of_friends(State(s): State<ApiState>, req: Req) -> Result<Proto<api::FriendsOfFriendsList>, ApiError> {
    let body: api::ListFriendsOfFriendsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.list_friends_of_friends(session.user_id, body.limit, &body.cursor).await?))
}
