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
