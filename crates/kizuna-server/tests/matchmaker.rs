//! The matchmaker over the socket (semantics §12): tickets, validation, a pass forming matches
//! from queries and properties, the matched push with a token that opens a relayed match, removal
//! by the owner and on disconnect, and `GET /v2/matchmaker/stats`. Passes are run by the test
//! (the server's own timer is set far away), so nothing waits for time to pass.

use kizuna_testkit::{server_test, socket::TestSocket, Auth, TestServer, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

fn far_timer(cfg: &mut kizuna_server::Config) {
    cfg.matchmaker.interval_sec = 3600;
}

async fn add(s: &mut TestSocket, body: Value) -> String {
    let reply = s.call(json!({"cid": "a", "matchmaker_add": body})).await;
    reply["matchmaker_ticket"]["ticket"].as_str().unwrap_or_else(|| panic!("add failed: {reply}")).to_owned()
}

async fn stats(server: &TestServer, user: &TestUser) -> Value {
    server.call(Method::GET, "/v2/matchmaker/stats", user.auth(), None).await.ok()
}

server_test!(players_with_matching_queries_are_matched_and_meet_by_token, |cfg| { far_timer(cfg) }, |server| {
    let (a, b, c) = (server.new_user().await, server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "protobuf").await;
    let mut sc = server.socket_for(&c, "json").await;
    let ta = add(&mut sa, json!({"min_count": 2, "max_count": 2, "query": "+properties.region:eu", "string_properties": {"region": "eu"}, "numeric_properties": {"skill": 10}})).await;
    let tb = add(&mut sb, json!({"min_count": 2, "max_count": 2, "query": "+properties.region:eu", "string_properties": {"region": "eu"}})).await;
    // C is in another region: nobody's query finds it, and its own finds nobody.
    let tc = add(&mut sc, json!({"min_count": 2, "max_count": 2, "query": "+properties.region:us", "string_properties": {"region": "us"}})).await;
    assert!(uuid::Uuid::parse_str(&ta).is_ok() && ta != tb);
    assert_eq!(stats(&server, &a).await, json!({}), "no pass yet");

    assert_eq!(server.running().core().matchmaker_process().await, 1);
    let ma = sa.next_push("matchmaker_matched").await;
    let mb = sb.next_push("matchmaker_matched").await;
    assert_eq!((ma["ticket"].as_str(), mb["ticket"].as_str()), (Some(ta.as_str()), Some(tb.as_str())));
    assert_eq!(ma["token"], mb["token"], "one token per match");
    assert_eq!(ma["self"]["presence"]["user_id"], a.id.to_string());
    assert_eq!(ma["self"]["string_properties"], json!({"region": "eu"}));
    assert_eq!(ma["self"]["numeric_properties"], json!({"skill": 10.0}));
    let mut users: Vec<String> = ma["users"].as_array().unwrap().iter().map(|u| u["presence"]["user_id"].as_str().unwrap().to_owned()).collect();
    users.sort();
    let mut expected = vec![a.id.to_string(), b.id.to_string()];
    expected.sort();
    assert_eq!(users, expected);
    // C heard nothing.
    assert_eq!(sc.request(json!({"cid": "p", "ping": {}})).await, json!({"cid": "p", "pong": {}}));

    // The token opens one relayed match for both.
    let token = ma["token"].as_str().unwrap();
    let ja = sa.call(json!({"cid": "j", "match_join": {"token": token}})).await;
    let jb = sb.call(json!({"cid": "j", "match_join": {"token": token}})).await;
    assert_eq!(ja["match"]["match_id"], jb["match"]["match_id"]);
    assert!(ja["match"]["match_id"].as_str().unwrap().ends_with('.'));
    assert_eq!(jb["match"]["presences"][0]["user_id"], a.id.to_string());

    // Matched tickets are gone; C's stays.
    let err = sa.call(json!({"cid": "r", "matchmaker_remove": {"ticket": ta}})).await;
    assert_eq!(err["error"], json!({"code": 3, "message": "Matchmaker ticket not found"}));
    let s = stats(&server, &a).await;
    assert_eq!(s["ticket_count"], 3, "counted before the pass, as in Nakama");
    assert_eq!(s["completions"].as_array().map(Vec::len), Some(2));
    assert!(s["oldest_ticket_create_time"].is_string());
    assert_eq!(sc.call(json!({"cid": "r", "matchmaker_remove": {"ticket": tc}})).await, json!({"cid": "r"}));
    server.running().core().matchmaker_process().await;
    let s = stats(&server, &a).await;
    assert_eq!((s.get("ticket_count"), s.get("oldest_ticket_create_time")), (None, None), "an empty pool: zero and unset are omitted");
    assert_eq!(s["completions"].as_array().map(Vec::len), Some(2), "completions are kept");
});

server_test!(partial_matches_form_on_the_last_interval, |cfg| { far_timer(cfg) }, |server| {
    let users = [server.new_user().await, server.new_user().await, server.new_user().await];
    let mut sockets = Vec::new();
    for u in &users {
        let mut s = server.socket_for(u, "json").await;
        add(&mut s, json!({"min_count": 2, "max_count": 4, "query": "*"})).await;
        sockets.push(s);
    }
    // Three of at most four: the first pass waits for a fourth, the second (last interval) settles.
    assert_eq!(server.running().core().matchmaker_process().await, 0);
    assert_eq!(server.running().core().matchmaker_process().await, 1);
    for s in &mut sockets {
        assert_eq!(s.next_push("matchmaker_matched").await["users"].as_array().map(Vec::len), Some(3));
    }
});

server_test!(matchmaker_bad_input_limits_and_ownership, |cfg| { far_timer(cfg) }, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    let mut sa = server.socket_for(&a, "json").await;
    let mut sb = server.socket_for(&b, "json").await;
    let bad = |message: &str| json!({"cid": "a", "error": {"code": 3, "message": message}});
    for (body, message) in [
        (json!({"min_count": 1, "max_count": 2}), "Invalid minimum count, must be >= 2"),
        (json!({"max_count": 2}), "Invalid minimum count, must be >= 2"),
        (json!({"min_count": 3, "max_count": 2}), "Invalid maximum count, must be >= minimum count"),
        (json!({"min_count": 2, "max_count": 4, "count_multiple": 0}), "Invalid count multiple, must be >= 1"),
        (json!({"min_count": 2, "max_count": 4, "count_multiple": 4}), "Invalid count multiple for minimum count, must divide"),
        (json!({"min_count": 2, "max_count": 5, "count_multiple": 2}), "Invalid count multiple for maximum count, must divide"),
    ] {
        assert_eq!(sa.call(json!({"cid": "a", "matchmaker_add": body})).await, bad(message));
    }
    // An unparseable query is an internal error, as in Nakama.
    let error = json!({"cid": "a", "error": {"message": "Error adding to matchmaker"}});
    assert_eq!(sa.call(json!({"cid": "a", "matchmaker_add": {"min_count": 2, "max_count": 2, "query": "properties.x:"}})).await, error);
    // Three tickets per session at most.
    let mut tickets = Vec::new();
    for _ in 0..3 {
        tickets.push(add(&mut sa, json!({"min_count": 2, "max_count": 2, "query": "+properties.none:x"})).await);
    }
    assert_eq!(sa.call(json!({"cid": "a", "matchmaker_add": {"min_count": 2, "max_count": 2}})).await, error);

    // Removal: empty, unknown, or someone else's ticket.
    let remove = |t: &str| json!({"cid": "r", "matchmaker_remove": {"ticket": t}});
    assert_eq!(sa.call(remove("")).await["error"], json!({"code": 3, "message": "Invalid matchmaker ticket"}));
    assert_eq!(sa.call(remove("nope")).await["error"], json!({"code": 3, "message": "Matchmaker ticket not found"}));
    assert_eq!(sb.call(remove(&tickets[0])).await["error"], json!({"code": 3, "message": "Matchmaker ticket not found"}));
    assert_eq!(sa.call(remove(&tickets[0])).await, json!({"cid": "r"}));
    add(&mut sa, json!({"min_count": 2, "max_count": 2, "query": "+properties.none:x"})).await;

    // A disconnected session's tickets leave the pool.
    drop(sa);
    tokio::time::timeout(kizuna_testkit::socket::WAIT, server.running().core().sessions().wait_until_gone(a.id)).await.expect("session closed");
    server.running().core().matchmaker_process().await;
    assert_eq!(stats(&server, &b).await.get("ticket_count"), None, "no tickets: 0 is omitted");
    server.call(Method::GET, "/v2/matchmaker/stats", Auth::None, None).await.assert_error(401, 16, "Auth token required");
});

