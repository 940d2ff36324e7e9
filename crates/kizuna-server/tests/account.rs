//! Account read/update/delete, users by id/username, and link/unlink of device, custom, email.

use kizuna_testkit::{jwt_claims, server_test, Auth};
use reqwest::Method;

const KEY: Auth<'static> = Auth::ServerKey("defaultkey");

server_test!(get_account_shows_nakamas_shape, |server| {
    let s = server.auth_device("device-account-01", Some("shape")).await;
    let token = s["token"].as_str().unwrap();
    let a = server.call(Method::GET, "/v2/account", Auth::Bearer(token), None).await.ok();
    assert_eq!(a["user"]["username"], "shape");
    assert_eq!(a["user"]["id"], jwt_claims(token)["uid"]);
    assert_eq!(a["user"]["lang_tag"], "en");
    assert_eq!(a["user"]["metadata"], "{}");
    assert_eq!(a["wallet"], "{}");
    assert_eq!(a["devices"], serde_json::json!([{"id": "device-account-01"}]));
    // Defaults are omitted; disable_time is never shown.
    for absent in ["email", "custom_id", "verify_time", "disable_time"] {
        assert!(a.get(absent).is_none(), "{absent} in {a}");
    }
    for absent in ["online", "edge_count", "display_name"] {
        assert!(a["user"].get(absent).is_none(), "{absent} in {a}");
    }
    let t = a["user"]["create_time"].as_str().unwrap();
    assert!(t.ends_with('Z') && !t.contains('.'), "{t}");
});

