//! Encode/decode cost of the envelope, account and friend-list messages, binary and JSON.

use criterion::{criterion_group, criterion_main, Criterion};
use kizuna_proto::{api, json, realtime};
use prost::Message;

fn account() -> api::Account {
    api::Account {
        user: Some(api::User {
            id: "3e4f0c1a-9d0b-4a38-8d1e-2b7c6f9a1e55".into(),
            username: "playerone".into(),
            lang_tag: "en".into(),
            metadata: "{}".into(),
            create_time: Some(prost_types::Timestamp { seconds: 1_714_564_800, nanos: 0 }),
            update_time: Some(prost_types::Timestamp { seconds: 1_714_564_800, nanos: 0 }),
            ..Default::default()
        }),
        wallet: "{}".into(),
        devices: vec![api::AccountDevice { id: "device-0123456789".into(), vars: Default::default() }],
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let acc = account();
    c.bench_function("account_to_json", |b| b.iter(|| json::to_json(&acc)));
    c.bench_function("account_to_protobuf", |b| b.iter(|| acc.encode_to_vec()));
    // The largest answer a client gets routinely: `GET /v2/friend?limit=1000` (about 265 KB of JSON).
    let friends = api::FriendList {
        friends: vec![
            api::Friend {
                user: acc.user.clone(),
                state: Some(0),
                update_time: Some(prost_types::Timestamp { seconds: 1_714_564_800, nanos: 0 }),
                metadata: "{}".into(),
            };
            1000
        ],
        cursor: String::new(),
    };
    c.bench_function("friend_list_1000_to_json", |b| b.iter(|| json::to_json(&friends)));
    c.bench_function("friend_list_1000_to_protobuf", |b| b.iter(|| friends.encode_to_vec()));
    let env = realtime::Envelope { cid: "7".into(), message: Some(realtime::envelope::Message::Ping(realtime::Ping {})) };
    let bytes = json::to_json(&env);
    c.bench_function("envelope_ping_from_json", |b| {
        b.iter(|| json::from_json::<realtime::Envelope>(&bytes, json::Unknown::Reject).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
