//! Routes of Nakama's API whose features are not built yet. Each answers like an unimplemented
//! gRPC method — after the same authentication as the real route — with HTTP 501, code 12 and
//! "method <Rpc> not implemented", so clients get a clear error instead of a 404 and
//! docs/compat.md can list them. A feature's issue replaces its rows with real handlers.

use axum::{
    routing::{on, MethodFilter},
    Router,
};

use super::{ApiError, ApiState, Req};

/// (method, path, gRPC method) of every route not built yet.
const UNIMPLEMENTED: &[(&str, &str, &str)] = &[
    ("POST", "/v2/friend/facebook", "ImportFacebookFriends"),
    ("POST", "/v2/friend/steam", "ImportSteamFriends"),
    ("POST", "/v2/iap/purchase/apple", "ValidatePurchaseApple"),
    ("POST", "/v2/iap/purchase/facebookinstant", "ValidatePurchaseFacebookInstant"),
    ("POST", "/v2/iap/purchase/google", "ValidatePurchaseGoogle"),
    ("POST", "/v2/iap/purchase/huawei", "ValidatePurchaseHuawei"),
    ("POST", "/v2/iap/purchase/samsung", "ValidatePurchaseSamsung"),
    ("POST", "/v2/iap/subscription", "ListSubscriptions"),
    ("POST", "/v2/iap/subscription/apple", "ValidateSubscriptionApple"),
    ("POST", "/v2/iap/subscription/google", "ValidateSubscriptionGoogle"),
    ("GET", "/v2/iap/subscription/{product_id}", "GetSubscription"),
    ("DELETE", "/v2/leaderboard/{leaderboard_id}", "DeleteLeaderboardRecord"),
    ("GET", "/v2/leaderboard/{leaderboard_id}", "ListLeaderboardRecords"),
    ("POST", "/v2/leaderboard/{leaderboard_id}", "WriteLeaderboardRecord"),
    ("GET", "/v2/leaderboard/{leaderboard_id}/owner/{owner_id}", "ListLeaderboardRecordsAroundOwner"),
    ("GET", "/v2/party", "ListParties"),
    ("GET", "/v2/tournament", "ListTournaments"),
    ("DELETE", "/v2/tournament/{tournament_id}", "DeleteTournamentRecord"),
    ("GET", "/v2/tournament/{tournament_id}", "ListTournamentRecords"),
    ("POST", "/v2/tournament/{tournament_id}", "WriteTournamentRecord"),
    ("PUT", "/v2/tournament/{tournament_id}", "WriteTournamentRecord"),
    ("POST", "/v2/tournament/{tournament_id}/join", "JoinTournament"),
    ("GET", "/v2/tournament/{tournament_id}/owner/{owner_id}", "ListTournamentRecordsAroundOwner"),
];

pub(super) fn routes() -> Router<ApiState> {
    let mut router = Router::new();
    let mut paths: Vec<&str> = UNIMPLEMENTED.iter().map(|(_, p, _)| *p).collect();
    paths.dedup();
    for path in paths {
        let mut method_router = axum::routing::MethodRouter::new();
        for (method, _, rpc) in UNIMPLEMENTED.iter().filter(|(_, p, _)| *p == path) {
            let filter = match *method {
                "GET" => MethodFilter::GET,
                "POST" => MethodFilter::POST,
                "PUT" => MethodFilter::PUT,
                _ => MethodFilter::DELETE,
            };
            let rpc: &'static str = rpc;
            method_router = method_router.merge(on(filter, move |axum::extract::State(s): axum::extract::State<ApiState>, req: Req| async move {
                req.require_session(&s)?;
                Err::<(), ApiError>(ApiError(kizuna_core::Error::Unimplemented(format!("method {rpc} not implemented").into())))
            }));
        }
        router = router.route(path, method_router);
    }
    router
}

#[cfg(test)]
mod tests {
    use super::UNIMPLEMENTED;

    #[test]
    fn table_has_no_duplicate_routes() {
        let mut seen = std::collections::HashSet::new();
        for (method, path, _) in UNIMPLEMENTED {
            assert!(seen.insert((method, path)), "{method} {path} listed twice");
        }
    }
}