server_test!(update_account_sets_and_clears_fields, |server| {
    let token = server.new_user_token().await;
    let body = r#"{"display_name":"Disp","timezone":"UTC","location":"Here","lang_tag":"fr","avatar_url":"http://a/b.png","username":"renamed"}"#;
    server.call(Method::PUT, "/v2/account", Auth::Bearer(&token), Some(body)).await.ok();
    let a = server.call(Method::GET, "/v2/account", Auth::Bearer(&token), None).await.ok();
    let u = &a["user"];
    assert_eq!((u["display_name"].as_str(), u["timezone"].as_str(), u["location"].as_str()), (Some("Disp"), Some("UTC"), Some("Here")));
    assert_eq!((u["lang_tag"].as_str(), u["avatar_url"].as_str(), u["username"].as_str()), (Some("fr"), Some("http://a/b.png"), Some("renamed")));
    server.call(Method::PUT, "/v2/account", Auth::Bearer(&token), Some(r#"{"display_name":""}"#)).await.ok();
    let a = server.call(Method::GET, "/v2/account", Auth::Bearer(&token), None).await.ok();
    assert!(a["user"].get("display_name").is_none());
});

server_test!(update_account_errors_match_nakama, |server| {
    let token = server.new_user_token().await;
    let put = |body: &'static str| server.call(Method::PUT, "/v2/account", Auth::Bearer(&token), Some(body));
    put("{}").await.assert_error(400, 3, "No fields to update.");
    put(r#"{"username":""}"#).await.assert_error(400, 3, "Username invalid, must be 1-128 bytes.");
    put(r#"{"username":"a\u0001b"}"#).await.assert_error(400, 3, "Username invalid, no spaces or control characters allowed.");
    server.auth_device("device-account-taken", Some("taken")).await;
    put(r#"{"username":"taken"}"#)
        .await
        .assert_error(400, 3, "rpc error: code = AlreadyExists desc = Username is already in use.");
    let long = format!(r#"{{"display_name":"{}"}}"#, "d".repeat(256));
    server
        .call(Method::PUT, "/v2/account", Auth::Bearer(&token), Some(&long))
        .await
        .assert_error(500, 13, "Error while trying to update account.");
    // lang_tag cannot be NULL in Nakama's schema: clearing it fails the same way (upstream quirk).
    put(r#"{"lang_tag":""}"#).await.assert_error(500, 13, "Error while trying to update account.");
});

server_test!(delete_account_removes_it_and_revokes_tokens, |server| {
    let s = server.auth_device("device-delete-0001", None).await;
    let token = s["token"].as_str().unwrap();
    server.call(Method::DELETE, "/v2/account", Auth::Bearer(token), None).await.ok();
    // Issued before the deletion's second: revoked; of that second: valid, but no account (Nakama).
    let reply = server.call(Method::GET, "/v2/account", Auth::Bearer(token), None).await;
    if reply.status == 401 {
        reply.assert_error(401, 16, "Auth token invalid");
    } else {
        reply.assert_error(404, 5, "Account not found.");
    }
    server
        .call(Method::POST, "/v2/account/authenticate/device?create=false", KEY, Some(r#"{"id":"device-delete-0001"}"#))
        .await
        .assert_error(404, 5, "User account not found.");
});

server_test!(get_users_by_ids_and_usernames, |server| {
    let a = server.auth_device("device-users-0001", Some("ua")).await;
    server.auth_device("device-users-0002", Some("ub")).await;
    let token = a["token"].as_str().unwrap();
    let id = jwt_claims(token)["uid"].as_str().unwrap().to_owned();
    let missing = "00000000-0000-0000-0000-00000000abcd";
    let r = server
        .call(Method::GET, &format!("/v2/user?ids={id}&ids={missing}&usernames=ub&usernames=nobody&"), Auth::Bearer(token), None)
        .await
        .ok();
    let mut names: Vec<&str> = r["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["ua", "ub"]);
    let empty = server.call(Method::GET, "/v2/user", Auth::Bearer(token), None).await.ok();
    assert_eq!(empty, serde_json::json!({}));
    server
        .call(Method::GET, "/v2/user?ids=nope", Auth::Bearer(token), None)
        .await
        .assert_error(400, 3, "ID 'nope' is not a valid system ID.");
});

server_test!(link_and_unlink_device_custom_email, |server| {
    let s = server.auth_device("device-link-00001", None).await;
    let t = s["token"].as_str().unwrap();
    let post = |path: &'static str, body: &'static str| server.call(Method::POST, path, Auth::Bearer(t), Some(body));
    post("/v2/account/link/custom", r#"{"id":"custom-linked"}"#).await.ok();
    post("/v2/account/link/custom", r#"{"id":"custom-linked"}"#).await.ok();
    post("/v2/account/link/email", r#"{"email":"Link@Example.com","password":"password1"}"#).await.ok();
    post("/v2/account/link/device", r#"{"id":"device-link-00002"}"#).await.ok();
    let a = server.call(Method::GET, "/v2/account", Auth::Bearer(t), None).await.ok();
    assert_eq!(a["custom_id"], "custom-linked");
    assert_eq!(a["email"], "link@example.com");
    assert_eq!(a["devices"].as_array().unwrap().len(), 2);
    // The linked email signs in to the same account.
    let by_email = server
        .call(Method::POST, "/v2/account/authenticate/email", KEY, Some(r#"{"email":"link@example.com","password":"password1"}"#))
        .await
        .ok();
    assert_eq!(jwt_claims(by_email["token"].as_str().unwrap())["uid"], jwt_claims(t)["uid"]);
    // Owned by someone else.
    let other = server.new_user_token().await;
    let post_other = |path: &'static str, body: &'static str| server.call(Method::POST, path, Auth::Bearer(&other), Some(body));
    post_other("/v2/account/link/custom", r#"{"id":"custom-linked"}"#).await.assert_error(409, 6, "Custom ID is already in use.");
    post_other("/v2/account/link/email", r#"{"email":"link@example.com","password":"password1"}"#)
        .await
        .assert_error(409, 6, "Email is already in use.");
    post_other("/v2/account/link/device", r#"{"id":"device-link-00002"}"#).await.assert_error(409, 6, "Device ID already in use.");
    // Unlink down to the last identifier.
    post("/v2/account/unlink/device", r#"{"id":"device-link-00001"}"#).await.ok();
    post("/v2/account/unlink/device", r#"{"id":"device-link-00002"}"#).await.ok();
    post("/v2/account/unlink/custom", r#"{}"#).await.ok();
    // Unlinking what is not linked succeeds while another identifier remains (Nakama's query
    // only requires that other identifier).
    post("/v2/account/unlink/custom", r#"{}"#).await.ok();
    let last = "Cannot unlink last account identifier. Check profile exists and is not last link.";
    post("/v2/account/unlink/email", r#"{"email":"link@example.com"}"#).await.assert_error(403, 7, last);
    post("/v2/account/unlink/custom", r#"{"id":"custom-linked"}"#).await.assert_error(403, 7, last);
});

server_test!(link_validation_messages, |server| {
    let t = server.new_user_token().await;
    let post = |path: &'static str, body: &'static str| server.call(Method::POST, path, Auth::Bearer(&t), Some(body));
    post("/v2/account/link/custom", r#"{"id":"a b c d e f"}"#)
        .await
        .assert_error(400, 3, "Invalid custom ID, no spaces or control characters allowed.");
    post("/v2/account/link/custom", r#"{"id":"abc"}"#).await.assert_error(400, 3, "Invalid custom ID, must be 6-128 bytes.");
    post("/v2/account/link/custom", r#"{}"#).await.assert_error(400, 3, "Custom ID is required.");
    post("/v2/account/link/device", r#"{"id":"short"}"#).await.assert_error(400, 3, "Device ID invalid, must be 10-128 bytes.");
    post("/v2/account/link/email", r#"{"email":"x@example.com"}"#).await.assert_error(400, 3, "Email address and password is required.");
    post("/v2/account/link/email", r#"{"email":"bad","password":"password1"}"#).await.assert_error(400, 3, "Invalid email address format.");
    post("/v2/account/unlink/device", r#"{}"#).await.assert_error(400, 3, "A device ID must be supplied.");
    post("/v2/account/link/google", r#"{"token":"x"}"#).await.assert_error(501, 12, "method LinkGoogle not implemented");
    post("/v2/account/unlink/steam", r#"{"token":"x"}"#).await.assert_error(501, 12, "method UnlinkSteam not implemented");
});

server_test!(banned_users_are_told_disconnected_and_kept_out_until_unbanned, |server| {
    let user = server.new_user().await;
    let device_body = |d: &str| serde_json::json!({ "id": d }).to_string();
    let device = format!("device-{}", uuid::Uuid::new_v4().simple());
    let session = server.auth_device(&device, None).await;
    let token = session["token"].as_str().unwrap().to_owned();
    let id: uuid::Uuid = kizuna_testkit::jwt_claims(&token)["uid"].as_str().unwrap().parse().unwrap();
    let mut socket = server.socket(&format!("token={token}")).await.unwrap();
    socket.request(serde_json::json!({"cid": "1", "ping": {}})).await;
    let core = server.running().core();
    core.ban_users(&[id, uuid::Uuid::new_v4()]).await.unwrap();
    let push = socket.recv().await;
    let n = &push["notifications"]["notifications"][0];
    assert_eq!((n["subject"].as_str(), n["code"].as_i64(), n["content"].as_str()), (Some("banned"), Some(-8), Some("{}")));
    assert!(n.get("persistent").is_none());
    assert!(socket.closed().await.is_some());
    // Tokens are rejected, sign-in is refused, other users are untouched.
    server.call(Method::GET, "/v2/account", Auth::Bearer(&token), None).await.assert_error(401, 16, "Auth token invalid");
    let path = "/v2/account/authenticate/device";
    server.call(Method::POST, path, Auth::ServerKey("defaultkey"), Some(&device_body(&device))).await.assert_error(403, 7, "User account banned.");
    server.call(Method::GET, "/v2/account", user.auth(), None).await.ok();
    // Unbanned: signing in works again.
    core.unban_users(&[id]).await.unwrap();
    server.call(Method::POST, path, Auth::ServerKey("defaultkey"), Some(&device_body(&device))).await.ok();
});
