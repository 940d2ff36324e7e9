//! Streams (Nakama `stream_manager.go`, `message_router.go`, semantics §13): the runtime's way to
//! put sessions on custom presence streams, list them, and send them data. Built-in modes
//! (status, chat, matches, parties) belong to their features; these functions serve any mode, and
//! their presence events are pushed as `stream_presence_event` for custom modes.

use kizuna_proto::realtime::{
    self, envelope::Message, ChannelPresenceEvent, Envelope, MatchPresenceEvent, StatusPresenceEvent, StreamData, StreamPresenceEvent,
};
use uuid::Uuid;

use crate::{
    realtime::{tracker::mode, Outgoing, Presence, PresenceEvent, PresenceMeta, SessionId, Stream},
    Core, Error,
};

/// The highest built-in stream mode; higher modes are custom streams.
const LAST_BUILT_IN_MODE: u8 = mode::PARTY;

fn uuid_text(u: Uuid) -> String {
    if u.is_nil() { String::new() } else { u.to_string() }
}

/// The wire form of a stream (nil UUIDs as empty strings).
pub fn stream_to_wire(stream: &Stream) -> realtime::Stream {
    realtime::Stream {
        mode: stream.mode.into(),
        subject: uuid_text(stream.subject),
        subcontext: uuid_text(stream.subcontext),
        label: stream.label.clone(),
    }
}

/// How a session should appear on a stream.
#[derive(Debug, Clone, Default)]
pub struct StreamJoin {
    pub hidden: bool,
    pub persistence: bool,
    pub status: String,
}

impl Core {
    /// Puts a live session on a stream. Returns whether it was new. The session must be on this
    /// node and belong to `user_id`.
    pub fn stream_user_join(&self, user_id: Uuid, session_id: SessionId, stream: Stream, join: StreamJoin) -> Result<bool, Error> {
        let presence = self.stream_presence(user_id, session_id, stream, join)?;
        let (new, event) = self.inner.tracker.track(presence);
        self.route_presence_event(event);
        Ok(new)
    }

    /// Changes a session's presence metadata on a stream (leave + join for observers).
    pub fn stream_user_update(&self, user_id: Uuid, session_id: SessionId, stream: Stream, join: StreamJoin) -> Result<(), Error> {
        let presence = self.stream_presence(user_id, session_id, stream, join)?;
        let event = self.inner.tracker.update(presence);
        self.route_presence_event(event);
        Ok(())
    }

    /// Takes a session off a stream (also how runtime code kicks a presence).
    pub fn stream_user_leave(&self, session_id: SessionId, stream: &Stream) {
        let event = self.inner.tracker.untrack(session_id, stream);
        self.route_presence_event(event);
    }

    /// The presences on a stream.
    pub fn stream_user_list(&self, stream: &Stream, include_hidden: bool, include_not_hidden: bool) -> Vec<Presence> {
        self.inner
            .tracker
            .list(stream, true)
            .into_iter()
            .filter(|p| if p.meta.hidden { include_hidden } else { include_not_hidden })
            .collect()
    }

    /// One session's presence on a stream.
    pub fn stream_user_get(&self, session_id: SessionId, stream: &Stream) -> Option<Presence> {
        self.inner.tracker.get(session_id, stream)
    }

    /// How many sessions are on a stream (hidden ones included).
    pub fn stream_count(&self, stream: &Stream) -> usize {
        self.inner.tracker.session_ids(stream).len()
    }

    /// Removes everyone from a stream without presence events.
    pub fn stream_close(&self, stream: &Stream) {
        for p in self.inner.tracker.list(stream, true) {
            let _ = self.inner.tracker.untrack(p.session_id, stream);
        }
    }

    /// Sends `data` to every session on the stream, or only to `only` when given. Encoded once.
    pub fn stream_send(&self, stream: &Stream, data: String, only: Option<&[SessionId]>, reliable: bool) -> usize {
        let push = Outgoing::new(Envelope {
            cid: String::new(),
            message: Some(Message::StreamData(StreamData { stream: Some(stream_to_wire(stream)), sender: None, data, reliable })),
        });
        self.deliver_on_stream(stream, &push, only)
    }

    /// Sends one encoded message to every session on a stream (or only to `only`). Returns how
    /// many sessions took it.
    pub(crate) fn deliver_on_stream(&self, stream: &Stream, push: &std::sync::Arc<Outgoing>, only: Option<&[SessionId]>) -> usize {
        let sessions = self.inner.tracker.session_ids(stream);
        let recipients = sessions.into_iter().filter(|s| only.is_none_or(|o| o.contains(s)));
        self.sessions().send_to_sessions(recipients, push)
    }

    fn stream_presence(&self, user_id: Uuid, session_id: SessionId, stream: Stream, join: StreamJoin) -> Result<Presence, Error> {
        let handle = self.sessions().get(session_id).filter(|h| h.user_id == user_id);
        let Some(handle) = handle else {
            return Err(Error::NotFound("Session not found.".into()));
        };
        Ok(Presence {
            session_id,
            user_id,
            stream,
            meta: PresenceMeta { username: handle.username, hidden: join.hidden, persistence: join.persistence, status: join.status },
        })
    }

    /// The one place presence events are delivered, encoded once. Status events go to the
    /// sessions following the user; custom streams' events to every session on the stream at
    /// delivery time (a joiner sees its own join, a leaver not its own leave); chat events as
    /// `channel_presence_event` to every session on the channel, the same way, and match events as
    /// `match_presence_event`. Party streams will be routed here by their feature.
    pub fn route_presence_event(&self, event: PresenceEvent) {
        let Some(stream) = &event.stream else { return };
        let joins = event.joins.iter().map(Presence::to_wire).collect();
        let leaves = event.leaves.iter().map(Presence::to_wire).collect();
        let (message, recipients) = match stream.mode {
            mode::STATUS => {
                (Message::StatusPresenceEvent(StatusPresenceEvent { joins, leaves }), self.inner.follows.followers(stream.subject))
            }
            mode::CHANNEL | mode::GROUP | mode::DM => {
                let channel_id = crate::channel::stream_to_channel_id(stream).unwrap_or_default();
                let f = crate::channel::channel_fields(stream);
                (
                    Message::ChannelPresenceEvent(ChannelPresenceEvent {
                        channel_id,
                        joins,
                        leaves,
                        room_name: f.room_name,
                        group_id: f.group_id,
                        user_id_one: f.user_id_one,
                        user_id_two: f.user_id_two,
                    }),
                    self.inner.tracker.session_ids(stream),
                )
            }
            mode::MATCH_RELAYED | mode::MATCH_AUTHORITATIVE => (
                Message::MatchPresenceEvent(MatchPresenceEvent { match_id: crate::matches::stream_to_match_id(stream), joins, leaves }),
                self.inner.tracker.session_ids(stream),
            ),
            m if m > LAST_BUILT_IN_MODE => (
                Message::StreamPresenceEvent(StreamPresenceEvent { stream: Some(stream_to_wire(stream)), joins, leaves }),
                self.inner.tracker.session_ids(stream),
            ),
            _ => return,
        };
        let push = Outgoing::new(Envelope { cid: String::new(), message: Some(message) });
        self.sessions().send_to_sessions(recipients, &push);
    }
}
