//! `/v2/group` routes and `GET /v2/user/{user_id}/group` (Nakama `api_group.go`).

use axum::{
    extract::State,
    routing::{get, post},
    Router,
};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v2/group", get(list_groups).post(create_group))
        .route("/v2/group/{group_id}", axum::routing::put(update_group).delete(delete_group))
        .route("/v2/group/{group_id}/add", post(add_group_users))
        .route("/v2/group/{group_id}/ban", post(ban_group_users))
        .route("/v2/group/{group_id}/demote", post(demote_group_users))
        .route("/v2/group/{group_id}/join", post(join_group))
        .route("/v2/group/{group_id}/kick", post(kick_group_users))
        .route("/v2/group/{group_id}/leave", post(leave_group))
        .route("/v2/group/{group_id}/promote", post(promote_group_users))
        .route("/v2/group/{group_id}/user", get(list_group_users))
        .route("/v2/user/{user_id}/group", get(list_user_groups))
}

/// `POST /v2/group` — CreateGroup.
async fn create_group(State(s): State<ApiState>, req: Req) -> Result<Proto<api::Group>, ApiError> {
    let body: api::CreateGroupRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.create_group_for_user(session.user_id, body).await?))
}

/// `PUT /v2/group/{group_id}` — UpdateGroup.
async fn update_group(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::UpdateGroupRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.update_group(Some(session.user_id), body).await?;
    Ok(Empty)
}

/// `DELETE /v2/group/{group_id}` — DeleteGroup.
async fn delete_group(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::DeleteGroupRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.delete_group(Some(session.user_id), &body.group_id).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/join` — JoinGroup.
async fn join_group(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::JoinGroupRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.join_group(session.user_id, &session.username, &body.group_id).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/leave` — LeaveGroup.
async fn leave_group(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::LeaveGroupRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.leave_group(session.user_id, &body.group_id).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/add` — AddGroupUsers.
async fn add_group_users(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AddGroupUsersRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.add_group_users(Some(session.user_id), &body.group_id, &body.user_ids).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/ban` — BanGroupUsers.
async fn ban_group_users(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::BanGroupUsersRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.ban_group_users(Some(session.user_id), &body.group_id, &body.user_ids).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/kick` — KickGroupUsers.
async fn kick_group_users(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::KickGroupUsersRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.kick_group_users(Some(session.user_id), &body.group_id, &body.user_ids).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/promote` — PromoteGroupUsers.
async fn promote_group_users(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::PromoteGroupUsersRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.promote_group_users(Some(session.user_id), &body.group_id, &body.user_ids).await?;
    Ok(Empty)
}

/// `POST /v2/group/{group_id}/demote` — DemoteGroupUsers.
async fn demote_group_users(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::DemoteGroupUsersRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.demote_group_users(Some(session.user_id), &body.group_id, &body.user_ids).await?;
    Ok(Empty)
}

/// `GET /v2/group` — ListGroups.
async fn list_groups(State(s): State<ApiState>, req: Req) -> Result<Proto<api::GroupList>, ApiError> {
    let b: api::ListGroupsRequest = req.bind(Body::None)?;
    req.require_session(&s)?;
    Ok(Proto(s.core.list_groups(&b.name, &b.cursor, b.limit, &b.lang_tag, b.members, b.open).await?))
}

/// `GET /v2/group/{group_id}/user` — ListGroupUsers.
async fn list_group_users(State(s): State<ApiState>, req: Req) -> Result<Proto<api::GroupUserList>, ApiError> {
    let b: api::ListGroupUsersRequest = req.bind(Body::None)?;
    req.require_session(&s)?;
    Ok(Proto(s.core.list_group_users(&b.group_id, b.limit, b.state, &b.cursor).await?))
}

/// `GET /v2/user/{user_id}/group` — ListUserGroups.
async fn list_user_groups(State(s): State<ApiState>, req: Req) -> Result<Proto<api::UserGroupList>, ApiError> {
    let b: api::ListUserGroupsRequest = req.bind(Body::None)?;
    req.require_session(&s)?;
    Ok(Proto(s.core.list_user_groups(&b.user_id, b.limit, b.state, &b.cursor).await?))
}
