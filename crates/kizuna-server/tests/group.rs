//! Groups over REST (semantics §4): creation and updates, every role × membership action,
//! joining open and closed groups, leaving, listings with cursors, group events in the channel
//! history and live on the channel, bad input, and account deletion.

use kizuna_core::{realtime::Stream, stream::StreamJoin};
use kizuna_store::message::group_stream;
use kizuna_testkit::{server_test, Auth, TestServer, TestUser};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

async fn call(server: &TestServer, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> kizuna_testkit::Reply {
    let body = body.map(|b| b.to_string());
    server.call(method, path, user.auth(), body.as_deref()).await
}

async fn create(server: &TestServer, owner: &TestUser, body: Value) -> Value {
    call(server, owner, Method::POST, "/v2/group", Some(body)).await.ok()
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..8])
}

/// The state of `user` in `group` (bans included), from the group's member list.
async fn member_state(server: &TestServer, viewer: &TestUser, group: &str, user: &TestUser) -> Option<i64> {
    for state in 0..=4 {
        let list = call(server, viewer, Method::GET, &format!("/v2/group/{group}/user?state={state}"), None).await.ok();
        let found = list["group_users"].as_array().unwrap_or(&Vec::new()).iter().any(|g| g["user"]["id"] == user.id.to_string());
        if found {
            return Some(state);
        }
    }
    None
}

async fn edge_count(server: &TestServer, viewer: &TestUser, group: &str) -> i64 {
    let list = call(server, viewer, Method::GET, &format!("/v2/user/{}/group", viewer.id), None).await.ok();
    list["user_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"]["id"] == group)
        .map(|g| g["group"]["edge_count"].as_i64().unwrap())
        .expect("viewer is in the group")
}

async fn post_users(server: &TestServer, actor: &TestUser, group: &str, action: &str, users: &[&TestUser]) -> kizuna_testkit::Reply {
    let query: Vec<String> = users.iter().map(|u| format!("user_ids={}", u.id)).collect();
    call(server, actor, Method::POST, &format!("/v2/group/{group}/{action}?{}", query.join("&")), None).await
}

/// Puts `user` in `group` with `role` (0 superadmin … 4 banned), the owner acting.
async fn make(server: &TestServer, owner: &TestUser, group: &str, user: &TestUser, role: i64) {
    match role {
        3 => {
            call(server, user, Method::POST, &format!("/v2/group/{group}/join"), None).await.ok();
        }
        4 => {
            post_users(server, owner, group, "add", &[user]).await.ok();
            post_users(server, owner, group, "ban", &[user]).await.ok();
        }
        _ => {
            post_users(server, owner, group, "add", &[user]).await.ok();
            for _ in role..2 {
                post_users(server, owner, group, "promote", &[user]).await.ok();
            }
        }
    }
    assert_eq!(member_state(server, owner, group, user).await, Some(role));
}

async fn history(server: &TestServer, group: &str) -> Vec<(i16, Uuid, String)> {
    let store = server.running().core().store().clone();
    let rows = store.messages_list(&group_stream(group.parse().unwrap()), true, None, 100).await.unwrap();
    rows.into_iter().map(|m| (m.code, m.sender_id, m.username)).collect()
}

