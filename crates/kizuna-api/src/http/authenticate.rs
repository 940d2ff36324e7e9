//! `POST /v2/account/authenticate/*` and `POST /v2/account/session/refresh` (Nakama
//! `api_authenticate.go`, `api_session.go`). All need the server key.

use axum::{extract::State, routing::post, Router};
use kizuna_proto::api;

use super::{ApiError, ApiState, Body, Proto, Req};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v2/account/authenticate/device", post(authenticate_device))
        .route("/v2/account/authenticate/custom", post(authenticate_custom))
        .route("/v2/account/authenticate/email", post(authenticate_email))
        .route("/v2/account/authenticate/apple", post(authenticate_apple))
        .route("/v2/account/authenticate/facebook", post(authenticate_facebook))
        .route("/v2/account/authenticate/facebookinstantgame", post(authenticate_facebook_instant_game))
        .route("/v2/account/authenticate/gamecenter", post(authenticate_game_center))
        .route("/v2/account/authenticate/google", post(authenticate_google))
        .route("/v2/account/authenticate/steam", post(authenticate_steam))
        .route("/v2/account/session/refresh", post(session_refresh))
}

type SessionResult = Result<Proto<api::Session>, ApiError>;

/// `POST /v2/account/authenticate/device` — AuthenticateDevice.
async fn authenticate_device(State(s): State<ApiState>, req: Req) -> SessionResult {
    let body: api::AuthenticateDeviceRequest = req.bind(Body::Field("account"))?;
    req.require_server_key(&s)?;
    Ok(Proto(s.core.authenticate_device(body).await?))
}

/// `POST /v2/account/authenticate/custom` — AuthenticateCustom.
async fn authenticate_custom(State(s): State<ApiState>, req: Req) -> SessionResult {
    let body: api::AuthenticateCustomRequest = req.bind(Body::Field("account"))?;
    req.require_server_key(&s)?;
    Ok(Proto(s.core.authenticate_custom(body).await?))
}

/// `POST /v2/account/authenticate/email` — AuthenticateEmail.
async fn authenticate_email(State(s): State<ApiState>, req: Req) -> SessionResult {
    let body: api::AuthenticateEmailRequest = req.bind(Body::Field("account"))?;
    req.require_server_key(&s)?;
    Ok(Proto(s.core.authenticate_email(body).await?))
}

/// Declares a provider route that binds and authenticates like Nakama, then answers
/// UNIMPLEMENTED (docs/compat.md lists them).
macro_rules! unimplemented_provider {
    ($fn_name:ident, $rpc:literal, $req:ty) => {
        #[doc = concat!("`", $rpc, "` — not implemented yet.")]
        async fn $fn_name(State(s): State<ApiState>, req: Req) -> SessionResult {
            let _: $req = req.bind(Body::Field("account"))?;
            req.require_server_key(&s)?;
            Ok(Proto(s.core.authenticate_unimplemented($rpc)?))
        }
    };
}

unimplemented_provider!(authenticate_apple, "AuthenticateApple", api::AuthenticateAppleRequest);
unimplemented_provider!(authenticate_facebook, "AuthenticateFacebook", api::AuthenticateFacebookRequest);

/// `POST /v2/account/authenticate/facebookinstantgame` — AuthenticateFacebookInstantGame.
async fn authenticate_facebook_instant_game(State(s): State<ApiState>, req: Req) -> SessionResult {
    let body: api::AuthenticateFacebookInstantGameRequest = req.bind(Body::Field("account"))?;
    req.require_server_key(&s)?;
    Ok(Proto(s.core.authenticate_facebook_instant_game(body).await?))
}
unimplemented_provider!(authenticate_game_center, "AuthenticateGameCenter", api::AuthenticateGameCenterRequest);
unimplemented_provider!(authenticate_google, "AuthenticateGoogle", api::AuthenticateGoogleRequest);
unimplemented_provider!(authenticate_steam, "AuthenticateSteam", api::AuthenticateSteamRequest);

/// `POST /v2/account/session/refresh` — SessionRefresh. A `vars` member present in the JSON
/// (even `{}`) replaces the token's vars; absent keeps them (protobuf-go map semantics).
async fn session_refresh(State(s): State<ApiState>, req: Req) -> SessionResult {
    let body: api::SessionRefreshRequest = req.bind(Body::Whole)?;
    req.require_server_key(&s)?;
    let vars_present = json_has_member(&req.body, "vars");
    let vars = vars_present.then_some(body.vars);
    let pair = s.core.session_refresh(&body.token, vars).await?;
    Ok(Proto(api::Session { created: false, token: pair.token, refresh_token: pair.refresh_token }))
}

/// Whether the JSON object in `body` has a non-null member `name` (prost maps cannot tell an
/// empty map from an absent one; protobuf-go's JSON decoding can).
fn json_has_member(body: &[u8], name: &str) -> bool {
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(map) => map.get(name).is_some_and(|v| !v.is_null()),
        Err(_) => false,
    }
}
