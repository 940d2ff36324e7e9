//! `/v2/storage` routes (Nakama `api_storage.go`).

use axum::{
    extract::State,
    routing::{get, put},
    Router,
};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v2/storage", put(write_storage_objects).post(read_storage_objects))
        // `GET /v2/storage/delete` is a listing of the collection named "delete", as in Nakama.
        .route("/v2/storage/delete", put(delete_storage_objects).get(list_storage_objects))
        .route("/v2/storage/{collection}", get(list_storage_objects))
        .route("/v2/storage/{collection}/{user_id}", get(list_storage_objects))
}

/// `PUT /v2/storage` — WriteStorageObjects.
async fn write_storage_objects(State(s): State<ApiState>, req: Req) -> Result<Proto<api::StorageObjectAcks>, ApiError> {
    let body: api::WriteStorageObjectsRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.write_storage_objects(session.user_id, body).await?))
}

/// `POST /v2/storage` — ReadStorageObjects.
async fn read_storage_objects(State(s): State<ApiState>, req: Req) -> Result<Proto<api::StorageObjects>, ApiError> {
    let body: api::ReadStorageObjectsRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    Ok(Proto(s.core.read_storage_objects(session.user_id, body).await?))
}

/// `PUT /v2/storage/delete` — DeleteStorageObjects.
async fn delete_storage_objects(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::DeleteStorageObjectsRequest = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.delete_storage_objects(session.user_id, body).await?;
    Ok(Empty)
}

/// `GET /v2/storage/{collection}` and `GET /v2/storage/{collection}/{user_id}` —
/// ListStorageObjects.
async fn list_storage_objects(State(s): State<ApiState>, req: Req) -> Result<Proto<api::StorageObjectList>, ApiError> {
    let mut body: api::ListStorageObjectsRequest = req.bind(Body::None)?;
    if body.collection.is_empty() {
        // The static `/v2/storage/delete` route.
        body.collection = "delete".into();
    }
    let session = req.require_session(&s)?;
    let list = s.core.list_storage_objects(session.user_id, &body.collection, &body.user_id, body.limit, &body.cursor).await?;
    Ok(Proto(list))
}
