//! Session refresh and logout (nakama-wire.md §6).

use kizuna_testkit::{jwt_claims, server_test, Auth};
use reqwest::Method;

const KEY: Auth<'static> = Auth::ServerKey("defaultkey");
const REFRESH: &str = "/v2/account/session/refresh";

server_test!(refresh_keeps_token_id_and_issue_time, |server| {
    let s = server
        .call(Method::POST, "/v2/account/authenticate/custom?username=ref", KEY, Some(r#"{"id":"custom-refresh","vars":{"a":"1"}}"#))
        .await
        .ok();
    let old = jwt_claims(s["token"].as_str().unwrap());
    let body = serde_json::json!({ "token": s["refresh_token"] }).to_string();
    let r = server.call(Method::POST, REFRESH, KEY, Some(&body)).await.ok();
    assert!(r.get("created").is_none());
    let new = jwt_claims(r["token"].as_str().unwrap());
    assert_eq!(new["tid"], old["tid"]);
    assert_eq!(new["iat"], old["iat"]);
    assert_eq!(new["usn"], "ref");
    // No `vars` member: the token's vars are kept.
    assert_eq!(new["vrs"]["a"], "1");
    // Non-empty `vars` replace them; `{}` keeps them, as on Nakama.
    let body = serde_json::json!({ "token": s["refresh_token"], "vars": {"b": "2"} }).to_string();
    let r = server.call(Method::POST, REFRESH, KEY, Some(&body)).await.ok();
    assert_eq!(jwt_claims(r["token"].as_str().unwrap())["vrs"], serde_json::json!({"b": "2"}));
    let body = serde_json::json!({ "token": s["refresh_token"], "vars": {} }).to_string();
    let r = server.call(Method::POST, REFRESH, KEY, Some(&body)).await.ok();
    assert_eq!(jwt_claims(r["token"].as_str().unwrap())["vrs"], serde_json::json!({"a": "1"}));
});

server_test!(refresh_rejects_missing_bad_and_session_tokens, |server| {
    server.call(Method::POST, REFRESH, KEY, Some("{}")).await.assert_error(400, 3, "Refresh token is required.");
    server
        .call(Method::POST, REFRESH, KEY, Some(r#"{"token":"not.a.jwt"}"#))
        .await
        .assert_error(401, 16, "Refresh token invalid or expired.");
    let s = server.auth_device("device-refresh-001", None).await;
    // A session token is signed with the other key.
    let body = serde_json::json!({ "token": s["token"] }).to_string();
    server.call(Method::POST, REFRESH, KEY, Some(&body)).await.assert_error(401, 16, "Refresh token invalid or expired.");
    let body = serde_json::json!({ "token": s["refresh_token"] }).to_string();
    server.call(Method::POST, REFRESH, Auth::None, Some(&body)).await.assert_error(401, 16, "Server key required");
});

server_test!(refresh_of_a_deleted_account_is_not_found, |server| {
    let s = server.auth_device("device-refresh-002", None).await;
    let token = s["token"].as_str().unwrap();
    server.call(Method::DELETE, "/v2/account", Auth::Bearer(token), None).await.ok();
    let body = serde_json::json!({ "token": s["refresh_token"] }).to_string();
    // Deleting logs out every token issued before the deletion's second; one of that second is
    // still valid and finds no account (Nakama's answers).
    let reply = server.call(Method::POST, REFRESH, KEY, Some(&body)).await;
    if reply.status == 401 {
        reply.assert_error(401, 16, "Refresh token invalid or expired.");
    } else {
        reply.assert_error(404, 5, "User account not found.");
    }
});

server_test!(logout_of_one_token_revokes_exactly_that_token, |server| {
    let s = server.auth_device("device-logout-001", None).await;
    let token = s["token"].as_str().unwrap();
    let body = serde_json::json!({ "token": token }).to_string();
    server.call(Method::POST, "/v2/session/logout", Auth::Bearer(token), Some(&body)).await.ok();
    server.call(Method::GET, "/v2/account", Auth::Bearer(token), None).await.assert_error(401, 16, "Auth token invalid");
    // The refresh token was not named, so it still works.
    let body = serde_json::json!({ "token": s["refresh_token"] }).to_string();
    server.call(Method::POST, REFRESH, KEY, Some(&body)).await.ok();
});

server_test!(logout_with_refresh_token_stops_refresh, |server| {
    let s = server.auth_device("device-logout-002", None).await;
    let token = s["token"].as_str().unwrap();
    let body = serde_json::json!({ "token": token, "refresh_token": s["refresh_token"] }).to_string();
    server.call(Method::POST, "/v2/session/logout", Auth::Bearer(token), Some(&body)).await.ok();
    let body = serde_json::json!({ "token": s["refresh_token"] }).to_string();
    server.call(Method::POST, REFRESH, KEY, Some(&body)).await.assert_error(401, 16, "Refresh token invalid or expired.");
});

server_test!(logout_rejects_tokens_of_other_users_and_changes_nothing, |server| {
    let mine = server.auth_device("device-logout-003", None).await;
    let theirs = server.auth_device("device-logout-004", None).await;
    let token = mine["token"].as_str().unwrap();
    let body = serde_json::json!({ "token": theirs["token"] }).to_string();
    server
        .call(Method::POST, "/v2/session/logout", Auth::Bearer(token), Some(&body))
        .await
        .assert_error(400, 3, "Session token invalid.");
    let body = serde_json::json!({ "refresh_token": theirs["refresh_token"] }).to_string();
    server
        .call(Method::POST, "/v2/session/logout", Auth::Bearer(token), Some(&body))
        .await
        .assert_error(400, 3, "Refresh token invalid.");
    // A valid session token paired with a bad refresh token revokes nothing.
    let body = serde_json::json!({ "token": token, "refresh_token": "bad" }).to_string();
    server.call(Method::POST, "/v2/session/logout", Auth::Bearer(token), Some(&body)).await.assert_error(400, 3, "Refresh token invalid.");
    server.call(Method::GET, "/v2/account", Auth::Bearer(token), None).await.ok();
    server.call(Method::GET, "/v2/account", Auth::Bearer(theirs["token"].as_str().unwrap()), None).await.ok();
});

server_test!(logout_everything_revokes_all_earlier_tokens_but_not_later_ones, |server| {
    let a = server.auth_device("device-logout-005", None).await;
    let b = server.auth_device("device-logout-005", None).await;
    let ta = a["token"].as_str().unwrap();
    server.call(Method::POST, "/v2/session/logout", Auth::Bearer(ta), Some("{}")).await.ok();
    for t in [ta, b["token"].as_str().unwrap()] {
        server.call(Method::GET, "/v2/account", Auth::Bearer(t), None).await.assert_error(401, 16, "Auth token invalid");
    }
    let body = serde_json::json!({ "token": b["refresh_token"] }).to_string();
    server.call(Method::POST, REFRESH, KEY, Some(&body)).await.assert_error(401, 16, "Refresh token invalid or expired.");
    // Signing in again right away (even within the same second) works.
    let c = server.auth_device("device-logout-005", None).await;
    server.call(Method::GET, "/v2/account", Auth::Bearer(c["token"].as_str().unwrap()), None).await.ok();
});

server_test!(single_session_invalidates_earlier_tokens, |c| { c.session.single_session = true; }, |server| {
    let first = server.auth_device("device-single-0001", None).await;
    let second = server.auth_device("device-single-0001", None).await;
    server
        .call(Method::GET, "/v2/account", Auth::Bearer(first["token"].as_str().unwrap()), None)
        .await
        .assert_error(401, 16, "Auth token invalid");
    server.call(Method::GET, "/v2/account", Auth::Bearer(second["token"].as_str().unwrap()), None).await.ok();
});
