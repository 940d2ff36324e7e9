//! Status and presence between users over real sockets: follow, update, unfollow, disconnect
//! clean-up, and the `online` flag.

use kizuna_testkit::{jwt_claims, server_test, Auth};
use reqwest::Method;
use serde_json::json;

server_test!(followers_see_joins_updates_and_leaves, |server| {
    let a = server.auth_device("device-status-aaaa", Some("alice")).await["token"].as_str().unwrap().to_owned();
    let b = server.auth_device("device-status-bbbb", Some("bob")).await["token"].as_str().unwrap().to_owned();
    let b_id = jwt_claims(&b)["uid"].as_str().unwrap().to_owned();
    let mut alice = server.socket(&format!("token={a}")).await.unwrap();
    // Nobody online yet: the reply lists no presences.
    let reply = alice.request(json!({"cid": "1", "status_follow": {"usernames": ["bob"]}})).await;
    assert_eq!(reply, json!({"cid": "1", "status": {}}));
    // Bob appears online by connecting with status=true.
    let mut bob = server.socket(&format!("token={b}&status=true&format=protobuf")).await.unwrap();
    let joined = alice.recv().await;
    let join = &joined["status_presence_event"]["joins"][0];
    assert_eq!((join["user_id"].as_str(), join["username"].as_str(), join["status"].as_str()), (Some(b_id.as_str()), Some("bob"), Some("")));
    let bob_session = join["session_id"].as_str().unwrap().to_owned();
    // An update is a leave of the old status and a join of the new one.
    // Bob's socket follows Bob too, so it also gets these events; skip them there.
    assert_eq!(bob.request_skipping_pushes(json!({"cid": "2", "status_update": {"status": "in a match"}})).await, json!({"cid": "2"}));
    let updated = alice.recv().await;
    assert_eq!(updated["status_presence_event"]["leaves"][0]["status"], "");
    assert_eq!(updated["status_presence_event"]["joins"][0]["status"], "in a match");
    // A new follower gets the current presence in the reply.
    let mut carol = server.socket(&format!("token={}", server.new_user_token().await)).await.unwrap();
    let reply = carol.request(json!({"cid": "3", "status_follow": {"user_ids": [b_id]}})).await;
    assert_eq!(reply["status"]["presences"][0]["session_id"], bob_session.as_str());
    assert_eq!(reply["status"]["presences"][0]["status"], "in a match");
    // No status: Bob appears offline.
    bob.request_skipping_pushes(json!({"cid": "4", "status_update": {}})).await;
    assert_eq!(alice.recv().await["status_presence_event"]["leaves"][0]["status"], "in a match");
    assert_eq!(carol.recv().await["status_presence_event"]["leaves"][0]["session_id"], bob_session.as_str());
    // Carol unfollows; Bob comes back; only Alice hears it.
    assert_eq!(carol.request(json!({"cid": "5", "status_unfollow": {"user_ids": [b_id]}})).await, json!({"cid": "5"}));
    bob.request_skipping_pushes(json!({"cid": "6", "status_update": {"status": "back"}})).await;
    assert_eq!(alice.recv().await["status_presence_event"]["joins"][0]["status"], "back");
    assert_eq!(carol.request(json!({"cid": "7", "ping": {}})).await, json!({"cid": "7", "pong": {}}));
    // Bob disconnects: Alice sees him leave.
    drop(bob);
    assert_eq!(alice.recv().await["status_presence_event"]["leaves"][0]["user_id"], b_id.as_str());
});

server_test!(online_flag_follows_status_presence, |server| {
    let a = server.new_user_token().await;
    let b = server.new_user_token().await;
    let b_id = jwt_claims(&b)["uid"].as_str().unwrap().to_owned();
    let online = || async {
        let users = server.call(Method::GET, &format!("/v2/user?ids={b_id}"), Auth::Bearer(&a), None).await.ok();
        users["users"][0]["online"].as_bool().unwrap_or(false)
    };
    assert!(!online().await);
    // A socket without status does not make a user online.
    let mut plain = server.socket(&format!("token={b}")).await.unwrap();
    plain.request(json!({"cid": "1", "ping": {}})).await;
    assert!(!online().await);
    plain.request_skipping_pushes(json!({"cid": "2", "status_update": {"status": ""}})).await;
    assert!(online().await);
    let account = server.call(Method::GET, "/v2/account", Auth::Bearer(&b), None).await.ok();
    assert_eq!(account["user"]["online"], true);
    plain.request_skipping_pushes(json!({"cid": "3", "status_update": {}})).await;
    assert!(!online().await);
});

server_test!(a_users_own_sessions_see_each_others_status, |server| {
    let t = server.new_user_token().await;
    let mut first = server.socket(&format!("token={t}")).await.unwrap();
    first.request(json!({"cid": "1", "ping": {}})).await;
    let _second = server.socket(&format!("token={t}&status=true")).await.unwrap();
    let event = first.recv().await;
    assert_eq!(event["status_presence_event"]["joins"][0]["user_id"], jwt_claims(&t)["uid"]);
});

server_test!(status_requests_validate_their_input, |server| {
    let t = server.new_user_token().await;
    let mut s = server.socket(&format!("token={t}")).await.unwrap();
    let bad = |cid: &str, message: &str| json!({"cid": cid, "error": {"code": 3, "message": message}});
    assert_eq!(s.request(json!({"cid": "1", "status_follow": {"user_ids": ["nope"]}})).await, bad("1", "Invalid user identifier"));
    assert_eq!(s.request(json!({"cid": "2", "status_follow": {"usernames": [""]}})).await, bad("2", "Invalid username"));
    assert_eq!(s.request(json!({"cid": "3", "status_unfollow": {"user_ids": ["nope"]}})).await, bad("3", "Invalid user identifier"));
    let long = "x".repeat(2049);
    assert_eq!(
        s.request(json!({"cid": "4", "status_update": {"status": long}})).await,
        bad("4", "Status must be 2048 characters or less")
    );
    // Unknown users and usernames are skipped silently; the socket stays open.
    let reply = s.request(json!({"cid": "5", "status_follow": {"user_ids": [uuid::Uuid::new_v4().to_string()], "usernames": ["nobody"]}})).await;
    assert_eq!(reply, json!({"cid": "5", "status": {}}));
});
