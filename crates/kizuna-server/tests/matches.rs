//! Relayed matches over the socket and match listing over REST (semantics §11): create, join by
//! id and by matchmaker token, presence events, data relay with and without a presence filter,
//! leave and disconnect, `session.single_match`, and bad input.

use kizuna_testkit::{server_test, socket::TestSocket, Auth, TestServer, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

async fn create(s: &mut TestSocket, name: &str) -> Value {
    let reply = s.call(json!({"cid": "c", "match_create": {"name": name}})).await;
    assert!(reply.get("match").is_some(), "create failed: {reply}");
    reply["match"].clone()
}

async fn join(s: &mut TestSocket, match_id: &str) -> Value {
    let reply = s.call(json!({"cid": "j", "match_join": {"match_id": match_id}})).await;
    assert!(reply.get("match").is_some(), "join failed: {reply}");
    reply["match"].clone()
}

/// Proves that nothing was queued for `s` so far: the next envelope is the reply to a ping.
async fn assert_nothing_pending(s: &mut TestSocket) {
    assert_eq!(s.request(json!({"cid": "quiet", "ping": {}})).await, json!({"cid": "quiet", "pong": {}}));
}

fn presence_of(user: &TestUser, m: &Value) -> Value {
    json!({"user_id": user.id.to_string(), "session_id": m["self"]["session_id"], "username": user.username})
}

fn sign(claims: Value, key: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(key.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap()
}

async fn list(server: &TestServer, user: &TestUser, query: &str) -> kizuna_testkit::Reply {
    server.call(Method::GET, &format!("/v2/match?{query}"), user.auth(), None).await
}

server_test!(relayed_match_members_see_each_other_and_relay_data, |server| {
    let (a, b, c) = (server.new_user().await, server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "protobuf").await;
    let mut sc = server.socket_for(&c, "json").await;

    let created = create(&mut sa, "").await;
    let id = created["match_id"].as_str().unwrap().to_owned();
    assert!(id.ends_with('.') && uuid::Uuid::parse_str(&id[..id.len() - 1]).is_ok(), "relayed id: {id}");
    assert_eq!((created["authoritative"].as_bool(), created["size"].as_i64()), (None, Some(1)));
    assert!(created.get("presences").is_none() && created.get("label").is_none());
    assert_eq!(created["self"]["user_id"], a.id.to_string());
    // The creator sees its own join.
    let own = sa.next_push("match_presence_event").await;
    assert_eq!((own["match_id"].as_str(), &own["joins"]), (Some(id.as_str()), &json!([presence_of(&a, &created)])));

    // B joins: the reply lists the others, and its size counts only them (Nakama's count).
    let joined = join(&mut sb, &id).await;
    assert_eq!((joined["match_id"].as_str(), joined["size"].as_i64()), (Some(id.as_str()), Some(1)));
    assert_eq!(joined["presences"], json!([presence_of(&a, &created)]));
    for s in [&mut sa, &mut sb] {
        let ev = s.next_push("match_presence_event").await;
        assert_eq!(ev["joins"], json!([presence_of(&b, &joined)]));
    }
    // Joining again changes nothing, and now the reply lists everyone.
    let again = join(&mut sb, &id).await;
    assert_eq!(again["size"].as_i64(), Some(2));

    // Data goes to everyone else, encoded for each socket's format; no reply to the sender.
    sa.send(json!({"match_data_send": {"match_id": id, "op_code": "7", "data": "aGVsbG8=", "reliable": true}})).await;
    let got = sb.next_push("match_data").await;
    assert_eq!(got, json!({"match_id": id, "presence": presence_of(&a, &created), "op_code": "7", "data": "aGVsbG8=", "reliable": true}));
    assert_nothing_pending(&mut sa).await;

    // With a filter, only the listed members receive it, the sender too when listed.
    sb.send(json!({"match_data_send": {"match_id": id, "op_code": 1, "data": "AQI=", "presences": [presence_of(&b, &joined)]}})).await;
    let echo = sb.next_push("match_data").await;
    assert_eq!((echo["op_code"].as_str(), echo["data"].as_str()), (Some("1"), Some("AQI=")));
    assert_nothing_pending(&mut sa).await;
    sb.send(json!({"match_data_send": {"match_id": id, "op_code": 2, "presences": [presence_of(&a, &created)]}})).await;
    assert_eq!(sa.next_push("match_data").await["op_code"], "2");
    assert_nothing_pending(&mut sb).await;
    // A malformed filter drops the message.
    sa.send(json!({"match_data_send": {"match_id": id, "op_code": 3, "presences": [{"user_id": "x", "session_id": "y"}]}})).await;
    assert_nothing_pending(&mut sa).await;
    assert_nothing_pending(&mut sb).await;

    // Someone outside the match is ignored without a word.
    sc.send(json!({"match_data_send": {"match_id": id, "op_code": 4, "data": "AA=="}})).await;
    assert_nothing_pending(&mut sc).await;
    assert_nothing_pending(&mut sa).await;
    assert_nothing_pending(&mut sb).await;

    // The match is listed with its size.
    let listed = list(&server, &c, "").await.ok();
    assert_eq!(listed["matches"], json!([{"match_id": id, "size": 2}]));

    // Leaving: acked; the other member is told; a dropped socket leaves too.
    assert_eq!(sb.call(json!({"cid": "l", "match_leave": {"match_id": id}})).await, json!({"cid": "l"}));
    assert_eq!(sa.next_push("match_presence_event").await["leaves"], json!([presence_of(&b, &joined)]));
    join(&mut sb, &id).await;
    sa.next_push("match_presence_event").await;
    drop(sb);
    assert_eq!(sa.next_push("match_presence_event").await["leaves"][0]["user_id"], b.id.to_string());

    // When the last member leaves the match is gone.
    assert_eq!(sa.call(json!({"cid": "l", "match_leave": {"match_id": id}})).await, json!({"cid": "l"}));
    let gone = sc.call(json!({"cid": "g", "match_join": {"match_id": id}})).await;
    assert_eq!(gone, json!({"cid": "g", "error": {"code": 4, "message": "Match not found"}}));
    assert_eq!(list(&server, &c, "").await.ok(), json!({}));
});

server_test!(named_matches_meet_in_one_match, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "json").await;
    let first = create(&mut sa, "castle").await;
    let second = create(&mut sb, "castle").await;
    // UUIDv5 of the name in the DNS namespace.
    let expected = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, b"castle");
    assert_eq!(first["match_id"], format!("{expected}."));
    assert_eq!(second["match_id"], first["match_id"]);
    assert_eq!((first["size"].as_i64(), second["size"].as_i64()), (Some(1), Some(2)));
    assert_eq!(second["presences"], json!([presence_of(&a, &first)]));
    // Creating it again from the same socket is not a new join.
    let third = create(&mut sa, "castle").await;
    assert_eq!(third["presences"].as_array().map(Vec::len), Some(2));
    assert_ne!(create(&mut sa, "keep").await["match_id"], first["match_id"]);
});