server_test!(costly_regular_expressions_are_refused_and_never_stall_the_server, |server| {
    let user = server.new_user().await;
    let mut socket = server.socket_for(&user, "json").await;
    // The abuse of issue #18: 200 copies of a large Unicode pattern in one query.
    let costly = vec![r"+p:/\w{30}/"; 200].join(" ");
    let error = json!({"cid": "a", "error": {"message": "Error adding to matchmaker"}});
    for _ in 0..3 {
        let reply = socket.call(json!({"cid": "a", "matchmaker_add": {"min_count": 2, "max_count": 2, "query": costly}})).await;
        assert_eq!(reply, error);
    }
    // Listing with the same query: six at once, while the server keeps answering.
    let path = format!("/v2/match?query={}", percent(&costly));
    let listings = (0..6).map(|_| server.call(Method::GET, &path, user.auth(), None));
    let health = server.call(Method::GET, "/healthcheck", Auth::None, None);
    let (replies, health) = tokio::join!(futures_util::future::join_all(listings), health);
    assert_eq!(health.status, 200);
    for reply in replies {
        reply.assert_error(500, 13, "Error listing matches.");
    }
    // A modest pattern still works.
    let ok = socket.call(json!({"cid": "a", "matchmaker_add": {"min_count": 2, "max_count": 2, "query": r"+properties.mode:/ctf|dm/"}})).await;
    assert!(ok.get("matchmaker_ticket").is_some(), "{ok}");
});

/// Percent-encodes a query parameter value.
fn percent(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
