//! The JSON rules of nakama-wire.md §2.2, checked on real messages.

use super::*;
use crate::{api, realtime};

fn json_of<M: Message + Name>(m: &M) -> serde_json::Value {
    serde_json::from_slice(&to_json(m)).unwrap()
}

#[test]
fn session_omits_defaults_and_uses_proto_names() {
    let s = api::Session { created: false, token: "t".into(), refresh_token: "r".into() };
    assert_eq!(json_of(&s), serde_json::json!({"token": "t", "refresh_token": "r"}));
}

#[test]
fn wrappers_are_bare_values_even_when_zero() {
    let r = api::AuthenticateDeviceRequest { account: None, create: Some(false), username: String::new() };
    assert_eq!(json_of(&r), serde_json::json!({"create": false}));
}

#[test]
fn timestamps_are_rfc3339_whole_seconds() {
    let u = api::User {
        id: "x".into(),
        create_time: Some(prost_types::Timestamp { seconds: 1_714_564_800, nanos: 0 }),
        ..Default::default()
    };
    assert_eq!(json_of(&u)["create_time"], "2024-05-01T12:00:00Z");
}

#[test]
fn int64_is_a_string_and_oneof_empty_member_is_emitted() {
    let env = realtime::Envelope {
        cid: "2".into(),
        message: Some(realtime::envelope::Message::Pong(realtime::Pong {})),
    };
    assert_eq!(json_of(&env), serde_json::json!({"cid": "2", "pong": {}}));
    let d = realtime::MatchDataSend { match_id: "m.".into(), op_code: 1, data: b"hi".to_vec(), ..Default::default() };
    assert_eq!(json_of(&d), serde_json::json!({"match_id": "m.", "op_code": "1", "data": "aGk="}));
}

