//! Authentication by device, custom id, email and Facebook Instant Games (with link and unlink),
//! with every validation rule of nakama-wire.md §8.1; other providers answer UNIMPLEMENTED.

use kizuna_testkit::{jwt_claims, server_test, Auth};
use reqwest::Method;

const KEY: Auth<'static> = Auth::ServerKey("defaultkey");

server_test!(device_auth_creates_then_finds_the_same_account, |server| {
    let first = server.auth_device("device-0123456789", Some("alice")).await;
    assert_eq!(first["created"], true);
    let claims = jwt_claims(first["token"].as_str().unwrap());
    assert_eq!(claims["usn"], "alice");
    let again = server.auth_device("device-0123456789", Some("ignored")).await;
    // An existing account: `created` omitted (false), stored username kept.
    assert!(again.get("created").is_none(), "{again}");
    let claims2 = jwt_claims(again["token"].as_str().unwrap());
    assert_eq!(claims2["uid"], claims["uid"]);
    assert_eq!(claims2["usn"], "alice");
    assert_ne!(claims2["tid"], claims["tid"]);
    let exp = claims["exp"].as_i64().unwrap();
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(exp - iat, 60);
    let refresh = jwt_claims(first["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["tid"], claims["tid"]);
    assert_eq!(refresh["exp"].as_i64().unwrap() - iat, 3600);
});

server_test!(generated_usernames_are_ten_letters, |server| {
    let s = server.auth_device("device-gen-0123456789", None).await;
    let name = jwt_claims(s["token"].as_str().unwrap())["usn"].as_str().unwrap().to_owned();
    assert_eq!(name.len(), 10);
    assert!(name.chars().all(|c| c.is_ascii_alphabetic()), "{name}");
});

server_test!(vars_travel_in_both_tokens, |server| {
    let r = server
        .call(Method::POST, "/v2/account/authenticate/custom", KEY, Some(r#"{"id":"custom-vars","vars":{"level":"3"}}"#))
        .await
        .ok();
    assert_eq!(jwt_claims(r["token"].as_str().unwrap())["vrs"]["level"], "3");
    assert_eq!(jwt_claims(r["refresh_token"].as_str().unwrap())["vrs"]["level"], "3");
});

server_test!(create_false_for_unknown_account_is_not_found, |server| {
    let r = server
        .call(Method::POST, "/v2/account/authenticate/device?create=false", KEY, Some(r#"{"id":"device-missing-000"}"#))
        .await;
    r.assert_error(404, 5, "User account not found.");
    let r = server.call(Method::POST, "/v2/account/authenticate/custom?create=false", KEY, Some(r#"{"id":"nobody1"}"#)).await;
    r.assert_error(404, 5, "User account not found.");
});

server_test!(username_taken_is_already_exists, |server| {
    server.auth_device("device-owner-000001", Some("dup")).await;
    let r = server
        .call(Method::POST, "/v2/account/authenticate/device?username=dup", KEY, Some(r#"{"id":"device-other-000001"}"#))
        .await;
    r.assert_error(409, 6, "Username is already in use.");
    // Nothing was half-created: the device is still unknown.
    let r = server
        .call(Method::POST, "/v2/account/authenticate/device?create=false", KEY, Some(r#"{"id":"device-other-000001"}"#))
        .await;
    r.assert_error(404, 5, "User account not found.");
});

server_test!(every_device_and_custom_validation_message, |server| {
    let cases: &[(&str, &str, &str)] = &[
        ("device", r#"{}"#, "Device ID is required."),
        ("device", r#"{"id":"has space inside"}"#, "Device ID invalid, no spaces or control characters allowed."),
        ("device", r#"{"id":"tab\tinside00"}"#, "Device ID invalid, no spaces or control characters allowed."),
        ("device", r#"{"id":"short"}"#, "Device ID invalid, must be 10-128 bytes."),
        ("custom", r#"{}"#, "Custom ID is required."),
        ("custom", r#"{"id":"a b c d e"}"#, "Custom ID invalid, no spaces or control characters allowed."),
        ("custom", r#"{"id":"abc"}"#, "Custom ID invalid, must be 6-128 bytes."),
    ];
    for (kind, body, message) in cases {
        let r = server.call(Method::POST, &format!("/v2/account/authenticate/{kind}"), KEY, Some(body)).await;
        r.assert_error(400, 3, message);
    }
    let long = format!(r#"{{"id":"{}"}}"#, "d".repeat(129));
    server
        .call(Method::POST, "/v2/account/authenticate/device", KEY, Some(&long))
        .await
        .assert_error(400, 3, "Device ID invalid, must be 10-128 bytes.");
    let long = format!(r#"{{"id":"{}"}}"#, "c".repeat(129));
    server
        .call(Method::POST, "/v2/account/authenticate/custom", KEY, Some(&long))
        .await
        .assert_error(400, 3, "Custom ID invalid, must be 6-128 bytes.");
});

server_test!(username_rules_keep_nakamas_quirks, |server| {
    let body = Some(r#"{"id":"device-username-01"}"#);
    let path = |u: &str| format!("/v2/account/authenticate/device?username={u}");
    server.call(Method::POST, &path("a%09b"), KEY, body).await.assert_error(
        400,
        3,
        "Username invalid, no spaces or control characters allowed.",
    );
    server.call(Method::POST, &path("a%5B%5Db"), KEY, body).await.assert_error(
        400,
        3,
        "Username invalid, no spaces or control characters allowed.",
    );
    server.call(Method::POST, &path(&"u".repeat(129)), KEY, body).await.assert_error(
        400,
        3,
        "Username invalid, must be 1-128 bytes.",
    );
    // A plain space passes Nakama's pattern.
    let ok = server.call(Method::POST, &path("with%20space"), KEY, body).await.ok();
    assert_eq!(jwt_claims(ok["token"].as_str().unwrap())["usn"], "with space");
});

server_test!(email_auth_validates_hashes_and_lowercases, |server| {
    let path = "/v2/account/authenticate/email";
    let cases: &[(&str, &str)] = &[
        // An empty body is an empty account (the gateway allocates it): a username login
        // without a password.
        ("", "Password must be at least 8 characters long."),
        (r#"{"email":"a b@example.com","password":"password1"}"#, "Invalid email address, no spaces or control characters allowed."),
        (r#"{"email":"not-an-email","password":"password1"}"#, "Invalid email address format."),
        (r#"{"email":"a@b.co","password":"password1"}"#, "Invalid email address, must be 10-255 bytes."),
        (r#"{"email":"player@example.com","password":"short"}"#, "Password must be at least 8 characters long."),
        (r#"{"password":"password1"}"#, "Username is required when email address is not supplied."),
    ];
    for (body, message) in cases {
        let body = if body.is_empty() { None } else { Some(*body) };
        server.call(Method::POST, path, KEY, body).await.assert_error(400, 3, message);
    }
    let created = server
        .call(Method::POST, &format!("{path}?username=mailer"), KEY, Some(r#"{"email":"Player@Example.com","password":"password1"}"#))
        .await
        .ok();
    assert_eq!(created["created"], true);
    // Same email in another case finds the same account.
    let again = server
        .call(Method::POST, path, KEY, Some(r#"{"email":"player@example.COM","password":"password1"}"#))
        .await
        .ok();
    assert_eq!(
        jwt_claims(again["token"].as_str().unwrap())["uid"],
        jwt_claims(created["token"].as_str().unwrap())["uid"]
    );
    server
        .call(Method::POST, path, KEY, Some(r#"{"email":"player@example.com","password":"wrongpass1"}"#))
        .await
        .assert_error(401, 16, "Invalid credentials.");
    // Username + password login.
    let by_name = server
        .call(Method::POST, &format!("{path}?username=mailer"), KEY, Some(r#"{"password":"password1"}"#))
        .await
        .ok();
    assert_eq!(jwt_claims(by_name["token"].as_str().unwrap())["usn"], "mailer");
    server
        .call(Method::POST, &format!("{path}?username=mailer"), KEY, Some(r#"{"password":"password2"}"#))
        .await
        .assert_error(401, 16, "Invalid credentials.");
    server
        .call(Method::POST, &format!("{path}?username=ghost"), KEY, Some(r#"{"password":"password1"}"#))
        .await
        .assert_error(404, 5, "User account not found.");
});

server_test!(social_providers_answer_unimplemented, |server| {
    for (provider, rpc) in [
        ("apple", "AuthenticateApple"),
        ("facebook", "AuthenticateFacebook"),
        ("gamecenter", "AuthenticateGameCenter"),
        ("google", "AuthenticateGoogle"),
        ("steam", "AuthenticateSteam"),
    ] {
        let r = server.call(Method::POST, &format!("/v2/account/authenticate/{provider}"), KEY, Some(r#"{"token":"x"}"#)).await;
        r.assert_error(501, 12, &format!("method {rpc} not implemented"));
    }
});

/// A Facebook Instant Games `signedPlayerInfo` for `player_id`, signed with `secret`.
fn signed_player_info(player_id: &str, secret: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = b64.encode(serde_json::json!({"algorithm": "HMAC-SHA256", "player_id": player_id, "issued_at": 1_700_000_000}).to_string());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!("{}.{payload}", b64.encode(mac.finalize().into_bytes()))
}

server_test!(facebook_instant_games_authenticate_link_and_unlink, |cfg| {
    cfg.social.facebook_instant_game.app_secret = "fbig-secret".into();
}, |server| {
    let auth = |body: String| {
        let server = &server;
        async move { server.call(Method::POST, "/v2/account/authenticate/facebookinstantgame", KEY, Some(&body)).await }
    };
    let good = signed_player_info("player-1", "fbig-secret");
    let first = auth(format!(r#"{{"signed_player_info":"{good}"}}"#)).await.ok();
    assert_eq!(first["created"], true);
    let again = auth(format!(r#"{{"signed_player_info":"{good}"}}"#)).await.ok();
    assert_eq!(jwt_claims(again["token"].as_str().unwrap())["uid"], jwt_claims(first["token"].as_str().unwrap())["uid"]);
    auth(r#"{"signed_player_info":""}"#.into()).await.assert_error(400, 3, "Signed Player Info for a Facebook Instant Game is required.");
    let forged = signed_player_info("player-1", "guess");
    auth(format!(r#"{{"signed_player_info":"{forged}"}}"#))
        .await
        .assert_error(500, 15, "Error extracting the Facebook Instant Game player ID or validating the signature");
    auth(r#"{"signed_player_info":"not.signed.info"}"#.into())
        .await
        .assert_error(500, 15, "Error extracting the Facebook Instant Game player ID or validating the signature");
    let unknown = signed_player_info("player-2", "fbig-secret");
    server
        .call(Method::POST, "/v2/account/authenticate/facebookinstantgame?create=false", KEY, Some(&format!(r#"{{"signed_player_info":"{unknown}"}}"#)))
        .await
        .assert_error(404, 5, "User account not found.");

    // Link: a device account takes player-2; player-1 is taken; a forged one is refused.
    let token = server.auth_device("device-fbig-0001", None).await["token"].as_str().unwrap().to_owned();
    let link = |path: &'static str, info: String| {
        let (server, token) = (&server, token.clone());
        async move {
            server.call(Method::POST, path, Auth::Bearer(&token), Some(&format!(r#"{{"signed_player_info":"{info}"}}"#))).await
        }
    };
    link("/v2/account/link/facebookinstantgame", unknown.clone()).await.ok();
    link("/v2/account/link/facebookinstantgame", good.clone()).await.assert_error(409, 6, "Facebook Instant Game ID is already in use.");
    link("/v2/account/link/facebookinstantgame", forged.clone()).await.assert_error(401, 16, "Could not authenticate Facebook Instant Game profile.");
    link("/v2/account/link/facebookinstantgame", String::new()).await.assert_error(400, 3, "Signed Player Info for a Facebook Instant Game is required.");
    let account = server.call(Method::GET, "/v2/account", Auth::Bearer(&token), None).await.ok();
    assert_eq!(account["user"]["facebook_instant_game_id"], "player-2");
    // The linked player id now signs in to the device account.
    let linked = auth(format!(r#"{{"signed_player_info":"{unknown}"}}"#)).await.ok();
    assert_eq!(jwt_claims(linked["token"].as_str().unwrap())["uid"], jwt_claims(&token)["uid"]);

    // Unlink: another player's info does not match; the right one (or none) removes it.
    link("/v2/account/unlink/facebookinstantgame", good.clone()).await.assert_error(
        403,
        7,
        "Cannot unlink last account identifier. Check profile exists and is not last link.",
    );
    link("/v2/account/unlink/facebookinstantgame", forged).await.assert_error(401, 16, "Could not authenticate Facebook Instant Game profile.");
    link("/v2/account/unlink/facebookinstantgame", unknown).await.ok();
    let account = server.call(Method::GET, "/v2/account", Auth::Bearer(&token), None).await.ok();
    assert!(account["user"].get("facebook_instant_game_id").is_none(), "{account}");
    // An account whose only identifier it is cannot drop it.
    let only = first["token"].as_str().unwrap();
    server
        .call(Method::POST, "/v2/account/unlink/facebookinstantgame", Auth::Bearer(only), Some("{}"))
        .await
        .assert_error(403, 7, "Cannot unlink last account identifier. Check profile exists and is not last link.");
});

server_test!(repeated_sign_ins_follow_every_account_change, |server| {
    // Returning players are served from the identity cache; each change must show at once.
    let usn = |s: &serde_json::Value| jwt_claims(s["token"].as_str().unwrap())["usn"].as_str().unwrap().to_owned();
    let first = server.auth_device("device-cache-0001", Some("before")).await;
    let token = first["token"].as_str().unwrap().to_owned();
    assert_eq!(usn(&server.auth_device("device-cache-0001", None).await), "before");
    // A new username.
    server.call(Method::PUT, "/v2/account", Auth::Bearer(&token), Some(r#"{"username":"after"}"#)).await.ok();
    assert_eq!(usn(&server.auth_device("device-cache-0001", None).await), "after");
    // A linked custom id signs in, and no longer once unlinked.
    let custom = |create: bool| {
        let path = format!("/v2/account/authenticate/custom?create={create}");
        let server = &server;
        async move { server.call(Method::POST, &path, KEY, Some(r#"{"id":"custom-cache-0001"}"#)).await }
    };
    server.call(Method::POST, "/v2/account/link/custom", Auth::Bearer(&token), Some(r#"{"id":"custom-cache-0001"}"#)).await.ok();
    assert_eq!(usn(&custom(false).await.ok()), "after");
    server.call(Method::POST, "/v2/account/unlink/custom", Auth::Bearer(&token), Some(r#"{"id":"custom-cache-0001"}"#)).await.ok();
    custom(false).await.assert_error(404, 5, "User account not found.");
    // The same for a second device.
    server.call(Method::POST, "/v2/account/link/device", Auth::Bearer(&token), Some(r#"{"id":"device-cache-0002"}"#)).await.ok();
    assert_eq!(usn(&server.auth_device("device-cache-0002", None).await), "after");
    server.call(Method::POST, "/v2/account/unlink/device", Auth::Bearer(&token), Some(r#"{"id":"device-cache-0002"}"#)).await.ok();
    server
        .call(Method::POST, "/v2/account/authenticate/device?create=false", KEY, Some(r#"{"id":"device-cache-0002"}"#))
        .await
        .assert_error(404, 5, "User account not found.");
    // A ban and its lifting.
    let id: uuid::Uuid = jwt_claims(&token)["uid"].as_str().unwrap().parse().unwrap();
    server.running().core().ban_users(&[id]).await.unwrap();
    let banned = server.call(Method::POST, "/v2/account/authenticate/device", KEY, Some(r#"{"id":"device-cache-0001"}"#)).await;
    banned.assert_error(403, 7, "User account banned.");
    server.running().core().unban_users(&[id]).await.unwrap();
    assert_eq!(usn(&server.auth_device("device-cache-0001", None).await), "after");
});
