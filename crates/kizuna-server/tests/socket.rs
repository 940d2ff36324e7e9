//! The realtime socket: handshake rejections, both formats, ping/pong, protocol errors,
//! single-socket replacement and clean teardown.

use kizuna_testkit::{server_test, socket::Received};
use serde_json::json;

server_test!(handshake_rejects_bad_tokens_and_formats_before_upgrading, |server| {
    let token = server.new_user_token().await;
    for (query, status, body) in [
        ("", 401, "Missing or invalid token"),
        ("token=garbage", 401, "Missing or invalid token"),
        (&*format!("token={token}&format=xml"), 400, "Invalid format parameter"),
    ] {
        let Err((got_status, got_body)) = server.socket(query).await else { panic!("{query} connected") };
        assert_eq!((got_status, got_body.trim()), (status, body), "{query}");
    }
});

server_test!(json_and_protobuf_sockets_answer_ping_with_pong, |server| {
    let token = server.new_user_token().await;
    for format in ["json", "protobuf"] {
        let mut socket = server.socket(&format!("token={token}&format={format}&status=false&lang=en")).await.unwrap();
        assert_eq!(socket.request(json!({"cid": "7", "ping": {}})).await, json!({"cid": "7", "pong": {}}), "{format}");
        // A client pong gets no reply; the next request's reply comes next.
        socket.send(json!({"pong": {}})).await;
        assert_eq!(socket.request(json!({"cid": "8", "ping": {}})).await, json!({"cid": "8", "pong": {}}), "{format}");
    }
});

server_test!(rpc_over_the_socket_knows_no_functions_yet, |server| {
    let token = server.new_user_token().await;
    let mut socket = server.socket(&format!("token={token}")).await.unwrap();
    let reply = socket.request(json!({"cid": "1", "rpc": {"id": "echo", "payload": "{}"}})).await;
    assert_eq!(reply, json!({"cid": "1", "error": {"code": 6, "message": "RPC function not found"}}));
    let reply = socket.request(json!({"cid": "2", "rpc": {"id": ""}})).await;
    assert_eq!(reply, json!({"cid": "2", "error": {"code": 3, "message": "RPC ID must be set"}}));
});

server_test!(unbuilt_features_answer_an_error_and_keep_the_socket, |server| {
    let token = server.new_user_token().await;
    let mut socket = server.socket(&format!("token={token}")).await.unwrap();
    let reply = socket.request(json!({"cid": "3", "party_create": {"open": true, "max_size": 2}})).await;
    assert_eq!(reply["cid"], "3");
    assert_eq!(reply["error"]["message"], "party_create is not implemented by this server yet");
    assert_eq!(socket.request(json!({"cid": "4", "ping": {}})).await["pong"], json!({}));
});

