//! Chat over the socket and history over REST (semantics §5): rooms, direct messages, group
//! channels, presence events, send/update/remove, persistence, history paging both ways with
//! Nakama's cursors, and bad input.

use kizuna_testkit::{server_test, socket::TestSocket, TestServer, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

async fn join(s: &mut TestSocket, target: &str, kind: i64) -> Value {
    let reply = s.call(json!({"cid": "j", "channel_join": {"target": target, "type": kind}})).await;
    assert!(reply.get("channel").is_some(), "join failed: {reply}");
    reply["channel"].clone()
}

async fn send(s: &mut TestSocket, channel: &str, content: Value) -> Value {
    let reply = s.call(json!({"cid": "s", "channel_message_send": {"channel_id": channel, "content": content.to_string()}})).await;
    assert!(reply.get("channel_message_ack").is_some(), "send failed: {reply}");
    reply["channel_message_ack"].clone()
}

async fn history(server: &TestServer, user: &TestUser, channel: &str, query: &str) -> kizuna_testkit::Reply {
    let id = channel.replace('.', "%2E");
    server.call(Method::GET, &format!("/v2/channel/{id}?{query}"), user.auth(), None).await
}

server_test!(room_members_see_presences_and_messages, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "protobuf").await;
    let ca = join(&mut sa, "lobby", 1).await;
    assert_eq!(ca["id"], "2...lobby");
    assert_eq!(ca["room_name"], "lobby");
    assert!(ca.get("presences").is_none(), "nobody else yet");
    assert_eq!((ca["self"]["user_id"].as_str(), ca["self"]["persistence"].as_bool()), (Some(a.id.to_string().as_str()), Some(true)));
    // The joiner sees its own join.
    let own = sa.next_push("channel_presence_event").await;
    assert_eq!(own["joins"][0]["user_id"], a.id.to_string());
    let cb = join(&mut sb, "lobby", 0).await;
    assert_eq!(cb["presences"].as_array().unwrap().len(), 1);
    assert_eq!(cb["presences"][0]["username"], a.username);
    let ev = sa.next_push("channel_presence_event").await;
    assert_eq!((ev["channel_id"].as_str(), ev["room_name"].as_str()), (Some("2...lobby"), Some("lobby")));
    assert_eq!(ev["joins"][0]["user_id"], b.id.to_string());
    sb.next_push("channel_presence_event").await;
    // A message reaches both, the sender included; the ack carries the same id.
    let ack = send(&mut sa, "2...lobby", json!({"hello": "world"})).await;
    assert_eq!((ack["code"].as_i64(), ack["persistent"].as_bool(), ack["username"].as_str()), (Some(0), Some(true), Some(a.username.as_str())));
    for s in [&mut sa, &mut sb] {
        let m = s.next_push("channel_message").await;
        assert_eq!(m["message_id"], ack["message_id"]);
        assert_eq!((m["sender_id"].as_str(), m["room_name"].as_str()), (Some(a.id.to_string().as_str()), Some("lobby")));
        assert_eq!(serde_json::from_str::<Value>(m["content"].as_str().unwrap()).unwrap(), json!({"hello": "world"}));
    }
    // Leaving: the other member is told; B can no longer send there.
    let left = sb.call(json!({"cid": "l", "channel_leave": {"channel_id": "2...lobby"}})).await;
    assert_eq!(left, json!({"cid": "l"}));
    let ev = sa.next_push("channel_presence_event").await;
    assert_eq!(ev["leaves"][0]["user_id"], b.id.to_string());
    let err = sb.call(json!({"cid": "x", "channel_message_send": {"channel_id": "2...lobby", "content": "{}"}})).await;
    assert_eq!(err["error"], json!({"code": 3, "message": "Must join channel before sending messages"}));
    // A dropped socket leaves every channel.
    join(&mut sb, "lobby", 1).await;
    sa.next_push("channel_presence_event").await;
    drop(sb);
    let ev = sa.next_push("channel_presence_event").await;
    assert_eq!(ev["leaves"][0]["user_id"], b.id.to_string());
});

