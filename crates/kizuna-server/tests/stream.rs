//! Custom streams through the core API the runtime will use: joins and leaves reach stream
//! members, data reaches members (or chosen sessions), closing is silent, disconnects leave.

use kizuna_core::{
    realtime::{SessionId, Stream},
    stream::StreamJoin,
};
use kizuna_testkit::{jwt_claims, server_test};
use serde_json::json;

fn custom_stream() -> Stream {
    Stream { mode: 100, subject: uuid::Uuid::nil(), subcontext: uuid::Uuid::nil(), label: "lobby".into() }
}

server_test!(stream_members_see_joins_leaves_and_data, |server| {
    let core = server.running().core();
    let (ta, tb) = (server.new_user_token().await, server.new_user_token().await);
    let (ua, ub): (uuid::Uuid, uuid::Uuid) =
        (jwt_claims(&ta)["uid"].as_str().unwrap().parse().unwrap(), jwt_claims(&tb)["uid"].as_str().unwrap().parse().unwrap());
    let mut a = server.socket(&format!("token={ta}")).await.unwrap();
    let mut b = server.socket(&format!("token={tb}&format=protobuf")).await.unwrap();
    a.request(json!({"cid": "1", "ping": {}})).await;
    b.request(json!({"cid": "1", "ping": {}})).await;
    let sa: SessionId = core.sessions().of_user(ua)[0].id;
    let sb: SessionId = core.sessions().of_user(ub)[0].id;
    let stream = custom_stream();
    assert!(core.stream_user_join(ua, sa, stream.clone(), StreamJoin::default()).unwrap());
    assert!(!core.stream_user_join(ua, sa, stream.clone(), StreamJoin::default()).unwrap());
    // The joiner sees its own join.
    let own = a.recv().await;
    assert_eq!(own["stream_presence_event"]["stream"], json!({"mode": 100, "label": "lobby"}));
    assert_eq!(own["stream_presence_event"]["joins"][0]["user_id"], ua.to_string());
    core.stream_user_join(ub, sb, stream.clone(), StreamJoin::default()).unwrap();
    assert_eq!(a.recv().await["stream_presence_event"]["joins"][0]["user_id"], ub.to_string());
    assert_eq!(b.recv().await["stream_presence_event"]["joins"][0]["user_id"], ub.to_string());
    assert_eq!(core.stream_count(&stream), 2);
    // Data to everyone, then only to B.
    assert_eq!(core.stream_send(&stream, "hello".into(), None, true), 2);
    for s in [&mut a, &mut b] {
        let data = s.recv().await;
        assert_eq!((data["stream_data"]["data"].as_str(), data["stream_data"]["reliable"].as_bool()), (Some("hello"), Some(true)));
    }
    assert_eq!(core.stream_send(&stream, "psst".into(), Some(&[sb]), false), 1);
    assert_eq!(b.recv().await["stream_data"]["data"], "psst");
    // A leaves: B is told, A is not.
    core.stream_user_leave(sa, &stream);
    assert_eq!(b.recv().await["stream_presence_event"]["leaves"][0]["user_id"], ua.to_string());
    assert_eq!(a.request(json!({"cid": "2", "ping": {}})).await["cid"], "2");
    // B disconnects: it leaves the stream.
    drop(b);
    tokio::time::timeout(kizuna_testkit::socket::WAIT, core.sessions().wait_until_gone(ub)).await.unwrap();
    assert_eq!(core.stream_count(&stream), 0);
    // Joining a session of another user is refused.
    assert_eq!(core.stream_user_join(ub, sa, stream.clone(), StreamJoin::default()).unwrap_err().code(), 5);
});

server_test!(hidden_presences_and_silent_close, |server| {
    let core = server.running().core();
    let t = server.new_user_token().await;
    let u: uuid::Uuid = jwt_claims(&t)["uid"].as_str().unwrap().parse().unwrap();
    let mut s = server.socket(&format!("token={t}")).await.unwrap();
    s.request(json!({"cid": "1", "ping": {}})).await;
    let sid = core.sessions().of_user(u)[0].id;
    let stream = custom_stream();
    core.stream_user_join(u, sid, stream.clone(), StreamJoin { hidden: true, ..Default::default() }).unwrap();
    assert_eq!(core.stream_user_list(&stream, true, true).len(), 1);
    assert_eq!(core.stream_user_list(&stream, false, true).len(), 0);
    core.stream_close(&stream);
    assert_eq!(core.stream_count(&stream), 0);
    // Neither the hidden join nor the close produced an event: the next frame is the pong.
    assert_eq!(s.request(json!({"cid": "2", "ping": {}})).await, json!({"cid": "2", "pong": {}}));
});