server_test!(match_tokens_and_bad_match_input, |server| {
    let a = server.new_user().await;
    let mut s = server.socket_for(&a, "json").await;
    let err = |code: i64, message: &str| json!({"cid": "e", "error": {"code": code, "message": message}});
    assert_eq!(s.call(json!({"cid": "e", "match_join": {}})).await, err(3, "No match ID or token found"));
    for bad in ["", "nope", "nope.", "6f1e2a56-0000-4000-8000-000000000000"] {
        assert_eq!(s.call(json!({"cid": "e", "match_join": {"match_id": bad}})).await, err(3, "Invalid match ID"), "{bad}");
        assert_eq!(s.call(json!({"cid": "e", "match_leave": {"match_id": bad}})).await, err(3, "Invalid match ID"), "{bad}");
    }
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(s.call(json!({"cid": "e", "match_join": {"match_id": format!("{unknown}.")}})).await, err(4, "Match not found"));
    assert_eq!(s.call(json!({"cid": "e", "match_join": {"match_id": format!("{unknown}.kizuna")}})).await, err(4, "Match not found"));
    // Leaving a match one is not in is fine.
    assert_eq!(s.call(json!({"cid": "l", "match_leave": {"match_id": format!("{unknown}.")}})).await, json!({"cid": "l"}));
    // Bad data: an error without a cid, and the socket stays open.
    s.send(json!({"cid": "d", "match_data_send": {"match_id": "bad", "op_code": 1}})).await;
    assert_eq!(s.recv().await, json!({"error": {"code": 3, "message": "Invalid match ID"}}));

    // Tokens: signed with the session key, `mid` a match id, not expired.
    let exp = chrono_now() + 30;
    for bad in [
        "garbage".to_owned(),
        sign(json!({"mid": format!("{unknown}."), "exp": exp}), "wrongkey"),
        sign(json!({"mid": format!("{unknown}."), "exp": chrono_now() - 5}), "defaultencryptionkey"),
        sign(json!({"mid": "nope", "exp": exp}), "defaultencryptionkey"),
        sign(json!({"exp": exp}), "defaultencryptionkey"),
    ] {
        assert_eq!(s.call(json!({"cid": "e", "match_join": {"token": bad}})).await, err(3, "Invalid match token"));
    }
    // A good token creates the relayed match on first join.
    let token = sign(json!({"mid": format!("{unknown}."), "exp": exp}), "defaultencryptionkey");
    let joined = s.call(json!({"cid": "t", "match_join": {"token": token}})).await;
    assert_eq!((joined["match"]["match_id"].as_str(), joined["match"]["size"].as_i64()), (Some(format!("{unknown}.").as_str()), None));
    let b = server.new_user().await;
    let mut sb = server.socket_for(&b, "json").await;
    assert_eq!(join(&mut sb, &format!("{unknown}.")).await["presences"][0]["user_id"], a.id.to_string());
});

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