server_test!(hidden_and_non_persistent_members, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "json").await;
    join(&mut sa, "quiet", 1).await;
    sa.next_push("channel_presence_event").await;
    let reply = sb.call(json!({"cid": "j", "channel_join": {"target": "quiet", "type": 1, "hidden": true, "persistence": false}})).await;
    assert_eq!(reply["channel"]["self"]["persistence"], json!(null), "false is omitted");
    let ack = send(&mut sb, "2...quiet", json!({"n": 1})).await;
    assert!(ack.get("persistent").is_some_and(|p| p == false));
    // A receives the message but saw no join for the hidden member.
    let first = sa.recv().await;
    assert!(first.get("channel_message").is_some(), "no presence event for a hidden member: {first}");
    let h = history(&server, &a, "2...quiet", "limit=10").await.ok();
    assert!(h.get("messages").is_none(), "non-persistent messages never reach history");
    let listed = sa.call(json!({"cid": "j2", "channel_join": {"target": "quiet", "type": 1}})).await;
    assert!(listed["channel"]["presences"].as_array().unwrap().iter().all(|p| p["user_id"] != b.id.to_string()));
});

server_test!(edits_and_removals_belong_to_the_sender, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "json").await;
    join(&mut sa, "edit", 1).await;
    join(&mut sb, "edit", 1).await;
    let ack = send(&mut sa, "2...edit", json!({"v": 1})).await;
    let id = ack["message_id"].as_str().unwrap().to_owned();
    let err = sb.call(json!({"cid": "u", "channel_message_update": {"channel_id": "2...edit", "message_id": id, "content": "{\"v\":9}"}})).await;
    assert_eq!(err["error"], json!({"code": 3, "message": "Could not find message to update in channel history"}));
    let err = sb.call(json!({"cid": "r", "channel_message_remove": {"channel_id": "2...edit", "message_id": id}})).await;
    assert_eq!(err["error"], json!({"code": 3, "message": "Could not find message to remove in channel history"}));
    let upd = sa.call(json!({"cid": "u", "channel_message_update": {"channel_id": "2...edit", "message_id": id, "content": "{\"v\":2}"}})).await;
    assert_eq!(upd["channel_message_ack"]["code"], 1);
    assert_eq!(upd["channel_message_ack"]["create_time"], ack["create_time"], "the stored message's create time");
    let pushed = loop {
        let m = sb.next_push("channel_message").await;
        if m["code"] == 1 {
            break m;
        }
    };
    assert_eq!(serde_json::from_str::<Value>(pushed["content"].as_str().unwrap()).unwrap(), json!({"v": 2}));
    let h = history(&server, &a, "2...edit", "limit=10").await.ok();
    assert_eq!(h["messages"].as_array().unwrap().len(), 1);
    assert_eq!(h["messages"][0]["code"], 0, "stored with code 0 (a wrapper: sent even when 0)");
    assert_eq!(serde_json::from_str::<Value>(h["messages"][0]["content"].as_str().unwrap()).unwrap(), json!({"v": 2}));
    let rm = sa.call(json!({"cid": "r", "channel_message_remove": {"channel_id": "2...edit", "message_id": id}})).await;
    assert_eq!(rm["channel_message_ack"]["code"], 2);
    let h = history(&server, &a, "2...edit", "limit=10").await.ok();
    assert!(h.get("messages").is_none());
});