server_test!(protocol_errors_close_the_socket_as_nakama_does, |server| {
    let token = server.new_user_token().await;
    let url = format!("token={token}");
    // No member: error 2, then close.
    let mut s = server.socket(&url).await.unwrap();
    assert_eq!(s.request(json!({"cid": "1"})).await, json!({"cid": "1", "error": {"code": 2, "message": "Missing message."}}));
    assert_eq!(s.closed().await, Some((1000, "server-side session disconnect".to_owned())));
    // A member only the server sends: error 1, then close.
    let mut s = server.socket(&url).await.unwrap();
    let reply = s.request(json!({"cid": "2", "notifications": {}})).await;
    assert_eq!(reply, json!({"cid": "2", "error": {"code": 1, "message": "Unrecognized message."}}));
    assert!(s.closed().await.is_some());
    // Undecodable JSON, an unknown member, two members: closed with no error envelope.
    for bad in [r#"{"cid":"3","ping":"#, r#"{"cid":"3","ping":{},"bogus":1}"#, r#"{"ping":{},"pong":{}}"#] {
        let mut s = server.socket(&url).await.unwrap();
        s.send_text(bad).await;
        assert_eq!(s.closed().await, Some((1000, "received malformed payload".to_owned())), "{bad}");
    }
    // A binary frame on a JSON socket, and an oversize message, close the socket.
    let mut s = server.socket(&url).await.unwrap();
    s.send_binary(vec![1, 2, 3]).await;
    assert!(matches!(s.next().await, Received::Close(_)));
    let mut s = server.socket(&url).await.unwrap();
    s.send_text(&format!(r#"{{"cid":"{}","ping":{{}}}}"#, "x".repeat(5000))).await;
    assert_eq!(s.closed().await, Some((1009, "message too big".to_owned())));
});

server_test!(single_socket_replaces_the_older_socket, |c| { c.session.single_socket = true; }, |server| {
    let token = server.new_user_token().await;
    let mut first = server.socket(&format!("token={token}")).await.unwrap();
    assert_eq!(first.request(json!({"cid": "1", "ping": {}})).await["pong"], json!({}));
    let mut second = server.socket(&format!("token={token}")).await.unwrap();
    let pushed = first.recv().await;
    let n = &pushed["notifications"]["notifications"][0];
    assert_eq!((n["subject"].as_str(), n["code"].as_i64(), n["content"].as_str()), (Some("single_socket"), Some(-7), Some("{}")));
    assert!(pushed.get("cid").is_none());
    assert_eq!(first.closed().await, Some((1000, "server-side session disconnect".to_owned())));
    assert_eq!(second.request(json!({"cid": "2", "ping": {}})).await["pong"], json!({}));
});

server_test!(closed_sockets_leave_the_registry, |server| {
    let token = server.new_user_token().await;
    let uid = kizuna_testkit::jwt_claims(&token)["uid"].as_str().unwrap().parse().unwrap();
    let mut a = server.socket(&format!("token={token}")).await.unwrap();
    let mut b = server.socket(&format!("token={token}&format=protobuf")).await.unwrap();
    a.request(json!({"cid": "1", "ping": {}})).await;
    b.request(json!({"cid": "1", "ping": {}})).await;
    let sessions = server.running().core().sessions();
    assert_eq!(sessions.of_user(uid).len(), 2);
    // A protocol error on one socket does not affect the other.
    a.send(json!({"cid": "9"})).await;
    a.closed().await;
    assert_eq!(b.request(json!({"cid": "2", "ping": {}})).await["cid"], "2");
    drop(b);
    // Wait for the server to notice both closes, bounded.
    tokio::time::timeout(kizuna_testkit::socket::WAIT, sessions.wait_until_gone(uid)).await.expect("sessions removed");
});

server_test!(deleting_the_account_disconnects_its_sockets, |server| {
    let token = server.new_user_token().await;
    let mut s = server.socket(&format!("token={token}")).await.unwrap();
    s.request(json!({"cid": "1", "ping": {}})).await;
    server.call(reqwest::Method::DELETE, "/v2/account", kizuna_testkit::Auth::Bearer(&token), None).await.ok();
    assert_eq!(s.closed().await, Some((1000, "server-side session disconnect".to_owned())));
    // And the token can no longer open one.
    assert_eq!(server.socket(&format!("token={token}")).await.err().map(|e| e.0), Some(401));
});

server_test!(a_pipelining_client_that_reads_gets_every_answer, |server| {
    let token = server.new_user_token().await;
    for format in ["json", "protobuf"] {
        let mut socket = server.socket(&format!("token={token}&format={format}")).await.unwrap();
        // Far more requests at once than the outgoing queue holds (64): the server stops reading
        // while the queue is full instead of closing a client that reads its answers.
        let n = 600;
        for i in 0..n {
            socket.send(json!({"cid": i.to_string(), "ping": {}})).await;
        }
        for i in 0..n {
            assert_eq!(socket.recv().await, json!({"cid": i.to_string(), "pong": {}}), "{format}");
        }
    }
});
