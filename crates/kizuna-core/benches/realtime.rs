//! Hot realtime internals: fanning one message out to many sessions (encoded once), and tracker
//! operations.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kizuna_core::realtime::{Format, LocalTracker, Outgoing, Presence, PresenceMeta, SessionHandle, SessionId, Stream, Tracker};
use kizuna_proto::realtime::{envelope::Message, Envelope, StatusPresenceEvent, UserPresence};
use uuid::Uuid;

fn event() -> Envelope {
    let p = UserPresence {
        user_id: Uuid::new_v4().to_string(),
        session_id: Uuid::new_v4().to_string(),
        username: "player".into(),
        persistence: false,
        status: Some("in a match".into()),
    };
    Envelope {
        cid: String::new(),
        message: Some(Message::StatusPresenceEvent(StatusPresenceEvent { joins: vec![p.clone()], leaves: vec![p] })),
    }
}

fn fanout(c: &mut Criterion) {
    for n in [100usize, 1000] {
        // Half JSON, half protobuf sessions, as a mixed game would have.
        let mut handles: Vec<_> = (0..n)
            .map(|i| {
                let format = if i % 2 == 0 { Format::Json } else { Format::Protobuf };
                SessionHandle::new(Uuid::new_v4(), "u".into(), format, 1024)
            })
            .collect();
        c.bench_function(&format!("fanout_status_event_to_{n}_sessions"), |b| {
            b.iter_batched(
                || Outgoing::new(event()),
                |msg| {
                    for (h, _, _) in &handles {
                        assert!(h.send(msg.clone()));
                    }
                    // What each writer does: take the message off its queue and get its format's
                    // bytes (encoded at most twice in all).
                    for (h, rx, _) in &mut handles {
                        let m = rx.try_recv().expect("queued");
                        black_box(m.bytes(h.format).len());
                    }
                },
                BatchSize::SmallInput,
            );
        });
        drop(handles);
    }
}

fn tracker(c: &mut Criterion) {
    let tracker = LocalTracker::default();
    let stream = Stream { mode: 2, subject: Uuid::nil(), subcontext: Uuid::nil(), label: "lobby".into() };
    for _ in 0..1000 {
        tracker.track(Presence {
            session_id: SessionId(Uuid::new_v4()),
            user_id: Uuid::new_v4(),
            stream: stream.clone(),
            meta: PresenceMeta { username: "u".into(), hidden: false, persistence: false, status: String::new() },
        });
    }
    c.bench_function("tracker_track_then_untrack_on_a_1000_member_stream", |b| {
        b.iter(|| {
            let session = SessionId(Uuid::new_v4());
            let (_, join) = tracker.track(Presence {
                session_id: session,
                user_id: Uuid::nil(),
                stream: stream.clone(),
                meta: PresenceMeta { username: "u".into(), hidden: false, persistence: false, status: String::new() },
            });
            black_box(join);
            black_box(tracker.untrack(session, &stream));
        })
    });
    c.bench_function("tracker_list_1000_member_stream", |b| b.iter(|| black_box(tracker.list(&stream, false).len())));
    c.bench_function("tracker_session_ids_1000_member_stream", |b| b.iter(|| black_box(tracker.session_ids(&stream).len())));
}

criterion_group!(benches, fanout, tracker);
criterion_main!(benches);