server_test!(match_listing_filters_and_rejects_bad_requests, |server| {
    let users = [server.new_user().await, server.new_user().await, server.new_user().await];
    let mut sockets = Vec::new();
    for u in &users {
        sockets.push(server.socket_for(u, "json").await);
    }
    // One match of 1, one of 2.
    let small = create(&mut sockets[0], "").await["match_id"].as_str().unwrap().to_owned();
    let big = create(&mut sockets[1], "").await["match_id"].as_str().unwrap().to_owned();
    join(&mut sockets[2], &big).await;
    let ids = |v: Value| -> Vec<String> {
        let mut ids: Vec<String> = v["matches"].as_array().into_iter().flatten().map(|m| m["match_id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    let mut both = vec![small.clone(), big.clone()];
    both.sort();
    let u = &users[0];
    assert_eq!(ids(list(&server, u, "").await.ok()), both);
    assert_eq!(ids(list(&server, u, "authoritative=false&limit=100").await.ok()), both);
    assert_eq!(ids(list(&server, u, "min_size=2").await.ok()), vec![big.clone()]);
    assert_eq!(ids(list(&server, u, "max_size=1").await.ok()), vec![small.clone()]);
    assert_eq!(ids(list(&server, u, "min_size=1&max_size=1").await.ok()), vec![small.clone()]);
    assert_eq!(list(&server, u, "limit=1").await.ok()["matches"].as_array().map(Vec::len), Some(1));
    // Authoritative matches only (none exist), or label/query filters (authoritative only).
    assert_eq!(list(&server, u, "authoritative=true").await.ok(), json!({}));
    assert_eq!(list(&server, u, "label=x").await.ok(), json!({}));

    for (query, message) in [
        ("limit=0", "Invalid limit - limit must be between 1 and 100."),
        ("limit=101", "Invalid limit - limit must be between 1 and 100."),
        ("authoritative=false&label=x", "Label filtering is not supported for non-authoritative matches."),
        ("authoritative=false&query=*", "Query filtering is not supported for non-authoritative matches."),
        ("min_size=-1", "Minimum size must be 0 or above."),
        ("max_size=-1", "Maximum size must be 0 or above."),
        ("min_size=3&max_size=2", "Maximum size must be greater than or equal to minimum size when both are specified."),
    ] {
        list(&server, u, query).await.assert_error(400, 3, message);
    }
    // A query is parsed (a malformed one is a server error in Nakama), and lists no relayed match.
    assert_eq!(list(&server, u, "query=%2Blabel.mode%3Actf").await.ok(), json!({}));
    list(&server, u, "query=label.mode%3A").await.assert_error(500, 13, "Error listing matches.");
    server.call(Method::GET, "/v2/match", Auth::None, None).await.assert_error(401, 16, "Auth token required");
});

server_test!(single_match_leaves_the_previous_match, |cfg| {
    cfg.session.single_socket = true;
    cfg.session.single_match = true;
}, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "json").await;
    let first = create(&mut sa, "").await["match_id"].as_str().unwrap().to_owned();
    sa.next_push("match_presence_event").await;
    let joined = join(&mut sb, &first).await;
    sa.next_push("match_presence_event").await;
    let second = create(&mut sa, "").await["match_id"].as_str().unwrap().to_owned();
    // Creating does not leave (as in Nakama); joining does.
    assert_eq!(sa.next_push("match_presence_event").await["joins"][0]["user_id"], a.id.to_string());
    join(&mut sb, &second).await;
    let arrived = sa.next_push("match_presence_event").await;
    assert_eq!((arrived["match_id"].as_str(), arrived["joins"][0]["user_id"].as_str()), (Some(second.as_str()), Some(b.id.to_string().as_str())));
    let left = sa.next_push("match_presence_event").await;
    assert_eq!(left["match_id"], first);
    assert_eq!(left["leaves"][0]["session_id"], joined["self"]["session_id"]);
});
