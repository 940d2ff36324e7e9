//! The HTTP edge itself: routing errors, auth errors, headers, body limits, compression, CORS.

use kizuna_testkit::{server_test, Auth};
use reqwest::Method;

server_test!(healthcheck_and_root_answer_without_auth, |server| {
    let r = server.call(Method::GET, "/healthcheck", Auth::None, None).await;
    assert_eq!(r.ok(), serde_json::json!({}));
    let root = server.request(Method::GET, "/", Auth::None).send().await.unwrap();
    assert_eq!(root.status(), 200);
    assert!(root.bytes().await.unwrap().is_empty());
});

server_test!(unknown_route_is_404_and_wrong_method_is_501, |server| {
    server.call(Method::GET, "/v2/nothing/here", Auth::None, None).await.assert_error(404, 5, "Not Found");
    server.call(Method::PATCH, "/v2/account", Auth::None, None).await.assert_error(501, 12, "Method Not Allowed");
});

server_test!(server_key_is_required_and_checked, |server| {
    let body = Some(r#"{"id":"device-0123456789"}"#);
    let path = "/v2/account/authenticate/device";
    server.call(Method::POST, path, Auth::None, body).await.assert_error(401, 16, "Server key required");
    server.call(Method::POST, path, Auth::ServerKey("wrong"), body).await.assert_error(401, 16, "Server key invalid");
    server.call(Method::POST, path, Auth::Raw("Basic !!notbase64"), body).await.assert_error(401, 16, "Server key invalid");
    let token = server.new_user_token().await;
    server.call(Method::POST, path, Auth::Bearer(&token), body).await.assert_error(401, 16, "Server key invalid");
    // The password part is ignored, as in Nakama.
    let r = server.call(Method::POST, path, Auth::Raw("Basic ZGVmYXVsdGtleTpzZWNyZXQ="), body).await;
    assert_eq!(r.status, 200, "{r:?}");
});

server_test!(bearer_token_is_required_and_verified, |server| {
    server.call(Method::GET, "/v2/account", Auth::None, None).await.assert_error(401, 16, "Auth token required");
    server.call(Method::GET, "/v2/account", Auth::Bearer("garbage"), None).await.assert_error(401, 16, "Auth token invalid");
    server
        .call(Method::GET, "/v2/account", Auth::ServerKey("defaultkey"), None)
        .await
        .assert_error(401, 16, "Auth token invalid");
    let token = server.new_user_token().await;
    // A token signed with another key.
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let forged = parts.join(".");
    let r = server.call(Method::GET, "/v2/account", Auth::Bearer(&forged), None).await;
    r.assert_error(401, 16, "Auth token invalid");
    assert_eq!(r.headers["www-authenticate"], "Auth token invalid");
    // The scheme is case-sensitive, as in Nakama.
    let r = server.call(Method::GET, "/v2/account", Auth::Raw(&format!("bearer {token}")), None).await;
    r.assert_error(401, 16, "Auth token invalid");
});

server_test!(malformed_json_and_wrong_types_are_invalid_argument, |server| {
    let path = "/v2/account/authenticate/device";
    let key = Auth::ServerKey("defaultkey");
    for body in [r#"{"id":"#, r#"["x"]"#, r#"{"id":12}"#, "{} trailing"] {
        let r = server.call(Method::POST, path, key.clone(), Some(body)).await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_i64()), (400, Some(3)), "{body}: {r:?}");
    }
    let r = server.call(Method::POST, &format!("{path}?create=maybe"), key, Some(r#"{"id":"device-0123456789"}"#)).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_i64()), (400, Some(3)));
});

server_test!(body_over_the_size_limit_is_rejected, |server| {
    let big = format!(r#"{{"id":"device-0123456789","vars":{{"k":"{}"}}}}"#, "x".repeat(300_000));
    let r = server.call(Method::POST, "/v2/account/authenticate/device", Auth::ServerKey("defaultkey"), Some(&big)).await;
    r.assert_error(400, 3, "http: request body too large");
});

server_test!(responses_are_uncacheable_compressible_and_cors_open, |server| {
    let r = server.call(Method::GET, "/healthcheck", Auth::None, None).await;
    assert_eq!(r.headers["cache-control"], "no-store, no-cache, must-revalidate");
    let user = server.new_user().await;
    let token = user.token.clone();
    // reqwest decompresses transparently; ask without auto-decompression by reading headers.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let get = |path: String| {
        raw.get(server.url(&path)).header("Authorization", format!("Bearer {token}")).header("Accept-Encoding", "gzip").send()
    };
    // A small response goes out as it is; one of 1 KiB or more is compressed.
    let resp = get("/v2/account".into()).await.unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    let big = serde_json::json!({"objects": [{"collection": "gz", "key": "big", "value": format!("{{\"pad\":\"{}\"}}", "x".repeat(4000))}]});
    server.call(Method::PUT, "/v2/storage", user.auth(), Some(&big.to_string())).await.ok();
    let resp = get(format!("/v2/storage/gz?user_id={}", user.id)).await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let pre = raw
        .request(Method::OPTIONS, server.url("/v2/account"))
        .header("Origin", "https://game.example")
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
});

server_test!(gzip_request_bodies_are_accepted, |server| {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(br#"{"id":"device-gzip-0123456789"}"#).unwrap();
    let body = enc.finish().unwrap();
    let resp = server
        .request(Method::POST, "/v2/account/authenticate/device", Auth::ServerKey("defaultkey"))
        .header("Content-Encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
});

server_test!(routes_of_unbuilt_features_answer_unimplemented_after_auth, |server| {
    server.call(Method::GET, "/v2/party", Auth::None, None).await.assert_error(401, 16, "Auth token required");
    let t = server.new_user_token().await;
    for (method, path, rpc) in [
        (Method::POST, "/v2/friend/steam", "ImportSteamFriends"),
        (Method::GET, "/v2/party", "ListParties"),
        (Method::GET, "/v2/leaderboard/board1/owner/someone", "ListLeaderboardRecordsAroundOwner"),
        (Method::PUT, "/v2/tournament/t1", "WriteTournamentRecord"),
        (Method::GET, "/v2/leaderboard/board1", "ListLeaderboardRecords"),
    ] {
        server.call(method, path, Auth::Bearer(&t), None).await.assert_error(501, 12, &format!("method {rpc} not implemented"));
    }
});

server_test!(rpc_checks_auth_in_nakamas_order_and_knows_no_functions_yet, |server| {
    async fn call(server: &kizuna_testkit::TestServer, path: &str, auth: Auth<'_>) -> kizuna_testkit::Reply {
        server.call(Method::POST, path, auth, Some("\"{}\"")).await
    }
    let r = call(&server, "/v2/rpc/echo", Auth::None).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_i64(), r.body["error"].as_str()), (401, Some(16), Some("Auth token or HTTP key required")));
    let r = call(&server, "/v2/rpc/echo?http_key=wrong", Auth::None).await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str()), (401, Some("HTTP key invalid")));
    let r = call(&server, "/v2/rpc/echo", Auth::ServerKey("wrong")).await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str()), (401, Some("HTTP key invalid")));
    let r = call(&server, "/v2/rpc/echo", Auth::Bearer("bad")).await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str()), (401, Some("Auth token invalid")));
    let t = server.new_user_token().await;
    for (path, auth) in [
        ("/v2/rpc/echo", Auth::Bearer(&t)),
        ("/v2/rpc/Some/Nested/Id?http_key=defaulthttpkey", Auth::None),
        ("/v2/rpc/echo", Auth::ServerKey("defaulthttpkey")),
    ] {
        let r = call(&server, path, auth).await;
        assert_eq!(
            (r.status.as_u16(), r.body["code"].as_i64(), r.body["error"].as_str(), r.body["message"].as_str()),
            (404, Some(5), Some("RPC function not found"), Some("RPC function not found")),
            "{path}"
        );
    }
    let r = call(&server, "/v2/rpc/", Auth::Bearer(&t)).await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str()), (400, Some("RPC ID must be set")));
});