server_test!(socket_bad_input_gets_nakamas_errors_and_keeps_the_socket, |server| {
    let (a, blocker) = (server.new_user().await, server.new_user().await);
    server.call(Method::POST, &format!("/v2/friend/block?ids={}", a.id), blocker.auth(), None).await.ok();
    let group = server.call(Method::POST, "/v2/group", blocker.auth(), Some(&json!({"name": "private-club"}).to_string())).await.ok();
    let mut s = server.socket_for(&a, "json").await;
    let long = "r".repeat(65);
    let cases = [
        (json!({"channel_join": {"target": "", "type": 1}}), "Invalid channel target"),
        (json!({"channel_join": {"target": long, "type": 1}}), "Channel name is required and must be 1-64 chars: Invalid channel target"),
        (json!({"channel_join": {"target": "a\u{7}b", "type": 1}}), "Channel name must not contain control chars: Invalid channel target"),
        (json!({"channel_join": {"target": "not-a-uuid", "type": 2}}), "Invalid user ID in direct message join: Invalid channel target"),
        (json!({"channel_join": {"target": "00000000-0000-0000-0000-000000000000", "type": 2}}), "Invalid user ID in direct message join: Invalid channel target"),
        (json!({"channel_join": {"target": uuid::Uuid::new_v4().to_string(), "type": 2}}), "User ID not found: Invalid channel target"),
        (json!({"channel_join": {"target": blocker.id.to_string(), "type": 2}}), "User ID not found: Invalid channel target"),
        (json!({"channel_join": {"target": "nope", "type": 3}}), "Invalid group ID in group channel join: Invalid channel target"),
        (json!({"channel_join": {"target": group["id"], "type": 3}}), "Group not found: Invalid channel target"),
        (json!({"channel_join": {"target": "x", "type": 4}}), "Invalid channel type"),
        (json!({"channel_leave": {"channel_id": "lobby"}}), "Invalid channel identifier"),
        (json!({"channel_message_send": {"channel_id": "2..", "content": "{}"}}), "Invalid channel identifier"),
        (json!({"channel_message_send": {"channel_id": "2...room", "content": "[1]"}}), "Message content must be a valid JSON object"),
        (json!({"channel_message_send": {"channel_id": "2...room", "content": ""}}), "Message content must be a valid JSON object"),
        (json!({"channel_message_send": {"channel_id": "2...room", "content": "{}"}}), "Must join channel before sending messages"),
        (json!({"channel_message_update": {"channel_id": "2...room", "message_id": "x", "content": "{}"}}), "Invalid message identifier"),
        (json!({"channel_message_update": {"channel_id": "2...room", "message_id": uuid::Uuid::new_v4().to_string(), "content": "{}"}}), "Must join channel before updating messages"),
        (json!({"channel_message_remove": {"channel_id": "2...room", "message_id": uuid::Uuid::new_v4().to_string()}}), "Must join channel before removing messages"),
    ];
    for (i, (mut request, message)) in cases.into_iter().enumerate() {
        request["cid"] = json!(i.to_string());
        let reply = s.request(request.clone()).await;
        assert_eq!(reply["error"], json!({"code": 3, "message": message}), "{request}");
    }
    assert_eq!(s.call(json!({"cid": "p", "ping": {}})).await["pong"], json!({}));
});

server_test!(direct_messages_notify_and_stay_between_the_two, |server| {
    let (a, b, c) = (server.new_user().await, server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "json").await;
    let ch = join(&mut sa, &b.id.to_string(), 2).await;
    let (lo, hi) = if a.id.to_string() < b.id.to_string() { (a.id, b.id) } else { (b.id, a.id) };
    let id = format!("4.{lo}.{hi}.");
    assert_eq!(ch["id"], id);
    assert_eq!((ch["user_id_one"].as_str(), ch["user_id_two"].as_str()), (Some(lo.to_string().as_str()), Some(hi.to_string().as_str())));
    // B is not on the channel: notified (−1), persistent.
    let push = sb.next_push("notifications").await;
    let n = &push["notifications"][0];
    assert_eq!((n["code"].as_i64(), n["subject"].as_str()), (Some(-1), Some(format!("{} wants to chat", a.username).as_str())));
    send(&mut sa, &id, json!({"hi": "b"})).await;
    // Only the two users may read the history.
    assert_eq!(history(&server, &b, &id, "").await.ok()["messages"].as_array().unwrap().len(), 1);
    history(&server, &c, &id, "").await.assert_error(400, 3, "Channel not found.");
    // B joins back: A is already there, so A is not notified.
    let ch = join(&mut sb, &a.id.to_string(), 2).await;
    assert_eq!(ch["id"], id);
    let listed = server.call(Method::GET, "/v2/notification?limit=100", a.auth(), None).await.ok();
    assert!(listed.get("notifications").is_none());
    // A block closes the channel: B's session is off it.
    server.call(Method::POST, &format!("/v2/friend/block?ids={}", a.id), b.auth(), None).await.ok();
    let err = sb.call(json!({"cid": "s", "channel_message_send": {"channel_id": id, "content": "{}"}})).await;
    assert_eq!(err["error"]["message"], "Must join channel before sending messages");
});

server_test!(group_chat_is_for_members_and_carries_group_events, |server| {
    let (owner, member, outsider) = (server.new_user().await, server.new_user().await, server.new_user().await);
    let g = server.call(Method::POST, "/v2/group", owner.auth(), Some(&json!({"name": "guild", "open": true}).to_string())).await.ok();
    let gid = g["id"].as_str().unwrap().to_owned();
    let mut so = server.socket_for(&owner, "json").await;
    let ch = join(&mut so, &gid, 3).await;
    let id = format!("3.{gid}..");
    assert_eq!((ch["id"].as_str(), ch["group_id"].as_str()), (Some(id.as_str()), Some(gid.as_str())));
    server.call(Method::POST, &format!("/v2/group/{gid}/join"), member.auth(), None).await.ok();
    let event = so.next_push("channel_message").await;
    assert_eq!((event["code"].as_i64(), event["sender_id"].as_str()), (Some(3), Some(member.id.to_string().as_str())));
    send(&mut so, &id, json!({"welcome": true})).await;
    let h = history(&server, &member, &id, "limit=10").await.ok();
    let codes: Vec<i64> = h["messages"].as_array().unwrap().iter().map(|m| m["code"].as_i64().unwrap_or(0)).collect();
    assert_eq!(codes, [3, 0]);
    history(&server, &outsider, &id, "").await.assert_error(400, 3, "Group not found.");
    // Kicked: history is closed to them, and the kick is in it.
    server.call(Method::POST, &format!("/v2/group/{gid}/kick?user_ids={}", member.id), owner.auth(), None).await.ok();
    history(&server, &member, &id, "").await.assert_error(400, 3, "Group not found.");
    let h = history(&server, &owner, &id, "limit=10&forward=false").await.ok();
    assert_eq!(h["messages"][0]["code"], 6);
});

