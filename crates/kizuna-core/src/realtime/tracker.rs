//! The presence tracker (Nakama `tracker.go`): which session is present on which stream, with
//! what metadata. [`Tracker`] is the interface the rest of the server uses, so a later
//! multi-node tracker can replace [`LocalTracker`] without touching callers.
//!
//! Track/untrack return the presence events they cause; the caller routes them (status events to
//! followers, stream events to stream members). Delivery is therefore synchronous and in order;
//! sending never blocks (session queues are `try_send`).

use std::collections::{hash_map::Entry, HashMap, HashSet};

use parking_lot::RwLock;

use uuid::Uuid;

use super::SessionId;

/// Stream modes Nakama uses; higher values are custom streams.
pub mod mode {
    pub const NOTIFICATIONS: u8 = 0;
    pub const STATUS: u8 = 1;
    pub const CHANNEL: u8 = 2;
    pub const GROUP: u8 = 3;
    pub const DM: u8 = 4;
    pub const MATCH_RELAYED: u8 = 5;
    pub const MATCH_AUTHORITATIVE: u8 = 6;
    pub const PARTY: u8 = 7;
}

/// A presence stream: (mode, subject, subcontext, label); nil UUIDs mean "unset".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stream {
    pub mode: u8,
    pub subject: Uuid,
    pub subcontext: Uuid,
    pub label: String,
}

impl Stream {
    /// The status stream of a user.
    pub fn status(user_id: Uuid) -> Stream {
        Stream { mode: mode::STATUS, subject: user_id, subcontext: Uuid::nil(), label: String::new() }
    }

    /// The chat stream of a group.
    pub fn group(group_id: Uuid) -> Stream {
        Stream { mode: mode::GROUP, subject: group_id, subcontext: Uuid::nil(), label: String::new() }
    }

    /// The direct-message stream between two users (the lower id first, as Nakama orders them).
    pub fn direct(a: Uuid, b: Uuid) -> Stream {
        let (subject, subcontext) = if a <= b { (a, b) } else { (b, a) };
        Stream { mode: mode::DM, subject, subcontext, label: String::new() }
    }
}

/// What a presence carries besides its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceMeta {
    pub username: String,
    pub hidden: bool,
    pub persistence: bool,
    pub status: String,
}

/// One session's presence on one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub session_id: SessionId,
    pub user_id: Uuid,
    pub stream: Stream,
    pub meta: PresenceMeta,
}

impl Presence {
    /// The wire form. Status presences always carry their status (even ""); others only when set.
    pub fn to_wire(&self) -> kizuna_proto::realtime::UserPresence {
        kizuna_proto::realtime::UserPresence {
            user_id: self.user_id.to_string(),
            session_id: self.session_id.to_string(),
            username: self.meta.username.clone(),
            persistence: self.meta.persistence,
            status: (self.stream.mode == mode::STATUS || !self.meta.status.is_empty()).then(|| self.meta.status.clone()),
        }
    }
}

/// Joins and leaves on one stream caused by one operation. Hidden presences never appear here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceEvent {
    pub stream: Option<Stream>,
    pub joins: Vec<Presence>,
    pub leaves: Vec<Presence>,
}

/// Where presences live. Implementations must not block on I/O while holding locks.
pub trait Tracker: Send + Sync {
    /// Adds a presence; returns whether it is new, and its join event (empty if hidden or old).
    fn track(&self, presence: Presence) -> (bool, PresenceEvent);
    /// Inserts or replaces a presence; a replaced visible presence yields leave(old) + join(new).
    fn update(&self, presence: Presence) -> PresenceEvent;
    /// Removes a session's presence on a stream.
    fn untrack(&self, session: SessionId, stream: &Stream) -> PresenceEvent;
    /// Removes every presence of a session (disconnect); one event per affected stream.
    fn untrack_session(&self, session: SessionId) -> Vec<PresenceEvent>;
    /// Presences on a stream, optionally including hidden ones.
    fn list(&self, stream: &Stream, include_hidden: bool) -> Vec<Presence>;
    /// A session's presence on a stream.
    fn get(&self, session: SessionId, stream: &Stream) -> Option<Presence>;
    /// The sessions on a stream (hidden ones included), unordered: what delivery needs, without
    /// copying presences.
    fn session_ids(&self, stream: &Stream) -> Vec<SessionId>;
    /// Every stream of one mode with its number of presences (hidden ones included), unordered.
    fn streams_of_mode(&self, mode: u8) -> Vec<(Stream, usize)>;
    /// Removes a session's presences on streams of the given modes, except on `keep`; one event
    /// per affected stream (Nakama `UntrackLocalByModes`).
    fn untrack_modes(&self, session: SessionId, modes: &[u8], keep: &Stream) -> Vec<PresenceEvent>;
}