server_test!(events_are_accepted_and_need_a_session, |server| {
    let t = server.new_user_token().await;
    let body = r#"{"name":"level_up","properties":{"level":"7"},"timestamp":"2026-11-22T10:00:00Z"}"#;
    let r = server.call(Method::POST, "/v2/event", Auth::Bearer(&t), Some(body)).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, serde_json::json!({})));
    // Even an empty event is accepted (Nakama checks nothing).
    assert_eq!(server.call(Method::POST, "/v2/event", Auth::Bearer(&t), Some("{}")).await.status.as_u16(), 200);
    let bad = server.call(Method::POST, "/v2/event", Auth::Bearer(&t), Some(r#"{"timestamp":"yesterday"}"#)).await;
    assert_eq!((bad.status.as_u16(), bad.body["code"].as_i64()), (400, Some(3)));
    server.call(Method::POST, "/v2/event", Auth::None, Some(body)).await.assert_error(401, 16, "Auth token required");
});

server_test!(a_corrupt_compressed_body_is_a_bad_request_not_a_size_error, |server| {
    for encoding in ["gzip", "deflate"] {
        let r = server
            .request(Method::POST, "/v2/account/authenticate/device", Auth::ServerKey("defaultkey"))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", encoding)
            .body(b"\x1f\x8b\x08\x00 definitely not a compressed stream".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{encoding}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], 3, "{encoding}");
        assert_eq!(body["message"], "Request body could not be read or decompressed.", "{encoding}");
    }
});

server_test!(readiness_reports_the_database_while_liveness_stays_up, |server| {
    assert_eq!(server.call(Method::GET, "/readyz", Auth::None, None).await.ok(), serde_json::json!({}));
    // The database goes away: liveness is still 200, readiness says so.
    server.running().core().store().close().await;
    server.call(Method::GET, "/readyz", Auth::None, None).await.assert_error(503, 14, "Database unavailable.");
    assert_eq!(server.call(Method::GET, "/healthcheck", Auth::None, None).await.status, 200);
});
