//! Friends over REST (semantics §3): every relationship state × every action, the notifications
//! each step sends, listing with cursors, friends of friends, bad input, concurrent adds and
//! account deletion.

use kizuna_testkit::{server_test, Auth, TestServer, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

async fn call(server: &TestServer, user: &TestUser, method: Method, path: &str) -> kizuna_testkit::Reply {
    server.call(method, path, user.auth(), None).await
}

/// The state of `from`'s edge to `to`, as `from` lists it.
async fn edge(server: &TestServer, from: &TestUser, to: &TestUser) -> Option<i64> {
    let list = call(server, from, Method::GET, "/v2/friend").await.ok();
    list["friends"].as_array().unwrap_or(&Vec::new()).iter().find(|f| f["user"]["id"] == to.id.to_string()).map(|f| f["state"].as_i64().unwrap_or(0))
}

async fn edge_count(server: &TestServer, user: &TestUser) -> i64 {
    call(server, user, Method::GET, "/v2/account").await.ok()["user"]["edge_count"].as_i64().unwrap_or(0)
}

async fn notifications(server: &TestServer, user: &TestUser) -> Vec<Value> {
    let list = call(server, user, Method::GET, "/v2/notification?limit=100").await.ok();
    list["notifications"].as_array().cloned().unwrap_or_default()
}

async fn act(server: &TestServer, actor: &TestUser, action: &str, target: &TestUser) {
    let (method, path) = match action {
        "add" => (Method::POST, format!("/v2/friend?ids={}", target.id)),
        "delete" => (Method::DELETE, format!("/v2/friend?ids={}", target.id)),
        "block" => (Method::POST, format!("/v2/friend/block?ids={}", target.id)),
        other => panic!("unknown action {other}"),
    };
    let reply = call(server, actor, method, &path).await;
    assert_eq!(reply.status, 200, "{action}: {:?}", reply.body);
}

server_test!(every_state_and_action_ends_where_nakama_does, |server| {
    // (initial relationship, A's action on B) → (A's edge, B's edge, A's count, B's count,
    // notification code B receives).
    type Case = (&'static str, &'static str, Option<i64>, Option<i64>, i64, i64, Option<i64>);
    let cases: &[Case] = &[
        ("none", "add", Some(1), Some(2), 1, 1, Some(-2)),
        ("a_invited", "add", Some(1), Some(2), 1, 1, None),
        ("b_invited", "add", Some(0), Some(0), 1, 1, Some(-3)),
        ("friends", "add", Some(0), Some(0), 1, 1, None),
        ("a_blocked", "add", Some(3), None, 1, 0, None),
        ("b_blocked", "add", None, Some(3), 0, 1, None),
        ("both_blocked", "add", Some(3), Some(3), 1, 1, None),
        ("none", "delete", None, None, 0, 0, None),
        ("a_invited", "delete", None, None, 0, 0, Some(-9)),
        ("b_invited", "delete", None, None, 0, 0, Some(-9)),
        ("friends", "delete", None, None, 0, 0, Some(-9)),
        ("a_blocked", "delete", None, None, 0, 0, None),
        ("b_blocked", "delete", None, Some(3), 0, 1, None),
        ("both_blocked", "delete", None, Some(3), 0, 1, None),
        ("none", "block", Some(3), None, 1, 0, None),
        ("a_invited", "block", Some(3), None, 1, 0, None),
        ("b_invited", "block", Some(3), None, 1, 0, None),
        ("friends", "block", Some(3), None, 1, 0, None),
        ("a_blocked", "block", Some(3), None, 1, 0, None),
        ("b_blocked", "block", Some(3), Some(3), 1, 1, None),
        ("both_blocked", "block", Some(3), Some(3), 1, 1, None),
    ];
    for &(initial, action, a_edge, b_edge, a_count, b_count, notified) in cases {
        let (a, b) = (server.new_user().await, server.new_user().await);
        match initial {
            "none" => {}
            "a_invited" => act(&server, &a, "add", &b).await,
            "b_invited" => act(&server, &b, "add", &a).await,
            "friends" => {
                act(&server, &a, "add", &b).await;
                act(&server, &b, "add", &a).await;
            }
            "a_blocked" => act(&server, &a, "block", &b).await,
            "b_blocked" => act(&server, &b, "block", &a).await,
            "both_blocked" => {
                act(&server, &a, "block", &b).await;
                act(&server, &b, "block", &a).await;
            }
            other => panic!("unknown state {other}"),
        }
        let before = notifications(&server, &b).await.len();
        act(&server, &a, action, &b).await;
        let case = format!("{initial} + {action}");
        assert_eq!(edge(&server, &a, &b).await, a_edge, "{case}: A's edge");
        assert_eq!(edge(&server, &b, &a).await, b_edge, "{case}: B's edge");
        assert_eq!(edge_count(&server, &a).await, a_count, "{case}: A's edge_count");
        assert_eq!(edge_count(&server, &b).await, b_count, "{case}: B's edge_count");
        let after = notifications(&server, &b).await;
        match notified {
            None => assert_eq!(after.len(), before, "{case}: no notification"),
            Some(code) => {
                assert_eq!(after.len(), before + 1, "{case}: one notification");
                let n = after.last().unwrap();
                assert_eq!(n["code"].as_i64(), Some(code), "{case}");
                assert_eq!(n["sender_id"], a.id.to_string(), "{case}");
                // PostgreSQL returns JSONB's text form (`{"username": "…"}`), as Nakama does.
                assert_eq!(serde_json::from_str::<Value>(n["content"].as_str().unwrap()).unwrap(), json!({"username": a.username}), "{case}");
                let subject = match code {
                    -2 => format!("{} wants to add you as a friend", a.username),
                    -3 => format!("{} accepted your friend request", a.username),
                    _ => format!("{} removed you as a friend", a.username),
                };
                assert_eq!(n["subject"], subject, "{case}");
            }
        }
    }
});

server_test!(adding_by_username_merges_metadata_on_accept_and_lists_in_order, |server| {
    let a = server.new_user().await;
    let (b, c, d) = (server.new_user().await, server.new_user().await, server.new_user().await);
    // A invites B (by username, with metadata) and C; D invites A.
    let r = call(&server, &a, Method::POST, &format!("/v2/friend?usernames={}&usernames=nobody-here&metadata=%7B%22k%22%3A1%7D", b.username)).await;
    assert_eq!(r.status, 200);
    act(&server, &a, "add", &c).await;
    act(&server, &d, "add", &a).await;
    // A accepts D with metadata: merged into A's edge.
    let r = call(&server, &a, Method::POST, &format!("/v2/friend?ids={}&metadata=%7B%22note%22%3A%22hi%22%7D", d.id)).await;
    assert_eq!(r.status, 200);
    let list = call(&server, &a, Method::GET, "/v2/friend").await.ok();
    let got: Vec<(String, i64, Value)> = list["friends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["user"]["id"].as_str().unwrap().to_owned(), f["state"].as_i64().unwrap_or(0), serde_json::from_str(f["metadata"].as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (d.id.to_string(), 0, json!({"note": "hi"})),
            (b.id.to_string(), 1, json!({"k": 1})),
            (c.id.to_string(), 1, json!({})),
        ]
    );
    assert!(list.get("cursor").is_none());
    // Paging with limit 1 walks the same order; a state filter narrows it.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(&server, &a, Method::GET, &format!("/v2/friend?limit=1&cursor={cursor}")).await.ok();
        seen.push(page["friends"][0]["user"]["id"].as_str().unwrap().to_owned());
        match page["cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, [d.id.to_string(), b.id.to_string(), c.id.to_string()]);
    let invites = call(&server, &a, Method::GET, "/v2/friend?state=1&limit=1").await.ok();
    assert_eq!(invites["friends"][0]["user"]["id"], b.id.to_string());
    let next = invites["cursor"].as_str().unwrap();
    let rest = call(&server, &a, Method::GET, &format!("/v2/friend?state=1&cursor={next}")).await.ok();
    assert_eq!(rest["friends"][0]["user"]["id"], c.id.to_string());
    // A cursor from the state-1 listing does not fit a state-0 listing.
    call(&server, &a, Method::GET, &format!("/v2/friend?state=0&cursor={next}")).await.assert_error(400, 3, "Cursor is invalid.");
    call(&server, &a, Method::GET, "/v2/friend?cursor=garbage").await.assert_error(400, 3, "Cursor is invalid.");
});

server_test!(bad_friend_requests_get_nakamas_errors, |server| {
    let a = server.new_user().await;
    let me = a.id.to_string();
    let cases = [
        (Method::POST, format!("/v2/friend?ids={me}"), "Cannot add self as friend."),
        (Method::POST, format!("/v2/friend?usernames={}", a.username), "Cannot add self as friend."),
        (Method::DELETE, format!("/v2/friend?ids={me}"), "Cannot delete self."),
        (Method::POST, format!("/v2/friend/block?usernames={}", a.username), "Cannot block self."),
        (Method::POST, "/v2/friend?ids=not-a-uuid".to_owned(), "Invalid user ID 'not-a-uuid'."),
        (Method::POST, "/v2/friend?ids=00000000-0000-0000-0000-000000000000".to_owned(), "Invalid user ID '00000000-0000-0000-0000-000000000000'."),
        (Method::DELETE, "/v2/friend?ids=xyz".to_owned(), "Invalid user ID 'xyz'."),
        (Method::POST, "/v2/friend?usernames=".to_owned(), "Username must not be empty."),
        (Method::POST, "/v2/friend?usernames=no-such-user".to_owned(), "No valid ID or username was provided."),
        (Method::POST, "/v2/friend/block?usernames=no-such-user".to_owned(), "No valid ID or username was provided."),
        (Method::GET, "/v2/friend?limit=0".to_owned(), "Invalid limit - limit must be between 1 and 1000."),
        (Method::GET, "/v2/friend?limit=1001".to_owned(), "Invalid limit - limit must be between 1 and 1000."),
        (Method::GET, "/v2/friend?state=4".to_owned(), "Invalid state - state must be between 0 and 3."),
        (Method::GET, "/v2/friend?state=-1".to_owned(), "Invalid state - state must be between 0 and 3."),
        (Method::GET, "/v2/friend/friends?limit=101".to_owned(), "Invalid limit - limit must be between 1 and 100."),
        (Method::GET, "/v2/friend/friends?cursor=abc".to_owned(), "Cursor is invalid."),
    ];
    for (method, path, message) in cases {
        call(&server, &a, method, &path).await.assert_error(400, 3, message);
    }
    // Nothing to do: success.
    for (method, path) in [
        (Method::POST, "/v2/friend"),
        (Method::DELETE, "/v2/friend"),
        (Method::POST, "/v2/friend/block"),
        (Method::DELETE, "/v2/friend?usernames=no-such-user"),
        (Method::POST, "/v2/friend?ids=6a1f0a6e-0d3c-4e1c-9a55-3f1f1f1f1f1f"),
    ] {
        assert_eq!(call(&server, &a, method.clone(), path).await.status, 200, "{method} {path}");
    }
    assert_eq!(edge_count(&server, &a).await, 0);
    // Metadata that is not a JSON object fails in the database in Nakama: an internal error.
    call(&server, &a, Method::POST, &format!("/v2/friend?ids={}&metadata=nope", server.new_user().await.id))
        .await
        .assert_error(500, 13, "Error while trying to add friends.");
    server.call(Method::GET, "/v2/friend", Auth::None, None).await.assert_error(401, 16, "Auth token required");
    // Nakama sets no limit on ids per call: 500 unknown ids are a success that changes nothing.
    let many: Vec<String> = (0..500).map(|_| format!("ids={}", uuid::Uuid::new_v4())).collect();
    for (method, path) in [(Method::POST, "/v2/friend"), (Method::POST, "/v2/friend/block"), (Method::DELETE, "/v2/friend")] {
        let reply = call(&server, &a, method.clone(), &format!("{path}?{}", many.join("&"))).await;
        assert_eq!(reply.status, 200, "{method} {path}: {:?}", reply.body);
    }
    assert_eq!(edge_count(&server, &a).await, 0);
});

server_test!(friends_of_friends_skip_me_and_my_friends_and_page_across_referrers, |server| {
    let me = server.new_user().await;
    let mut friends = [server.new_user().await, server.new_user().await];
    friends.sort_by_key(|u| u.id);
    let (f1, f2) = (&friends[0], &friends[1]);
    let (x, y) = (server.new_user().await, server.new_user().await);
    let befriend = |a: &TestUser, b: &TestUser| {
        let (a, b) = (a.clone(), b.clone());
        let server = &server;
        async move {
            act(server, &a, "add", &b).await;
            act(server, &b, "add", &a).await;
        }
    };
    befriend(&me, f1).await;
    befriend(&me, f2).await;
    befriend(f1, f2).await; // my own friend: excluded
    befriend(f1, &x).await;
    befriend(f2, &x).await; // reachable twice
    befriend(f2, &y).await;
    let mut expected = vec![(f1.id, x.id), (f2.id, x.id), (f2.id, y.id)];
    expected.sort();
    let all = call(&server, &me, Method::GET, "/v2/friend/friends").await.ok();
    let got: Vec<(uuid::Uuid, uuid::Uuid)> = all["friends_of_friends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["referrer"].as_str().unwrap().parse().unwrap(), i["user"]["id"].as_str().unwrap().parse().unwrap()))
        .collect();
    assert_eq!(got, expected);
    // One at a time, the cursor continues into the next referrer (Nakama's stops at the first).
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(&server, &me, Method::GET, &format!("/v2/friend/friends?limit=1&cursor={cursor}")).await.ok();
        let i = &page["friends_of_friends"][0];
        paged.push((i["referrer"].as_str().unwrap().parse().unwrap(), i["user"]["id"].as_str().unwrap().parse().unwrap()));
        match page["cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, expected);
});

server_test!(concurrent_mutual_adds_end_in_one_consistent_state, |server| {
    for _ in 0..10 {
        let (a, b) = (server.new_user().await, server.new_user().await);
        let (pa, pb) = (format!("/v2/friend?ids={}", b.id), format!("/v2/friend?ids={}", a.id));
        let (ra, rb) = tokio::join!(call(&server, &a, Method::POST, &pa), call(&server, &b, Method::POST, &pb));
        assert_eq!((ra.status.as_u16(), rb.status.as_u16()), (200, 200));
        // Serialised: the second add accepts the first; both are friends, counted once.
        assert_eq!((edge(&server, &a, &b).await, edge(&server, &b, &a).await), (Some(0), Some(0)));
        assert_eq!((edge_count(&server, &a).await, edge_count(&server, &b).await), (1, 1));
    }
});

server_test!(deleting_an_account_removes_its_edges_and_fixes_counts, |server| {
    let (a, b, c) = (server.new_user().await, server.new_user().await, server.new_user().await);
    act(&server, &a, "add", &b).await;
    act(&server, &b, "add", &a).await;
    act(&server, &c, "add", &a).await;
    assert_eq!(edge_count(&server, &b).await, 1);
    assert_eq!(call(&server, &a, Method::DELETE, "/v2/account").await.status, 200);
    assert_eq!(edge(&server, &b, &a).await, None);
    assert_eq!(edge(&server, &c, &a).await, None);
    assert_eq!((edge_count(&server, &b).await, edge_count(&server, &c).await), (0, 0));
});

server_test!(listed_friends_carry_the_online_flag, |server| {
    let (a, b) = (server.new_user().await, server.new_user().await);
    act(&server, &a, "add", &b).await;
    let offline = call(&server, &a, Method::GET, "/v2/friend").await.ok();
    assert!(offline["friends"][0]["user"].get("online").is_none());
    let mut socket = server.socket(&format!("token={}&status=true", b.token)).await.unwrap();
    socket.request(json!({"cid": "1", "ping": {}})).await;
    let online = call(&server, &a, Method::GET, "/v2/friend").await.ok();
    assert_eq!(online["friends"][0]["user"]["online"], true);
    assert_eq!(online["friends"][0]["user"]["username"], b.username);
});
