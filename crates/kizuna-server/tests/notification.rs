//! Notifications: live delivery to every socket of the recipient, the stored list with its
//! cacheable cursor, and deletion.

use kizuna_core::notification::NotificationSend;
use kizuna_testkit::{jwt_claims, server_test, Auth};
use reqwest::Method;
use serde_json::json;

fn note(user_id: uuid::Uuid, subject: &str, persistent: bool) -> NotificationSend {
    NotificationSend { user_id, subject: subject.into(), content: r#"{"reward":10}"#.into(), code: 101, sender_id: None, persistent }
}

server_test!(notifications_reach_every_socket_of_the_user, |server| {
    let token = server.new_user_token().await;
    let uid: uuid::Uuid = jwt_claims(&token)["uid"].as_str().unwrap().parse().unwrap();
    let mut json_socket = server.socket(&format!("token={token}")).await.unwrap();
    let mut pb_socket = server.socket(&format!("token={token}&format=protobuf")).await.unwrap();
    // Make sure both sockets are registered before sending (their first reply proves it).
    json_socket.request(json!({"cid": "1", "ping": {}})).await;
    pb_socket.request(json!({"cid": "1", "ping": {}})).await;
    let core = server.running().core();
    core.notifications_send(vec![note(uid, "stored", true), note(uid, "live only", false)]).await.unwrap();
    for socket in [&mut json_socket, &mut pb_socket] {
        let push = socket.recv().await;
        assert!(push.get("cid").is_none());
        let list = push["notifications"]["notifications"].as_array().unwrap().clone();
        assert_eq!(list.len(), 2);
        assert_eq!((list[0]["subject"].as_str(), list[0]["code"].as_i64(), list[0]["persistent"].as_bool()), (Some("stored"), Some(101), Some(true)));
        assert_eq!(list[1]["subject"], "live only");
        assert!(list[1].get("persistent").is_none());
        assert_eq!(list[0]["sender_id"], "00000000-0000-0000-0000-000000000000");
        assert_eq!(serde_json::from_str::<serde_json::Value>(list[0]["content"].as_str().unwrap()).unwrap(), json!({"reward": 10}));
    }
    // Only the persistent one was stored; listed with an empty sender.
    let listed = server.call(Method::GET, "/v2/notification?limit=10", Auth::Bearer(&token), None).await.ok();
    let items = listed["notifications"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["subject"].as_str(), items[0]["persistent"].as_bool()), (Some("stored"), Some(true)));
    assert!(items[0].get("sender_id").is_none());
});

server_test!(listing_pages_oldest_first_with_a_cacheable_cursor, |server| {
    let token = server.new_user_token().await;
    let uid: uuid::Uuid = jwt_claims(&token)["uid"].as_str().unwrap().parse().unwrap();
    let core = server.running().core();
    for i in 0..3 {
        core.notifications_send(vec![note(uid, &format!("n{i}"), true)]).await.unwrap();
    }
    async fn list(server: &kizuna_testkit::TestServer, token: &str, q: String) -> kizuna_testkit::Reply {
        server.call(Method::GET, &format!("/v2/notification?{q}"), Auth::Bearer(token), None).await
    }
    let get = |q: String| list(&server, &token, q);
    // Default limit 1: the oldest.
    let first = get(String::new()).await.ok();
    assert_eq!(first["notifications"][0]["subject"], "n0");
    let cursor = first["cacheable_cursor"].as_str().unwrap().to_owned();
    let rest = get(format!("limit=10&cacheable_cursor={cursor}")).await.ok();
    let subjects: Vec<&str> = rest["notifications"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["n1", "n2"]);
    // Nothing newer: no notifications, and the cursor comes back unchanged.
    let after = rest["cacheable_cursor"].as_str().unwrap().to_owned();
    let empty = get(format!("limit=10&cacheable_cursor={after}")).await.ok();
    assert!(empty.get("notifications").is_none());
    assert_eq!(empty["cacheable_cursor"], after.as_str());
    // A later notification shows up behind the cached cursor.
    core.notifications_send(vec![note(uid, "n3", true)]).await.unwrap();
    let newer = get(format!("limit=10&cacheable_cursor={after}")).await.ok();
    assert_eq!(newer["notifications"][0]["subject"], "n3");
    get("limit=0".into()).await.assert_error(400, 3, "Invalid limit - limit must be between 1 and 100.");
    get("limit=101".into()).await.assert_error(400, 3, "Invalid limit - limit must be between 1 and 100.");
    get("cacheable_cursor=%%%".into()).await.assert_error(400, 3, "Malformed cursor was used.");
});

server_test!(deleting_notifications_ignores_unknown_ids, |server| {
    let token = server.new_user_token().await;
    let uid: uuid::Uuid = jwt_claims(&token)["uid"].as_str().unwrap().parse().unwrap();
    server.running().core().notifications_send(vec![note(uid, "a", true), note(uid, "b", true)]).await.unwrap();
    let listed = server.call(Method::GET, "/v2/notification?limit=10", Auth::Bearer(&token), None).await.ok();
    let id = listed["notifications"][0]["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::new_v4();
    server.call(Method::DELETE, &format!("/v2/notification?ids={id}&ids={unknown}"), Auth::Bearer(&token), None).await.ok();
    let listed = server.call(Method::GET, "/v2/notification?limit=10", Auth::Bearer(&token), None).await.ok();
    assert_eq!(listed["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(listed["notifications"][0]["subject"], "b");
    // Another user cannot delete them.
    let other = server.new_user_token().await;
    let remaining = listed["notifications"][0]["id"].as_str().unwrap().to_owned();
    server.call(Method::DELETE, &format!("/v2/notification?ids={remaining}"), Auth::Bearer(&other), None).await.ok();
    let listed = server.call(Method::GET, "/v2/notification?limit=10", Auth::Bearer(&token), None).await.ok();
    assert_eq!(listed["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(server.call(Method::DELETE, "/v2/notification", Auth::Bearer(&token), None).await.ok(), json!({}));
});

#[test]
fn runtime_notification_rules() {
    use kizuna_core::notification::check_runtime_notification;
    let uid = uuid::Uuid::new_v4();
    assert!(check_runtime_notification(&note(uid, "s", true)).is_ok());
    let mut n = note(uid, "s", true);
    n.code = -1500;
    assert!(check_runtime_notification(&n).is_ok());
    for code in [0, -1, -9, -999, -2001] {
        n.code = code;
        assert!(check_runtime_notification(&n).is_err(), "{code}");
    }
    let mut n = note(uid, "", true);
    assert!(check_runtime_notification(&n).is_err());
    n.subject = "s".into();
    n.content = "[1]".into();
    assert!(check_runtime_notification(&n).is_err());
}