#[test]
fn input_accepts_camel_case_and_ignores_unknown_on_rest() {
    let r: api::SessionRefreshRequest =
        from_json(br#"{"token":"a","vars":{"k":"v"},"bogus":1}"#, Unknown::Ignore).unwrap();
    assert_eq!(r.token, "a");
    assert_eq!(r.vars.get("k").map(String::as_str), Some("v"));
    let c: api::AccountDevice = from_json(br#"{"id":"abc"}"#, Unknown::Ignore).unwrap();
    assert_eq!(c.id, "abc");
    let l: api::SessionLogoutRequest = from_json(br#"{"refreshToken":"r"}"#, Unknown::Ignore).unwrap();
    assert_eq!(l.refresh_token, "r");
}

#[test]
fn socket_rejects_unknown_members_and_two_oneof_members() {
    assert!(from_json::<realtime::Envelope>(br#"{"cid":"1","ping":{},"bogus":1}"#, Unknown::Reject).is_err());
    assert!(from_json::<realtime::Envelope>(br#"{"ping":{},"pong":{}}"#, Unknown::Reject).is_err());
}

#[test]
fn empty_body_is_the_empty_message_and_trailing_garbage_is_an_error() {
    let r: api::SessionLogoutRequest = from_json(b"  ", Unknown::Ignore).unwrap();
    assert_eq!(r, api::SessionLogoutRequest::default());
    assert!(from_json::<api::SessionLogoutRequest>(b"{} x", Unknown::Ignore).is_err());
    assert!(from_json::<api::SessionLogoutRequest>(b"{", Unknown::Ignore).is_err());
}

/// The fast writer and the reference path agree, as JSON values, on messages that use every
/// construct Nakama's API has: maps of strings and doubles (with odd values), bytes, repeated
/// messages and scalars, wrappers holding defaults, timestamps with fractions, negative and
/// 64-bit integers, oneofs, empty submessages, non-ASCII and escaped text.
#[test]
fn fast_writer_matches_the_reference_path() {
    // Numbers compare by value: a zero double left out of a map entry is written `0` by the fast
    // path (as protobuf-go does) and `0.0` by the reference.
    fn numbers_as_f64(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) => serde_json::json!(n.as_f64()),
            Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
            Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect()),
            other => other,
        }
    }
    fn same<M: Message + Name>(m: &M) {
        let mut direct = Vec::new();
        assert!(wire::message_to_json(&crate::descriptor::<M>(), &m.encode_to_vec(), &mut direct).is_ok(), "the fast path handles it");
        let fast: serde_json::Value = serde_json::from_slice(&to_json(m)).unwrap();
        let reference: serde_json::Value = serde_json::from_slice(&to_json_reference(m)).unwrap();
        assert_eq!(numbers_as_f64(fast), numbers_as_f64(reference), "{}", String::from_utf8_lossy(&to_json(m)));
    }
    let ts = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
    let user = api::User {
        id: "3e4f0c1a-9d0b-4a38-8d1e-2b7c6f9a1e55".into(),
        username: "joë \"quoted\" \\ <tag> \u{1}".into(),
        metadata: r#"{"a":[1,2]}"#.into(),
        online: true,
        edge_count: -3,
        create_time: ts(0, 0),
        update_time: ts(1_714_564_800, 500_000_000),
        ..Default::default()
    };
    same(&user);
    same(&api::Friend { user: Some(user.clone()), state: Some(0), update_time: ts(1, 1), metadata: "{}".into() });
    same(&api::FriendList { friends: vec![api::Friend { user: Some(user.clone()), ..Default::default() }; 3], cursor: "c".into() });
    same(&api::Account {
        user: Some(user.clone()),
        wallet: "{}".into(),
        email: "a@b.c".into(),
        devices: vec![
            api::AccountDevice { id: "d1".into(), vars: [("k".to_owned(), "v".to_owned()), ("é".to_owned(), String::new())].into() },
            api::AccountDevice { id: "d2".into(), vars: Default::default() },
        ],
        custom_id: String::new(),
        verify_time: ts(-62_135_596_800, 0),
        disable_time: None,
    });
    let mut numeric = std::collections::HashMap::new();
    numeric.insert("skill".to_owned(), 1.5);
    numeric.insert("zero".to_owned(), 0.0);
    numeric.insert("big".to_owned(), 1e300);
    numeric.insert("neg".to_owned(), -0.1);
    numeric.insert("nan".to_owned(), f64::NAN);
    numeric.insert("inf".to_owned(), f64::INFINITY);
    let add = realtime::MatchmakerAdd {
        min_count: 2,
        max_count: 4,
        query: "*".into(),
        string_properties: [("region".to_owned(), "eu".to_owned()), ("".to_owned(), "empty key".to_owned())].into(),
        numeric_properties: numeric,
        count_multiple: Some(0),
    };
    same(&realtime::Envelope { cid: "9".into(), message: Some(realtime::envelope::Message::MatchmakerAdd(add)) });
    same(&realtime::MatchDataSend { match_id: "m.".into(), op_code: -7, data: vec![0, 255, 1, 2, 3], presences: vec![realtime::UserPresence::default(); 2], reliable: true });
    same(&realtime::Envelope {
        cid: String::new(),
        message: Some(realtime::envelope::Message::ChannelMessage(api::ChannelMessage {
            channel_id: "2...room".into(),
            code: Some(0),
            persistent: Some(false),
            create_time: ts(1_714_564_800, 123_456_000),
            update_time: ts(1_714_564_800, 123_456_789),
            ..Default::default()
        })),
    });
    same(&realtime::Envelope {
        cid: "1".into(),
        message: Some(realtime::envelope::Message::Status(realtime::Status {
            presences: vec![realtime::UserPresence { user_id: "u".into(), session_id: "s".into(), username: "n".into(), persistence: true, status: Some(String::new()) }],
        })),
    });
    same(&api::StorageObjectAcks::default());
    same(&api::Rpc { id: "echo".into(), payload: "{}".into(), http_key: String::new() });
}
