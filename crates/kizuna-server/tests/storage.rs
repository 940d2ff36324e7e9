//! The storage engine over REST: validation messages, versions, permissions, listing, deletes.

use kizuna_testkit::{jwt_claims, server_test, Auth};
use reqwest::Method;

server_test!(write_read_list_delete_round_trip, |server| {
    let t = server.new_user_token().await;
    let uid = jwt_claims(&t)["uid"].as_str().unwrap().to_owned();
    let body = r#"{"objects":[{"collection":"saves","key":"slot1","value":"{\"level\":3}","permission_read":2}]}"#;
    let acks = server.call(Method::PUT, "/v2/storage", Auth::Bearer(&t), Some(body)).await.ok();
    let ack = &acks["acks"][0];
    assert_eq!((ack["collection"].as_str(), ack["key"].as_str(), ack["user_id"].as_str()), (Some("saves"), Some("slot1"), Some(uid.as_str())));
    // Version: MD5 of the submitted value text.
    assert_eq!(ack["version"].as_str().unwrap(), format!("{:032x}", md5_of(r#"{"level":3}"#)));
    let read = format!(r#"{{"object_ids":[{{"collection":"saves","key":"slot1","user_id":"{uid}"}},{{"collection":"saves","key":"none","user_id":"{uid}"}}]}}"#);
    let objects = server.call(Method::POST, "/v2/storage", Auth::Bearer(&t), Some(&read)).await.ok();
    let o = &objects["objects"][0];
    assert_eq!(objects["objects"].as_array().unwrap().len(), 1);
    assert_eq!(serde_json::from_str::<serde_json::Value>(o["value"].as_str().unwrap()).unwrap(), serde_json::json!({"level": 3}));
    assert_eq!((o["permission_read"].as_i64(), o["permission_write"].as_i64()), (Some(2), Some(1)));
    let list = server.call(Method::GET, &format!("/v2/storage/saves?user_id={uid}&limit=10"), Auth::Bearer(&t), None).await.ok();
    assert_eq!(list["objects"].as_array().unwrap().len(), 1);
    assert!(list.get("cursor").is_none());
    let del = r#"{"object_ids":[{"collection":"saves","key":"slot1"}]}"#;
    server.call(Method::PUT, "/v2/storage/delete", Auth::Bearer(&t), Some(del)).await.ok();
    server
        .call(Method::PUT, "/v2/storage/delete", Auth::Bearer(&t), Some(del))
        .await
        .assert_error(400, 3, "Storage delete rejected - not found, version check failed, or permission denied.");
});

fn md5_of(s: &str) -> u128 {
    // The expected version, computed independently of the server's code path.
    let digest = md5_digest(s.as_bytes());
    u128::from_be_bytes(digest)
}

/// A compact MD5 (RFC 1321) so the test does not reuse the server's implementation.
fn md5_digest(input: &[u8]) -> [u8; 16] {
    let s: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4, 11,
        16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32).collect();
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk.chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(s[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

server_test!(write_validation_and_version_messages, |server| {
    let t = server.new_user_token().await;
    let put = |body: &'static str| server.call(Method::PUT, "/v2/storage", Auth::Bearer(&t), Some(body));
    let ids = "Invalid collection or key value supplied. They must be set.";
    put(r#"{"objects":[{"collection":"","key":"k","value":"{}"}]}"#).await.assert_error(400, 3, ids);
    put(r#"{"objects":[{"collection":"c","key":"k","value":""}]}"#).await.assert_error(400, 3, ids);
    put(r#"{"objects":[{"collection":"c","key":"k","value":"{}","permission_read":3}]}"#)
        .await
        .assert_error(400, 3, "Invalid Read permission supplied. It must be either 0, 1 or 2.");
    put(r#"{"objects":[{"collection":"c","key":"k","value":"{}","permission_write":2}]}"#)
        .await
        .assert_error(400, 3, "Invalid Write permission supplied. It must be either 0 or 1.");
    for bad in [r#""[1]""#, r#""12""#, r#""not json""#] {
        let body = format!(r#"{{"objects":[{{"collection":"c","key":"k","value":{bad}}}]}}"#);
        server
            .call(Method::PUT, "/v2/storage", Auth::Bearer(&t), Some(&body))
            .await
            .assert_error(400, 3, "Value must be a JSON object.");
    }
    put(r#"{"objects":[{"collection":"c","key":"k","value":"{}","version":"*"}]}"#).await.ok();
    put(r#"{"objects":[{"collection":"c","key":"k","value":"{}","version":"*"}]}"#)
        .await
        .assert_error(400, 3, "Storage write rejected - version check failed.");
    put(r#"{"objects":[{"collection":"c","key":"k","value":"{}","version":"0123"}]}"#)
        .await
        .assert_error(400, 3, "Storage write rejected - version check failed.");
    assert_eq!(put(r#"{"objects":[]}"#).await.ok(), serde_json::json!({}));
});

server_test!(other_users_see_only_public_objects, |server| {
    let a = server.new_user_token().await;
    let b = server.new_user_token().await;
    let a_id = jwt_claims(&a)["uid"].as_str().unwrap().to_owned();
    let body = r#"{"objects":[
        {"collection":"m","key":"r0","value":"{}","permission_read":0},
        {"collection":"m","key":"r1","value":"{}","permission_read":1},
        {"collection":"m","key":"r2","value":"{}","permission_read":2}]}"#;
    server.call(Method::PUT, "/v2/storage", Auth::Bearer(&a), Some(body)).await.ok();
    let keys = |v: &serde_json::Value| v["objects"].as_array().map(|a| a.iter().map(|o| o["key"].as_str().unwrap().to_owned()).collect::<Vec<_>>()).unwrap_or_default();
    let read = format!(r#"{{"object_ids":[{{"collection":"m","key":"r0","user_id":"{a_id}"}},{{"collection":"m","key":"r1","user_id":"{a_id}"}},{{"collection":"m","key":"r2","user_id":"{a_id}"}}]}}"#);
    let mut mine = keys(&server.call(Method::POST, "/v2/storage", Auth::Bearer(&a), Some(&read)).await.ok());
    mine.sort();
    assert_eq!(mine, ["r1", "r2"]);
    assert_eq!(keys(&server.call(Method::POST, "/v2/storage", Auth::Bearer(&b), Some(&read)).await.ok()), ["r2"]);
    assert_eq!(keys(&server.call(Method::GET, &format!("/v2/storage/m/{a_id}?limit=10"), Auth::Bearer(&b), None).await.ok()), ["r2"]);
    assert_eq!(keys(&server.call(Method::GET, &format!("/v2/storage/m/{a_id}?limit=10"), Auth::Bearer(&a), None).await.ok()), ["r1", "r2"]);
    assert_eq!(keys(&server.call(Method::GET, "/v2/storage/m?limit=10", Auth::Bearer(&b), None).await.ok()), ["r2"]);
    server
        .call(Method::POST, "/v2/storage", Auth::Bearer(&b), Some(r#"{"object_ids":[{"collection":"m","key":"r2","user_id":"nope"}]}"#))
        .await
        .assert_error(400, 3, "Invalid user ID - make sure user ID is a valid UUID.");
});

server_test!(listing_limits_and_cursors, |server| {
    let t = server.new_user_token().await;
    let uid = jwt_claims(&t)["uid"].as_str().unwrap().to_owned();
    let objects: Vec<String> = (0..7).map(|i| format!(r#"{{"collection":"p","key":"k{i}","value":"{{}}"}}"#)).collect();
    let body = format!(r#"{{"objects":[{}]}}"#, objects.join(","));
    server.call(Method::PUT, "/v2/storage", Auth::Bearer(&t), Some(&body)).await.ok();
    let default_page = server.call(Method::GET, &format!("/v2/storage/p?user_id={uid}"), Auth::Bearer(&t), None).await.ok();
    assert_eq!(default_page["objects"].as_array().unwrap().len(), 1);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/v2/storage/p/{uid}?limit=3&cursor={cursor}");
        let page = server.call(Method::GET, &path, Auth::Bearer(&t), None).await.ok();
        seen.extend(page["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap().to_owned()));
        match page["cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["k0", "k1", "k2", "k3", "k4", "k5", "k6"]);
    for limit in [0, 101] {
        server
            .call(Method::GET, &format!("/v2/storage/p?limit={limit}"), Auth::Bearer(&t), None)
            .await
            .assert_error(400, 3, "Invalid limit - limit must be between 1 and 100.");
    }
    server
        .call(Method::GET, "/v2/storage/p?cursor=tampered", Auth::Bearer(&t), None)
        .await
        .assert_error(400, 3, "Malformed cursor was used.");
});
