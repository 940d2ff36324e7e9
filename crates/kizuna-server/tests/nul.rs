//! NUL characters (issue #18): PostgreSQL cannot store them in text or JSON, SQLite can. Both
//! backends refuse them the same way, and nothing is written.

use kizuna_testkit::server_test;
use reqwest::Method;
use serde_json::json;

const NUL: &str = "Text must not contain NUL characters.";

server_test!(nul_characters_get_the_same_clear_answer_on_every_backend, |server| {
    let user = server.new_user().await;
    let auth = || user.auth();
    let cases: [(Method, &str, Option<String>); 7] = [
        // A storage value whose JSON holds an escaped NUL, and a collection with a NUL.
        (Method::PUT, "/v2/storage", Some(json!({"objects": [{"collection": "c", "key": "k", "value": "{\"a\":\"x\\u0000y\"}"}]}).to_string())),
        (Method::PUT, "/v2/storage", Some(json!({"objects": [{"collection": "c\u{0}", "key": "k", "value": "{}"}]}).to_string())),
        (Method::PUT, "/v2/account", Some(json!({"display_name": "a\u{0}b"}).to_string())),
        (Method::POST, "/v2/group", Some(json!({"name": "g\u{0}", "open": true}).to_string())),
        // Listing filters in the query string and a path parameter.
        (Method::GET, "/v2/group?name=g%00", None),
        (Method::GET, "/v2/storage/c%00", None),
        (Method::GET, "/v2/user?usernames=a%00b", None),
    ];
    for (method, path, body) in cases {
        let reply = server.call(method.clone(), path, auth(), body.as_deref()).await;
        assert_eq!((reply.status.as_u16(), reply.body["code"].as_i64(), reply.body["message"].as_str()), (400, Some(3), Some(NUL)), "{method} {path} {body:?}");
    }
    // Nothing was written.
    let objects = server.call(Method::GET, "/v2/storage/c?limit=10", auth(), None).await.ok();
    assert!(objects.get("objects").is_none(), "{objects}");
    let account = server.call(Method::GET, "/v2/account", auth(), None).await.ok();
    assert!(account["user"].get("display_name").is_none(), "{account}");

    // Chat over the socket, in both formats: content and room names.
    for format in ["json", "protobuf"] {
        let mut socket = server.socket_for(&user, format).await;
        // Nakama's own rule for room names (no control characters) answers first.
        let reply = socket.call(json!({"cid": "1", "channel_join": {"target": "room\u{0}", "type": 1}})).await;
        let control = "Channel name must not contain control chars: Invalid channel target";
        assert_eq!(reply["error"], json!({"code": 3, "message": control}), "{format}");
        let joined = socket.call(json!({"cid": "2", "channel_join": {"target": "room", "type": 1}})).await;
        let channel = joined["channel"]["id"].as_str().unwrap().to_owned();
        let send = json!({"cid": "3", "channel_message_send": {"channel_id": channel, "content": "{\"t\":\"a\\u0000\"}"}});
        assert_eq!(socket.call(send).await["error"], json!({"code": 3, "message": NUL}), "{format}");
    }
});