server_test!(history_pages_both_ways_with_nakamas_cursors, |server| {
    let a = server.new_user().await;
    let mut s = server.socket_for(&a, "json").await;
    join(&mut s, "paging", 1).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(send(&mut s, "2...paging", json!({"i": i})).await["message_id"].as_str().unwrap().to_owned());
    }
    let id = "2...paging";
    let list_ids = |v: &Value| -> Vec<String> {
        v["messages"].as_array().map(|a| a.iter().map(|m| m["message_id"].as_str().unwrap().to_owned()).collect()).unwrap_or_default()
    };
    // Forward, two at a time.
    let p1 = history(&server, &a, id, "limit=2").await.ok();
    assert_eq!(list_ids(&p1), ids[0..2]);
    assert!(p1.get("prev_cursor").is_none());
    let next = p1["next_cursor"].as_str().unwrap();
    let p2 = history(&server, &a, id, &format!("limit=2&cursor={next}")).await.ok();
    assert_eq!(list_ids(&p2), ids[2..4]);
    // Back from page 2 with its prev cursor: page 1 again, in forward order.
    let prev = p2["prev_cursor"].as_str().unwrap();
    let back = history(&server, &a, id, &format!("limit=2&cursor={prev}")).await.ok();
    assert_eq!(list_ids(&back), ids[0..2]);
    let p3 = history(&server, &a, id, &format!("limit=2&cursor={}", p2["next_cursor"].as_str().unwrap())).await.ok();
    assert_eq!(list_ids(&p3), ids[4..5]);
    assert!(p3.get("next_cursor").is_none());
    // The cacheable cursor of the last page returns only newer messages later.
    let cache = p3["cacheable_cursor"].as_str().unwrap().to_owned();
    let none = history(&server, &a, id, &format!("limit=10&cursor={cache}")).await.ok();
    assert!(none.get("messages").is_none());
    assert_eq!(none["cacheable_cursor"], cache.as_str());
    let newer = send(&mut s, id, json!({"i": 5})).await["message_id"].as_str().unwrap().to_owned();
    let fresh = history(&server, &a, id, &format!("limit=10&cursor={cache}")).await.ok();
    assert_eq!(list_ids(&fresh), std::slice::from_ref(&newer));
    ids.push(newer);
    // Backward: newest first.
    let b1 = history(&server, &a, id, "limit=4&forward=false").await.ok();
    let mut expected: Vec<String> = ids.iter().rev().take(4).cloned().collect();
    assert_eq!(list_ids(&b1), expected);
    let b2 = history(&server, &a, id, &format!("limit=4&forward=false&cursor={}", b1["next_cursor"].as_str().unwrap())).await.ok();
    expected = ids.iter().rev().skip(4).cloned().collect();
    assert_eq!(list_ids(&b2), expected);
    // A forward cursor backwards, another channel's cursor, garbage: refused.
    let bad = "Cursor is invalid or expired.";
    history(&server, &a, id, &format!("forward=false&cursor={next}")).await.assert_error(400, 3, bad);
    history(&server, &a, "2...other", &format!("cursor={next}")).await.assert_error(400, 3, bad);
    history(&server, &a, id, "cursor=AAAA").await.assert_error(400, 3, bad);
    history(&server, &a, id, "limit=101").await.assert_error(400, 3, "Invalid limit - limit must be between 1 and 100.");
    history(&server, &a, "1...x", "").await.assert_error(400, 3, "Invalid channel ID.");
    // Default limit 1; rooms are readable without joining.
    let other = server.new_user().await;
    assert_eq!(list_ids(&history(&server, &other, id, "").await.ok()), ids[0..1]);
});