#[derive(Default)]
struct State {
    by_stream: HashMap<Stream, HashMap<SessionId, Presence>>,
    by_session: HashMap<SessionId, HashSet<Stream>>,
    /// The non-empty streams of each mode (match listing).
    by_mode: HashMap<u8, HashSet<Stream>>,
}

/// The tracker of one node. One lock over both indexes, held only for map operations.
#[derive(Default)]
pub struct LocalTracker {
    state: RwLock<State>,
}

fn visible_event(stream: &Stream, joins: Vec<Presence>, leaves: Vec<Presence>) -> PresenceEvent {
    let joins: Vec<Presence> = joins.into_iter().filter(|p| !p.meta.hidden).collect();
    let leaves: Vec<Presence> = leaves.into_iter().filter(|p| !p.meta.hidden).collect();
    if joins.is_empty() && leaves.is_empty() {
        PresenceEvent::default()
    } else {
        PresenceEvent { stream: Some(stream.clone()), joins, leaves }
    }
}

impl State {
    fn remove(&mut self, session: SessionId, stream: &Stream) -> Option<Presence> {
        let members = self.by_stream.get_mut(stream)?;
        let removed = members.remove(&session)?;
        if members.is_empty() {
            self.by_stream.remove(stream);
            if let Some(streams) = self.by_mode.get_mut(&stream.mode) {
                streams.remove(stream);
            }
        }
        if let Some(streams) = self.by_session.get_mut(&session) {
            streams.remove(stream);
            if streams.is_empty() {
                self.by_session.remove(&session);
            }
        }
        Some(removed)
    }

    fn insert(&mut self, presence: Presence) -> Option<Presence> {
        self.by_session.entry(presence.session_id).or_default().insert(presence.stream.clone());
        let members = match self.by_stream.entry(presence.stream.clone()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                self.by_mode.entry(presence.stream.mode).or_default().insert(presence.stream.clone());
                e.insert(HashMap::new())
            }
        };
        members.insert(presence.session_id, presence)
    }

    /// Removes a session's presences on the streams `which` selects; one leave event per stream.
    fn remove_session_where(&mut self, session: SessionId, which: impl Fn(&Stream) -> bool) -> Vec<PresenceEvent> {
        let streams: Vec<Stream> =
            self.by_session.get(&session).map(|s| s.iter().filter(|s| which(s)).cloned().collect()).unwrap_or_default();
        let mut events = Vec::new();
        for stream in streams {
            if let Some(p) = self.remove(session, &stream) {
                let event = visible_event(&stream, Vec::new(), vec![p]);
                if event.stream.is_some() {
                    events.push(event);
                }
            }
        }
        events
    }
}

impl Tracker for LocalTracker {
    fn track(&self, presence: Presence) -> (bool, PresenceEvent) {
        let mut state = self.state.write();
        let exists = state.by_stream.get(&presence.stream).is_some_and(|m| m.contains_key(&presence.session_id));
        if exists {
            return (false, PresenceEvent::default());
        }
        let stream = presence.stream.clone();
        state.insert(presence.clone());
        (true, visible_event(&stream, vec![presence], Vec::new()))
    }

    fn update(&self, presence: Presence) -> PresenceEvent {
        let mut state = self.state.write();
        let stream = presence.stream.clone();
        let old = state.insert(presence.clone());
        visible_event(&stream, vec![presence], old.into_iter().collect())
    }

    fn untrack(&self, session: SessionId, stream: &Stream) -> PresenceEvent {
        let removed = self.state.write().remove(session, stream);
        visible_event(stream, Vec::new(), removed.into_iter().collect())
    }

    fn untrack_session(&self, session: SessionId) -> Vec<PresenceEvent> {
        self.state.write().remove_session_where(session, |_| true)
    }

    fn list(&self, stream: &Stream, include_hidden: bool) -> Vec<Presence> {
        let state = self.state.read();
        let mut list: Vec<Presence> = state
            .by_stream
            .get(stream)
            .map(|m| m.values().filter(|p| include_hidden || !p.meta.hidden).cloned().collect())
            .unwrap_or_default();
        list.sort_by_key(|p| p.session_id);
        list
    }

    fn get(&self, session: SessionId, stream: &Stream) -> Option<Presence> {
        self.state.read().by_stream.get(stream)?.get(&session).cloned()
    }

    fn session_ids(&self, stream: &Stream) -> Vec<SessionId> {
        let state = self.state.read();
        state.by_stream.get(stream).map(|m| m.keys().copied().collect()).unwrap_or_default()
    }

