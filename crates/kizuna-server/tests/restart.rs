//! What must survive a restart: logouts and deleted accounts (issue #18: nothing may be written
//! for a user who does not exist, and logged-out sessions stay logged out), and socket work in
//! flight at shutdown. Each test runs on SQLite and PostgreSQL.

use kizuna_testkit::{socket::Received, Auth, TestBackend, TestServer};
use reqwest::Method;
use serde_json::json;

const KEY: Auth<'static> = Auth::ServerKey("defaultkey");

/// What a deleted account's still-valid tokens get, before and after a restart.
async fn assert_deleted_answers(server: &TestServer, token: &str, refresh_token: &str) {
    let bearer = Auth::Bearer(token);
    server.call(Method::GET, "/v2/account", bearer.clone(), None).await.assert_error(404, 5, "Account not found.");
    let body = serde_json::json!({ "token": refresh_token }).to_string();
    server
        .call(Method::POST, "/v2/account/session/refresh", KEY, Some(&body))
        .await
        .assert_error(404, 5, "User account not found.");
    // Writes of every kind are refused before they reach the database.
    server
        .call(Method::POST, "/v2/group", bearer.clone(), Some(r#"{"name":"ghost group","open":true}"#))
        .await
        .assert_error(404, 5, "Account not found.");
    let write = r#"{"objects":[{"collection":"c","key":"k","value":"{}"}]}"#;
    server.call(Method::PUT, "/v2/storage", bearer.clone(), Some(write)).await.assert_error(404, 5, "Account not found.");
    match server.socket(&format!("token={token}")).await {
        Err((status, _)) => assert_eq!(status, 401),
        Ok(_) => panic!("no socket for a deleted account"),
    }
}

async fn deleted_account_writes_nothing_across_restarts(kind: TestBackend) {
    let Some(server) = TestServer::start(kind).await else { return };
    let user = server.new_user().await;
    server.call(Method::DELETE, "/v2/account", user.auth(), None).await.ok();
    // A token issued in the deletion's second stays valid on Nakama and finds no account; one
    // issued now behaves the same, whatever second the deletion fell in.
    let pair = server.running().core().issue_tokens(user.id, &user.username, Default::default()).unwrap();
    assert_deleted_answers(&server, &pair.token, &pair.refresh_token).await;

    let server = server.restart().await;
    assert_deleted_answers(&server, &pair.token, &pair.refresh_token).await;
    let viewer = server.new_user().await;
    let groups = server.call(Method::GET, "/v2/group?name=ghost%25", viewer.auth(), None).await.ok();
    assert!(groups.get("groups").is_none(), "no group was created: {groups}");
    server.stop().await;
}


async fn logouts_survive_restarts(kind: TestBackend) {
    let Some(server) = TestServer::start(kind).await else { return };
    // One user logs out one token; another logs out everywhere.
    let one = server.auth_device("device-restart-001", None).await;
    let all = server.auth_device("device-restart-002", None).await;
    let kept = server.auth_device("device-restart-003", None).await;
    let token = one["token"].as_str().unwrap();
    let body = serde_json::json!({ "token": token, "refresh_token": one["refresh_token"] }).to_string();
    server.call(Method::POST, "/v2/session/logout", Auth::Bearer(token), Some(&body)).await.ok();
    server.call(Method::POST, "/v2/session/logout", Auth::Bearer(all["token"].as_str().unwrap()), Some("{}")).await.ok();

    let server = server.restart().await;
    for s in [&one, &all] {
        let token = s["token"].as_str().unwrap();
        server.call(Method::GET, "/v2/account", Auth::Bearer(token), None).await.assert_error(401, 16, "Auth token invalid");
        let body = serde_json::json!({ "token": s["refresh_token"] }).to_string();
        server
            .call(Method::POST, "/v2/account/session/refresh", KEY, Some(&body))
            .await
            .assert_error(401, 16, "Refresh token invalid or expired.");
    }
    // Tokens nobody revoked still work after the restart.
    server.call(Method::GET, "/v2/account", Auth::Bearer(kept["token"].as_str().unwrap()), None).await.ok();
    server.stop().await;
}


async fn shutdown_lets_socket_requests_finish(kind: TestBackend) {
    let Some(server) = TestServer::start(kind).await else { return };
    let user = server.new_user().await;
    let mut socket = server.socket_for(&user, "json").await;
    let joined = socket.call(json!({"cid": "j", "channel_join": {"target": "shutdown", "type": 1, "persistence": true}})).await;
    let channel = joined["channel"]["id"].as_str().expect("joined").to_owned();
    // Many writes in flight when the shutdown starts.
    for i in 0..100 {
        let send = json!({"cid": i.to_string(), "channel_message_send": {"channel_id": channel, "content": "{\"n\":1}"}});
        socket.send(send).await;
    }
    let reader = tokio::spawn(async move {
        let (mut acks, mut errors) = (0, Vec::new());
        while let Received::Envelope(v) = socket.next().await {
            if v.get("channel_message_ack").is_some() {
                acks += 1;
            } else if v.get("error").is_some() {
                errors.push(v);
            }
        }
        (acks, errors)
    });
    let core = server.running().core().clone();
    let server = server.restart().await;
    // The old server's shutdown returned only after every session had finished and left.
    assert_eq!(core.sessions().count(), 0);
    let (acks, errors) = reader.await.unwrap();
    // Every request was answered with its result or not read at all; none failed on a closed store.
    assert!(errors.is_empty(), "{errors:?}");
    let id = channel.replace('.', "%2E");
    let history = server.call(Method::GET, &format!("/v2/channel/{id}?limit=100"), user.auth(), None).await.ok();
    let stored = history["messages"].as_array().map_or(0, Vec::len);
    assert_eq!(stored, acks, "every acknowledged message is stored, nothing else");
    server.stop().await;
}


/// A session token for `user_id` signed with `key`, as a forger would make it.
fn forged_token(user_id: &str, key: &str) -> String {
    let now = chrono_now();
    let claims = json!({"tid": "forged", "uid": user_id, "usn": "x", "exp": now + 60, "iat": now});
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(key.as_bytes())).unwrap()
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn unset_session_keys_are_generated_and_kept(kind: TestBackend) {
    // The configuration leaves the session keys at their defaults.
    let Some(server) = TestServer::start_with(kind, |c| c.explicit.clear()).await else { return };
    let user = server.new_user().await;
    let forged = forged_token(&user.id.to_string(), "defaultencryptionkey");
    server.call(Method::GET, "/v2/account", Auth::Bearer(&forged), None).await.assert_error(401, 16, "Auth token invalid");
    server.call(Method::GET, "/v2/account", user.auth(), None).await.ok();
    let file = server.config.data_dir.join(kizuna_server::keys::SESSION_KEYS_FILE);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // Left unset, they are not reported as insecure defaults; set to the default, they are.
    assert!(!server.config.insecure_defaults().contains(&"session.encryption_key"));
    let mut weak = server.config.clone();
    weak.explicit.insert("session.encryption_key".into());
    assert!(weak.insecure_defaults().contains(&"session.encryption_key"));

    // The same keys after a restart: the token still works.
    let server = server.restart().await;
    server.call(Method::GET, "/v2/account", user.auth(), None).await.ok();
    server.stop().await;
}

kizuna_testkit::on_both_backends!(deleted_account_writes_nothing_across_restarts, logouts_survive_restarts, shutdown_lets_socket_requests_finish, unset_session_keys_are_generated_and_kept);
