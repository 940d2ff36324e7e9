//! `GET|DELETE /v2/notification` (Nakama `api_notification.go`).

use axum::{extract::State, routing::get, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/v2/notification", get(list_notifications).delete(delete_notifications))
}

/// `GET /v2/notification` — ListNotifications.
async fn list_notifications(State(s): State<ApiState>, req: Req) -> Result<Proto<api::NotificationList>, ApiError> {
    let body: api::ListNotificationsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.list_notifications(session.user_id, body.limit, &body.cacheable_cursor).await?))
}

/// `DELETE /v2/notification` — DeleteNotifications.
async fn delete_notifications(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::DeleteNotificationsRequest = req.bind(Body::None)?;
    let session = req.require_session(&s)?;
    s.core.delete_notifications(session.user_id, &body.ids).await?;
    Ok(Empty)
}