server_test!(create_update_delete_with_nakamas_rules, |server| {
    let (owner, other) = (server.new_user().await, server.new_user().await);
    let name = unique_name("Heroes");
    let g = create(&server, &owner, json!({"name": name, "description": "d", "avatar_url": "a", "lang_tag": "fr"})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    assert_eq!(g["creator_id"], owner.id.to_string());
    assert_eq!((g["name"].as_str(), g["description"].as_str(), g["lang_tag"].as_str()), (Some(name.as_str()), Some("d"), Some("fr")));
    assert_eq!((g["open"].as_bool(), g["edge_count"].as_i64(), g["max_count"].as_i64()), (Some(false), Some(1), Some(100)));
    assert_eq!(g["metadata"], "{}");
    assert_eq!(member_state(&server, &owner, &id, &owner).await, Some(0));
    // Defaults: lang "en", closed, max 100; an explicit max_count is kept.
    let g2 = create(&server, &owner, json!({"name": unique_name("x"), "open": true, "max_count": 7})).await;
    assert_eq!((g2["lang_tag"].as_str(), g2["open"].as_bool(), g2["max_count"].as_i64()), (Some("en"), Some(true), Some(7)));
    // Bad creates.
    call(&server, &owner, Method::POST, "/v2/group", Some(json!({"name": ""}))).await.assert_error(400, 3, "Group name must be set.");
    call(&server, &owner, Method::POST, "/v2/group", Some(json!({"name": "n", "max_count": -1})))
        .await
        .assert_error(400, 3, "Group max count must be >= 1 when set.");
    call(&server, &other, Method::POST, "/v2/group", Some(json!({"name": name}))).await.assert_error(409, 6, "Group name is in use.");
    // Updates: admins only, no emptied name or language, at least one field, unique names.
    let path = format!("/v2/group/{id}");
    call(&server, &other, Method::PUT, &path, Some(json!({"name": "zzz"})))
        .await
        .assert_error(404, 5, "Group not found or you're not allowed to update.");
    call(&server, &owner, Method::PUT, &path, Some(json!({"name": ""}))).await.assert_error(400, 3, "Group name cannot be empty.");
    call(&server, &owner, Method::PUT, &path, Some(json!({"lang_tag": ""}))).await.assert_error(400, 3, "Group language cannot be empty.");
    call(&server, &owner, Method::PUT, &path, Some(json!({}))).await.assert_error(400, 3, "Specify at least one field to update.");
    call(&server, &owner, Method::PUT, &path, Some(json!({"name": g2["name"]}))).await.assert_error(400, 3, "Group name is in use.");
    let renamed = unique_name("Renamed");
    call(&server, &owner, Method::PUT, &path, Some(json!({"name": renamed, "description": "", "open": true}))).await.ok();
    let listed = call(&server, &owner, Method::GET, &format!("/v2/user/{}/group?state=0", owner.id), None).await.ok();
    let mine = listed["user_groups"].as_array().unwrap().iter().find(|g| g["group"]["id"] == id.as_str()).unwrap().clone();
    assert_eq!((mine["group"]["name"].as_str(), mine["group"]["open"].as_bool()), (Some(renamed.as_str()), Some(true)));
    assert!(mine["group"].get("description").is_none(), "an empty description clears it");
    assert_eq!(mine["state"], 0);
    // Bad ids.
    call(&server, &owner, Method::PUT, "/v2/group/not-a-uuid", Some(json!({"name": "q"}))).await.assert_error(400, 3, "Group ID must be a valid ID.");
    // Delete: superadmins only.
    call(&server, &other, Method::DELETE, &path, None).await.assert_error(400, 3, "Group not found or you're not allowed to delete.");
    call(&server, &owner, Method::DELETE, &path, None).await.ok();
    call(&server, &other, Method::POST, &format!("{path}/join"), None).await.assert_error(404, 5, "Group not found.");
    call(&server, &owner, Method::DELETE, &path, None).await.assert_error(400, 3, "Group not found or you're not allowed to delete.");
});

server_test!(every_role_and_action_follows_nakamas_rules, |server| {
    // (caller role, action, target role) → target role afterwards (None = no edge). Roles:
    // 0 superadmin, 1 admin, 2 member, 3 join request, 4 banned.
    let expect = |caller: i64, action: &str, target: i64| -> Option<i64> {
        match (caller, action, target) {
            (0, "kick", _) => None,
            (0, "ban", _) => Some(4),
            (0, "promote", 1 | 2) => Some(target - 1),
            (0, "demote", 0 | 1) => Some(target + 1),
            (1, "kick", 2..) => None,
            (1, "ban", 2..) => Some(4),
            (1, "promote", 2) => Some(1),
            (1, "demote", 1) => Some(2),
            _ => Some(target),
        }
    };
    for caller_role in [0, 1] {
        for action in ["kick", "ban", "promote", "demote"] {
            for target_role in 0..=4 {
                let owner = server.new_user().await;
                let g = create(&server, &owner, json!({"name": unique_name("roles"), "open": false})).await;
                let group = g["id"].as_str().unwrap().to_owned();
                let (caller, target) = (server.new_user().await, server.new_user().await);
                make(&server, &owner, &group, &caller, caller_role).await;
                make(&server, &owner, &group, &target, target_role).await;
                let count_before = edge_count(&server, &owner, &group).await;
                let history_before = history(&server, &group).await.len();
                post_users(&server, &caller, &group, action, &[&target]).await.ok();
                let case = format!("caller {caller_role} {action} target {target_role}");
                let after = member_state(&server, &owner, &group, &target).await;
                let expected = expect(caller_role, action, target_role);
                assert_eq!(after, expected, "{case}");
                let was_member = target_role <= 2;
                let is_member = expected.is_some_and(|s| s <= 2);
                let delta = is_member as i64 - was_member as i64;
                assert_eq!(edge_count(&server, &owner, &group).await, count_before + delta, "{case}: edge_count");
                // One event per change that concerns a member (kick/ban of non-members is silent).
                let code = match action {
                    "kick" => 6,
                    "ban" => 8,
                    "promote" => 7,
                    _ => 9,
                };
                let changed = after != Some(target_role);
                let evented = changed && (matches!(action, "promote" | "demote") || was_member);
                let events = history(&server, &group).await;
                assert_eq!(events.len(), history_before + evented as usize, "{case}: history");
                if evented {
                    assert_eq!(events.last().unwrap(), &(code, target.id, target.username.clone()), "{case}");
                }
            }
        }
    }
    // Members, join requests, banned users and strangers may not act at all.
    let owner = server.new_user().await;
    let g = create(&server, &owner, json!({"name": unique_name("denied")})).await;
    let group = g["id"].as_str().unwrap().to_owned();
    let target = server.new_user().await;
    make(&server, &owner, &group, &target, 2).await;
    for role in [2, 3, 4, -1] {
        let caller = server.new_user().await;
        if role >= 0 {
            make(&server, &owner, &group, &caller, role).await;
        }
        for action in ["add", "kick", "ban", "promote", "demote"] {
            post_users(&server, &caller, &group, action, &[&target]).await.assert_error(404, 5, "Group not found or permission denied.");
        }
    }
});

server_test!(joining_open_and_closed_groups_and_leaving, |server| {
    let (owner, admin, a, b) = (server.new_user().await, server.new_user().await, server.new_user().await, server.new_user().await);
    let open = create(&server, &owner, json!({"name": unique_name("open"), "open": true, "max_count": 3})).await;
    let open_id = open["id"].as_str().unwrap().to_owned();
    // Open: member at once, a join event with the joiner as sender; joining again changes nothing.
    call(&server, &a, Method::POST, &format!("/v2/group/{open_id}/join"), None).await.ok();
    call(&server, &a, Method::POST, &format!("/v2/group/{open_id}/join"), None).await.ok();
    assert_eq!(member_state(&server, &owner, &open_id, &a).await, Some(2));
    assert_eq!(edge_count(&server, &owner, &open_id).await, 2);
    assert_eq!(history(&server, &open_id).await, vec![(3, a.id, a.username.clone())]);
    call(&server, &b, Method::POST, &format!("/v2/group/{open_id}/join"), None).await.ok();
    let c = server.new_user().await;
    call(&server, &c, Method::POST, &format!("/v2/group/{open_id}/join"), None).await.assert_error(400, 3, "Group is full.");
    // Leaving: a member goes (leave event), the last superadmin cannot while others remain.
    call(&server, &b, Method::POST, &format!("/v2/group/{open_id}/leave"), None).await.ok();
    assert_eq!(edge_count(&server, &owner, &open_id).await, 2);
    assert_eq!(history(&server, &open_id).await.last().unwrap(), &(5, b.id, b.username.clone()));
    call(&server, &owner, Method::POST, &format!("/v2/group/{open_id}/leave"), None)
        .await
        .assert_error(400, 3, "Cannot leave group when you are the last superadmin.");
    call(&server, &a, Method::POST, &format!("/v2/group/{open_id}/leave"), None).await.ok();
    // Alone, the last superadmin's leave deletes the group.
    call(&server, &owner, Method::POST, &format!("/v2/group/{open_id}/leave"), None).await.ok();
    call(&server, &a, Method::POST, &format!("/v2/group/{open_id}/join"), None).await.assert_error(404, 5, "Group not found.");
    // Leaving a group one is not in succeeds.
    call(&server, &a, Method::POST, &format!("/v2/group/{open_id}/leave"), None).await.ok();

    // Closed: a join request, and every superadmin and admin is notified (−5).
    let closed = create(&server, &owner, json!({"name": unique_name("closed")})).await;
    let closed_id = closed["id"].as_str().unwrap().to_owned();
    make(&server, &owner, &closed_id, &admin, 1).await;
    call(&server, &a, Method::POST, &format!("/v2/group/{closed_id}/join"), None).await.ok();
    assert_eq!(member_state(&server, &owner, &closed_id, &a).await, Some(3));
    assert_eq!(edge_count(&server, &owner, &closed_id).await, 2);
    for reader in [&owner, &admin] {
        let list = call(&server, reader, Method::GET, "/v2/notification?limit=100", None).await.ok();
        let n = list["notifications"].as_array().unwrap().iter().find(|n| n["code"] == -5).expect("join request notification").clone();
        assert_eq!(n["subject"], format!("User {} wants to join your group", a.username));
        assert_eq!(n["sender_id"], a.id.to_string());
        let content: Value = serde_json::from_str(n["content"].as_str().unwrap()).unwrap();
        assert_eq!(content, json!({"group_id": closed_id, "username": a.username}));
    }
    // Accepting the request = adding the user: add event, −4 notification to the user.
    post_users(&server, &admin, &closed_id, "add", &[&a]).await.ok();
    assert_eq!(member_state(&server, &owner, &closed_id, &a).await, Some(2));
    assert_eq!(edge_count(&server, &owner, &closed_id).await, 3);
    let list = call(&server, &a, Method::GET, "/v2/notification?limit=100", None).await.ok();
    let n = list["notifications"].as_array().unwrap().iter().find(|n| n["code"] == -4).expect("added notification").clone();
    assert_eq!(n["subject"], format!("You've been added to group {}", closed["name"].as_str().unwrap()));
    assert_eq!(n["sender_id"], admin.id.to_string());
    let content: Value = serde_json::from_str(n["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, json!({"group_id": closed_id, "name": closed["name"]}));
    // A banned user's join and add are silently ignored.
    make(&server, &owner, &closed_id, &b, 4).await;
    call(&server, &b, Method::POST, &format!("/v2/group/{closed_id}/join"), None).await.ok();
    post_users(&server, &owner, &closed_id, "add", &[&b]).await.ok();
    assert_eq!(member_state(&server, &owner, &closed_id, &b).await, Some(4));
    // Leaving while banned changes nothing.
    call(&server, &b, Method::POST, &format!("/v2/group/{closed_id}/leave"), None).await.ok();
    assert_eq!(member_state(&server, &owner, &closed_id, &b).await, Some(4));
});

server_test!(adding_users_is_all_or_nothing, |server| {
    let owner = server.new_user().await;
    let (a, b, c) = (server.new_user().await, server.new_user().await, server.new_user().await);
    let g = create(&server, &owner, json!({"name": unique_name("small"), "max_count": 2})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    // Two users but room for one: nobody is added.
    post_users(&server, &owner, &id, "add", &[&a, &b]).await.assert_error(400, 3, "Group is full.");
    assert_eq!(member_state(&server, &owner, &id, &a).await, None);
    let ghost = TestUser { token: String::new(), id: Uuid::new_v4(), username: String::new() };
    post_users(&server, &owner, &id, "add", &[&c, &ghost]).await.assert_error(400, 3, "One or more users not found.");
    assert_eq!(member_state(&server, &owner, &id, &c).await, None);
    assert!(history(&server, &id).await.is_empty());
    // Bad ids and empty lists.
    for action in ["add", "kick", "ban", "promote", "demote"] {
        call(&server, &owner, Method::POST, &format!("/v2/group/{id}/{action}?user_ids=nope"), None)
            .await
            .assert_error(400, 3, "User ID must be a valid ID.");
        call(&server, &owner, Method::POST, &format!("/v2/group/not-a-uuid/{action}?user_ids={}", a.id), None)
            .await
            .assert_error(400, 3, "Group ID must be a valid ID.");
    }
    for action in ["add", "kick", "ban", "promote"] {
        call(&server, &owner, Method::POST, &format!("/v2/group/{id}/{action}"), None).await.ok();
    }
    call(&server, &owner, Method::POST, &format!("/v2/group/{id}/demote"), None).await.assert_error(400, 3, "User IDs must be set.");
    // Kicking or banning oneself is skipped: the last superadmin stays.
    post_users(&server, &owner, &id, "kick", &[&owner]).await.ok();
    assert_eq!(member_state(&server, &owner, &id, &owner).await, Some(0));
});

server_test!(banning_several_users_bans_each_of_them, |server| {
    let owner = server.new_user().await;
    let (a, b) = (server.new_user().await, server.new_user().await);
    let g = create(&server, &owner, json!({"name": unique_name("bans")})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    post_users(&server, &owner, &id, "add", &[&a, &b]).await.ok();
    post_users(&server, &owner, &id, "ban", &[&a, &b]).await.ok();
    assert_eq!(member_state(&server, &owner, &id, &a).await, Some(4));
    assert_eq!(member_state(&server, &owner, &id, &b).await, Some(4));
    assert_eq!(edge_count(&server, &owner, &id).await, 1);
    // Banned groups never show in the user's own list; kicking the ban edge lifts it.
    let theirs = call(&server, &a, Method::GET, &format!("/v2/user/{}/group", a.id), None).await.ok();
    assert!(theirs.get("user_groups").is_none());
    post_users(&server, &owner, &id, "kick", &[&a]).await.ok();
    assert_eq!(member_state(&server, &owner, &id, &a).await, None);
});

server_test!(listing_groups_members_and_memberships, |server| {
    let owner = server.new_user().await;
    let tag = &Uuid::new_v4().simple().to_string()[..6];
    let mut ids = Vec::new();
    for (i, name) in ["Alpha", "alpine", "ALPS", "beta"].iter().enumerate() {
        let g = create(&server, &owner, json!({"name": format!("{name}-{tag}-{i}"), "lang_tag": "de", "open": i % 2 == 0})).await;
        ids.push(g["id"].as_str().unwrap().to_owned());
    }
    // Name filter: case-insensitive pattern, leading % and spaces dropped, ordered by name, paged.
    let all = call(&server, &owner, Method::GET, "/v2/group?name=%25%20alp%25&limit=100", None).await.ok();
    let names: Vec<String> = all["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_owned()).collect();
    let mut expected: Vec<String> = names.clone();
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(names.iter().filter(|n| n.contains(tag)).count(), 3);
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(&server, &owner, Method::GET, &format!("/v2/group?name=alp%25&cursor={cursor}"), None).await.ok();
        paged.push(page["groups"][0]["name"].as_str().unwrap().to_owned());
        match page["cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, names, "default limit 1 pages through the same order");
    // Other filters: lang + open.
    let open_de = call(&server, &owner, Method::GET, "/v2/group?lang_tag=de&open=true&limit=100", None).await.ok();
    let got: Vec<&str> = open_de["groups"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert!(got.contains(&ids[0].as_str()) && got.contains(&ids[2].as_str()) && !got.contains(&ids[1].as_str()));
    let mut walked = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(&server, &owner, Method::GET, &format!("/v2/group?lang_tag=de&open=true&limit=1&cursor={cursor}"), None).await.ok();
        walked.push(page["groups"][0]["id"].as_str().unwrap().to_owned());
        match page["cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, got, "paging open+lang walks the same order");
    let members = call(&server, &owner, Method::GET, "/v2/group?members=1&limit=100", None).await.ok();
    assert_eq!(members["groups"].as_array().unwrap().len(), 4);
    let errors = [
        ("/v2/group?name=a&lang_tag=en", "name filter cannot be combined with any other filter"),
        ("/v2/group?name=a&open=true", "name filter cannot be combined with any other filter"),
        ("/v2/group?name=a&members=3", "name filter cannot be combined with any other filter"),
        ("/v2/group?name=%25&lang_tag=de", "name filter cannot be combined with any other filter"),
        ("/v2/group?limit=0", "Invalid limit - limit must be between 1 and 100."),
        ("/v2/group?limit=101", "Invalid limit - limit must be between 1 and 100."),
        ("/v2/group?cursor=bad", "Malformed cursor was used."),
    ];
    for (path, message) in errors {
        call(&server, &owner, Method::GET, path, None).await.assert_error(400, 3, message);
    }
    // Members by role then join order, paged; bans only with state 4.
    let group = &ids[1];
    let users = [server.new_user().await, server.new_user().await, server.new_user().await];
    make(&server, &owner, group, &users[0], 2).await;
    make(&server, &owner, group, &users[1], 3).await;
    make(&server, &owner, group, &users[2], 1).await;
    let list = call(&server, &owner, Method::GET, &format!("/v2/group/{group}/user"), None).await.ok();
    let order: Vec<(String, i64)> = list["group_users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["user"]["id"].as_str().unwrap().to_owned(), g["state"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(
        order,
        vec![(owner.id.to_string(), 0), (users[2].id.to_string(), 1), (users[0].id.to_string(), 2), (users[1].id.to_string(), 3)]
    );
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(&server, &owner, Method::GET, &format!("/v2/group/{group}/user?limit=1&cursor={cursor}"), None).await.ok();
        paged.push((page["group_users"][0]["user"]["id"].as_str().unwrap().to_owned(), page["group_users"][0]["state"].as_i64().unwrap_or(0)));
        match page["cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, order);
    let first = call(&server, &owner, Method::GET, &format!("/v2/group/{group}/user?state=0&limit=1"), None).await.ok();
    assert!(first.get("cursor").is_none());
    let page = call(&server, &owner, Method::GET, &format!("/v2/group/{group}/user?limit=1"), None).await.ok();
    let c = page["cursor"].as_str().unwrap();
    call(&server, &owner, Method::GET, &format!("/v2/group/{group}/user?state=3&cursor={c}"), None).await.assert_error(400, 3, "Cursor is invalid.");
    for (path, message) in [
        (format!("/v2/group/{group}/user?state=5"), "Invalid state - state must be between 0 and 4."),
        (format!("/v2/group/{group}/user?limit=101"), "Invalid limit - limit must be between 1 and 100."),
        ("/v2/group/xyz/user".to_owned(), "Group ID must be a valid ID."),
        ("/v2/user/xyz/group".to_owned(), "Group ID must be a valid ID."),
        (format!("/v2/user/{}/group?state=-1", owner.id), "Invalid state - state must be between 0 and 4."),
        (format!("/v2/user/{}/group?cursor=zz", owner.id), "Cursor is invalid."),
    ] {
        call(&server, &owner, Method::GET, &path, None).await.assert_error(400, 3, message);
    }
    // A user's groups: every membership with its role.
    let mine = call(&server, &users[2], Method::GET, &format!("/v2/user/{}/group", users[2].id), None).await.ok();
    assert_eq!(mine["user_groups"][0]["group"]["id"], group.as_str());
    assert_eq!(mine["user_groups"][0]["state"], 1);
    // An unknown group lists nobody; listing needs a session.
    let nobody = call(&server, &owner, Method::GET, &format!("/v2/group/{}/user", Uuid::new_v4()), None).await.ok();
    assert!(nobody.get("group_users").is_none());
    server.call(Method::GET, "/v2/group", Auth::None, None).await.assert_error(401, 16, "Auth token required");
});

server_test!(group_events_reach_sessions_on_the_group_channel, |server| {
    let core = server.running().core();
    let (owner, a) = (server.new_user().await, server.new_user().await);
    let g = create(&server, &owner, json!({"name": unique_name("live"), "open": true})).await;
    let group: Uuid = g["id"].as_str().unwrap().parse().unwrap();
    let mut socket = server.socket(&format!("token={}&format=protobuf", owner.token)).await.unwrap();
    socket.request(json!({"cid": "1", "ping": {}})).await;
    let session = core.sessions().of_user(owner.id)[0].id;
    core.stream_user_join(owner.id, session, Stream::group(group), StreamJoin::default()).unwrap();
    // The owner's own join on the group channel comes first.
    assert_eq!(socket.recv().await["channel_presence_event"]["joins"][0]["user_id"], owner.id.to_string());
    call(&server, &a, Method::POST, &format!("/v2/group/{group}/join"), None).await.ok();
    let push = socket.recv().await;
    let m = &push["channel_message"];
    assert_eq!(m["channel_id"], format!("3.{group}.."));
    assert_eq!((m["code"].as_i64(), m["sender_id"].as_str(), m["username"].as_str()), (Some(3), Some(a.id.to_string().as_str()), Some(a.username.as_str())));
    assert_eq!((m["content"].as_str(), m["persistent"].as_bool(), m["group_id"].as_str()), (Some("{}"), Some(true), Some(group.to_string().as_str())));
    let stored = history(&server, &group.to_string()).await;
    assert_eq!(stored, vec![(3, a.id, a.username.clone())]);
    assert!(m["message_id"].as_str().is_some());
    // Deleting the group closes its channel.
    call(&server, &owner, Method::DELETE, &format!("/v2/group/{group}"), None).await.ok();
    assert_eq!(core.stream_count(&Stream::group(group)), 0);
});

server_test!(deleting_an_account_ends_its_memberships, |server| {
    let (owner, co, member, solo) = (server.new_user().await, server.new_user().await, server.new_user().await, server.new_user().await);
    // A group with two superadmins, a member: the owner leaving through deletion keeps it.
    let shared = create(&server, &owner, json!({"name": unique_name("shared")})).await["id"].as_str().unwrap().to_owned();
    make(&server, &owner, &shared, &co, 0).await;
    make(&server, &owner, &shared, &member, 2).await;
    // A group where the owner is the only superadmin (with a member): deleted with the account.
    let only = create(&server, &owner, json!({"name": unique_name("only")})).await["id"].as_str().unwrap().to_owned();
    make(&server, &owner, &only, &member, 2).await;
    // The member's own group is untouched; the member leaves groups cleanly.
    let theirs = create(&server, &solo, json!({"name": unique_name("solo")})).await["id"].as_str().unwrap().to_owned();
    make(&server, &solo, &theirs, &member, 2).await;
    call(&server, &owner, Method::DELETE, "/v2/account", None).await.ok();
    assert_eq!(member_state(&server, &co, &shared, &owner).await, None);
    assert_eq!(edge_count(&server, &co, &shared).await, 2);
    let gone = call(&server, &member, Method::GET, &format!("/v2/user/{}/group", member.id), None).await.ok();
    let groups: Vec<&str> = gone["user_groups"].as_array().unwrap().iter().map(|g| g["group"]["id"].as_str().unwrap()).collect();
    assert!(!groups.contains(&only.as_str()) && groups.contains(&shared.as_str()) && groups.contains(&theirs.as_str()));
    call(&server, &member, Method::DELETE, "/v2/account", None).await.ok();
    assert_eq!(edge_count(&server, &solo, &theirs).await, 1);
    assert_eq!(edge_count(&server, &co, &shared).await, 1);
});

server_test!(concurrent_joins_never_overfill_a_group, |server| {
    let owner = server.new_user().await;
    let g = create(&server, &owner, json!({"name": unique_name("race"), "open": true, "max_count": 5})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    let mut joiners = Vec::new();
    for _ in 0..12 {
        joiners.push(server.new_user().await);
    }
    let path = format!("/v2/group/{id}/join");
    let replies = futures_util::future::join_all(joiners.iter().map(|u| call(&server, u, Method::POST, &path, None))).await;
    let joined = replies.iter().filter(|r| r.status == 200).count();
    for r in replies.iter().filter(|r| r.status != 200) {
        r.assert_error(400, 3, "Group is full.");
    }
    assert_eq!(joined, 4, "the owner and four joiners fill five places");
    assert_eq!(edge_count(&server, &owner, &id).await, 5);
    let members = call(&server, &owner, Method::GET, &format!("/v2/group/{id}/user"), None).await.ok();
    assert_eq!(members["group_users"].as_array().unwrap().len(), 5);
});