    fn streams_of_mode(&self, mode: u8) -> Vec<(Stream, usize)> {
        let state = self.state.read();
        let Some(streams) = state.by_mode.get(&mode) else { return Vec::new() };
        streams.iter().map(|s| (s.clone(), state.by_stream.get(s).map_or(0, HashMap::len))).collect()
    }

    fn untrack_modes(&self, session: SessionId, modes: &[u8], keep: &Stream) -> Vec<PresenceEvent> {
        let mut state = self.state.write();
        state.remove_session_where(session, |s| s != keep && modes.contains(&s.mode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(session: SessionId, user: Uuid, stream: &Stream, status: &str, hidden: bool) -> Presence {
        Presence {
            session_id: session,
            user_id: user,
            stream: stream.clone(),
            meta: PresenceMeta { username: "u".into(), hidden, persistence: false, status: status.into() },
        }
    }

    #[test]
    fn track_is_idempotent_and_hidden_presences_make_no_events() {
        let t = LocalTracker::default();
        let (s, u) = (SessionId(Uuid::new_v4()), Uuid::new_v4());
        let stream = Stream::status(u);
        let (new, event) = t.track(presence(s, u, &stream, "", false));
        assert!(new);
        assert_eq!(event.joins.len(), 1);
        let (new, event) = t.track(presence(s, u, &stream, "", false));
        assert!(!new);
        assert_eq!(event, PresenceEvent::default());
        let hidden = Stream { mode: mode::NOTIFICATIONS, subject: u, subcontext: Uuid::nil(), label: String::new() };
        assert_eq!(t.track(presence(s, u, &hidden, "", true)).1, PresenceEvent::default());
        assert_eq!(t.list(&hidden, false).len(), 0);
        assert_eq!(t.list(&hidden, true).len(), 1);
    }

    #[test]
    fn update_emits_leave_of_the_old_and_join_of_the_new() {
        let t = LocalTracker::default();
        let (s, u) = (SessionId(Uuid::new_v4()), Uuid::new_v4());
        let stream = Stream::status(u);
        t.track(presence(s, u, &stream, "a", false));
        let event = t.update(presence(s, u, &stream, "b", false));
        assert_eq!(event.leaves[0].meta.status, "a");
        assert_eq!(event.joins[0].meta.status, "b");
        assert_eq!(t.get(s, &stream).unwrap().meta.status, "b");
    }

    #[test]
    fn untracking_a_session_removes_every_presence_with_leaves() {
        let t = LocalTracker::default();
        let (s, other, u) = (SessionId(Uuid::new_v4()), SessionId(Uuid::new_v4()), Uuid::new_v4());
        let a = Stream::status(u);
        let b = Stream { mode: 100, subject: u, subcontext: Uuid::nil(), label: "x".into() };
        t.track(presence(s, u, &a, "", false));
        t.track(presence(s, u, &b, "", false));
        t.track(presence(other, u, &b, "", false));
        let events = t.untrack_session(s);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.leaves.len() == 1 && e.joins.is_empty()));
        assert!(t.list(&a, true).is_empty());
        assert_eq!(t.list(&b, true).len(), 1);
        assert!(t.untrack_session(s).is_empty());
    }

    #[test]
    fn streams_are_indexed_by_mode_while_they_have_presences() {
        let t = LocalTracker::default();
        let (s, other, u) = (SessionId(Uuid::new_v4()), SessionId(Uuid::new_v4()), Uuid::new_v4());
        let m1 = Stream { mode: mode::MATCH_RELAYED, subject: Uuid::new_v4(), subcontext: Uuid::nil(), label: String::new() };
        let m2 = Stream { mode: mode::MATCH_RELAYED, subject: Uuid::new_v4(), subcontext: Uuid::nil(), label: String::new() };
        t.track(presence(s, u, &m1, "", false));
        t.track(presence(other, u, &m1, "", false));
        t.track(presence(s, u, &m2, "", false));
        t.track(presence(s, u, &Stream::status(u), "", false));
        let mut listed = t.streams_of_mode(mode::MATCH_RELAYED);
        listed.sort();
        let mut expected = vec![(m1.clone(), 2), (m2.clone(), 1)];
        expected.sort();
        assert_eq!(listed, expected);

        // Leaving every match but m2 keeps the status presence and m2.
        let events = t.untrack_modes(s, &[mode::MATCH_RELAYED, mode::MATCH_AUTHORITATIVE], &m2);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].stream.as_ref(), Some(&m1));
        assert_eq!(t.streams_of_mode(mode::MATCH_RELAYED).len(), 2);
        t.untrack(other, &m1);
        assert_eq!(t.streams_of_mode(mode::MATCH_RELAYED), vec![(m2.clone(), 1)]);
        assert_eq!(t.list(&Stream::status(u), false).len(), 1);
    }
}
