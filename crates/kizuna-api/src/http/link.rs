//! `POST /v2/account/link/*` and `POST /v2/account/unlink/*` (Nakama `api_link.go`,
//! `api_unlink.go`). Device, custom and email are implemented; the providers that need outside
//! verification answer UNIMPLEMENTED (docs/compat.md).

use axum::{extract::State, routing::post, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Empty, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v2/account/link/device", post(link_device))
        .route("/v2/account/link/custom", post(link_custom))
        .route("/v2/account/link/email", post(link_email))
        .route("/v2/account/unlink/device", post(unlink_device))
        .route("/v2/account/unlink/custom", post(unlink_custom))
        .route("/v2/account/unlink/email", post(unlink_email))
        .route("/v2/account/link/apple", post(link_apple))
        .route("/v2/account/link/facebook", post(link_facebook))
        .route("/v2/account/link/facebookinstantgame", post(link_facebook_instant_game))
        .route("/v2/account/link/gamecenter", post(link_game_center))
        .route("/v2/account/link/google", post(link_google))
        .route("/v2/account/link/steam", post(link_steam))
        .route("/v2/account/unlink/apple", post(unlink_apple))
        .route("/v2/account/unlink/facebook", post(unlink_facebook))
        .route("/v2/account/unlink/facebookinstantgame", post(unlink_facebook_instant_game))
        .route("/v2/account/unlink/gamecenter", post(unlink_game_center))
        .route("/v2/account/unlink/google", post(unlink_google))
        .route("/v2/account/unlink/steam", post(unlink_steam))
}

/// `POST /v2/account/link/device` — LinkDevice.
async fn link_device(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountDevice = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.link_device(session.user_id, &body.id).await?;
    Ok(Empty)
}

/// `POST /v2/account/link/custom` — LinkCustom.
async fn link_custom(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountCustom = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.link_custom(session.user_id, &body.id).await?;
    Ok(Empty)
}

/// `POST /v2/account/link/email` — LinkEmail.
async fn link_email(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountEmail = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.link_email(session.user_id, &body.email, &body.password).await?;
    Ok(Empty)
}

/// `POST /v2/account/unlink/device` — UnlinkDevice.
async fn unlink_device(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountDevice = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.unlink_device(session.user_id, &body.id).await?;
    Ok(Empty)
}

/// `POST /v2/account/unlink/custom` — UnlinkCustom.
async fn unlink_custom(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountCustom = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.unlink_custom(session.user_id, &body.id).await?;
    Ok(Empty)
}

/// `POST /v2/account/unlink/email` — UnlinkEmail.
async fn unlink_email(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountEmail = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.unlink_email(session.user_id, &body.email).await?;
    Ok(Empty)
}

/// A link/unlink route for a provider that is not built yet: binds and authenticates like
/// Nakama, then answers UNIMPLEMENTED.
macro_rules! unimplemented_link {
    ($fn_name:ident, $rpc:literal, $req:ty, $spec:expr) => {
        #[doc = concat!("`", $rpc, "` — not implemented yet.")]
        async fn $fn_name(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
            let _: $req = req.bind($spec)?;
            req.require_session(&s)?;
            s.core.link_unimplemented($rpc)?;
            Ok(Empty)
        }
    };
}

unimplemented_link!(link_apple, "LinkApple", api::AccountApple, Body::Whole);
unimplemented_link!(link_facebook, "LinkFacebook", api::LinkFacebookRequest, Body::Field("account"));

/// `POST /v2/account/link/facebookinstantgame` — LinkFacebookInstantGame.
async fn link_facebook_instant_game(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountFacebookInstantGame = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.link_facebook_instant_game(session.user_id, &body.signed_player_info).await?;
    Ok(Empty)
}
unimplemented_link!(link_game_center, "LinkGameCenter", api::AccountGameCenter, Body::Whole);
unimplemented_link!(link_google, "LinkGoogle", api::AccountGoogle, Body::Whole);
unimplemented_link!(link_steam, "LinkSteam", api::LinkSteamRequest, Body::Whole);
unimplemented_link!(unlink_apple, "UnlinkApple", api::AccountApple, Body::Whole);
unimplemented_link!(unlink_facebook, "UnlinkFacebook", api::AccountFacebook, Body::Whole);

/// `POST /v2/account/unlink/facebookinstantgame` — UnlinkFacebookInstantGame.
async fn unlink_facebook_instant_game(State(s): State<ApiState>, req: Req) -> Result<Empty, ApiError> {
    let body: api::AccountFacebookInstantGame = req.bind(Body::Whole)?;
    let session = req.require_session(&s)?;
    s.core.unlink_facebook_instant_game(session.user_id, &body.signed_player_info).await?;
    Ok(Empty)
}
unimplemented_link!(unlink_game_center, "UnlinkGameCenter", api::AccountGameCenter, Body::Whole);
unimplemented_link!(unlink_google, "UnlinkGoogle", api::AccountGoogle, Body::Whole);
unimplemented_link!(unlink_steam, "UnlinkSteam", api::AccountSteam, Body::Whole);
