//! Live socket sessions and their outbound queues.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use bytes::Bytes;
use parking_lot::RwLock;
use kizuna_proto::{json, realtime::Envelope};
use prost::Message;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

/// A socket session id (Nakama uses UUIDs for presences' session ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub Uuid);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The wire format a socket chose with `?format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text frames with Nakama's JSON.
    Json,
    /// Binary frames with protobuf.
    Protobuf,
}

/// An envelope on its way to one or many sessions, encoded at most once per format.
#[derive(Debug)]
pub struct Outgoing {
    envelope: Envelope,
    json: OnceLock<Bytes>,
    protobuf: OnceLock<Bytes>,
}

impl Outgoing {
    pub fn new(envelope: Envelope) -> Arc<Outgoing> {
        Arc::new(Outgoing { envelope, json: OnceLock::new(), protobuf: OnceLock::new() })
    }

    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The frame payload for `format`; the first caller encodes, the rest reuse the bytes.
    pub fn bytes(&self, format: Format) -> &Bytes {
        match format {
            Format::Json => self.json.get_or_init(|| Bytes::from(json::to_json(&self.envelope))),
            Format::Protobuf => self.protobuf.get_or_init(|| Bytes::from(self.envelope.encode_to_vec())),
        }
    }
}

/// Why the server closes a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The outbound queue overflowed.
    QueueFull,
    /// `session.single_socket`: a newer socket of the same user replaced this one.
    Replaced,
    /// Server shutdown, ban, account deletion, or a protocol error by the client.
    ServerDisconnect,
    /// The client sent a frame that does not decode.
    Malformed,
    /// The client sent a message over `socket.max_message_size_bytes`.
    TooBig,
}

impl CloseReason {
    /// The close frame's reason text.
    pub fn text(&self) -> &'static str {
        match self {
            CloseReason::QueueFull => "session outgoing queue full",
            CloseReason::Replaced | CloseReason::ServerDisconnect => "server-side session disconnect",
            CloseReason::Malformed => "received malformed payload",
            CloseReason::TooBig => "message too big",
        }
    }

    /// The close frame's status code: 1009 for an oversize message, 1000 otherwise.
    pub fn code(&self) -> u16 {
        match self {
            CloseReason::TooBig => 1009,
            _ => 1000,
        }
    }
}

/// What the rest of the server holds for a live session: identity and a way to reach its writer.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub id: SessionId,
    pub user_id: Uuid,
    pub username: String,
    pub format: Format,
    /// The outbound queue; its receiver belongs to the session's writer task.
    queue: mpsc::Sender<Arc<Outgoing>>,
    /// Set once to ask the session to close; watched by the session's tasks.
    close: watch::Sender<Option<CloseReason>>,
}

impl SessionHandle {
    /// Creates a handle and the receiving ends its edge tasks own.
    pub fn new(
        user_id: Uuid,
        username: String,
        format: Format,
        queue_size: usize,
    ) -> (SessionHandle, mpsc::Receiver<Arc<Outgoing>>, watch::Receiver<Option<CloseReason>>) {
        let (queue, rx) = mpsc::channel(queue_size.max(1));
        let (close, close_rx) = watch::channel(None);
        let handle = SessionHandle { id: SessionId(Uuid::new_v4()), user_id, username, format, queue, close };
        (handle, rx, close_rx)
    }

    /// Queues a message without waiting. A full queue closes the session, as Nakama does; a
    /// closed one means the session is already going away. Returns whether it was queued.
    ///
    /// The session's own answers cannot fill the queue: its reader waits for room before it
    /// reads the next request ([`SessionHandle::wait_for_room`]), so only pushes to a client that
    /// stopped reading overflow it.
    pub fn send(&self, message: Arc<Outgoing>) -> bool {
        match self.queue.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Logged once per session: every later push to it fails the same way.
                if self.close(CloseReason::QueueFull) {
                    tracing::warn!(session = %self.id, user = %self.user_id, "session outgoing queue full, closing");
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Waits until at least half of the outgoing queue is free (backpressure on the session's
    /// own requests: the reader calls this before reading the next one). Returns false when the
    /// session's writer is gone.
    pub async fn wait_for_room(&self) -> bool {
        let half = (self.queue.max_capacity() / 2).max(1);
        if self.queue.capacity() >= half {
            return true;
        }
        // Permits are only held to learn that the room exists; dropping them frees it again.
        self.queue.reserve_many(half).await.is_ok()
    }

    /// Asks the session to close (first reason wins). Returns whether this call set the reason.
    pub fn close(&self, reason: CloseReason) -> bool {
        self.close.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        })
    }
}

/// The registry of live sessions on this node.
#[derive(Default)]
pub struct Sessions {
    by_id: RwLock<HashMap<SessionId, SessionHandle>>,
    by_user: RwLock<HashMap<Uuid, Vec<SessionId>>>,
    /// Woken whenever a session is removed.
    removed: tokio::sync::Notify,
}

impl Sessions {
    pub fn add(&self, handle: SessionHandle) {
        self.by_user.write().entry(handle.user_id).or_default().push(handle.id);
        self.by_id.write().insert(handle.id, handle);
    }

    pub fn remove(&self, id: SessionId) -> Option<SessionHandle> {
        let handle = self.by_id.write().remove(&id)?;
        let mut by_user = self.by_user.write();
        if let Some(ids) = by_user.get_mut(&handle.user_id) {
            ids.retain(|s| *s != id);
            if ids.is_empty() {
                by_user.remove(&handle.user_id);
            }
        }
        drop(by_user);
        self.removed.notify_waiters();
        Some(handle)
    }

    pub fn get(&self, id: SessionId) -> Option<SessionHandle> {
        self.by_id.read().get(&id).cloned()
    }

    /// Every live session of a user.
    pub fn of_user(&self, user_id: Uuid) -> Vec<SessionHandle> {
        let ids = self.by_user.read().get(&user_id).cloned().unwrap_or_default();
        let by_id = self.by_id.read();
        ids.iter().filter_map(|id| by_id.get(id).cloned()).collect()
    }

    pub fn count(&self) -> usize {
        self.by_id.read().len()
    }

    /// Sends one message to each of `ids` that is live here, under one read of the registry and
    /// without copying handles; returns how many queued it.
    pub fn send_to_sessions(&self, ids: impl IntoIterator<Item = SessionId>, message: &Arc<Outgoing>) -> usize {
        let by_id = self.by_id.read();
        ids.into_iter().filter(|id| by_id.get(id).is_some_and(|h| h.send(message.clone()))).count()
    }

    /// Sends one message to every session of `user_id`; returns how many queued it.
    pub fn send_to_user(&self, user_id: Uuid, message: &Arc<Outgoing>) -> usize {
        self.of_user(user_id).iter().filter(|s| s.send(message.clone())).count()
    }

    /// Waits until `user_id` has no live session on this node.
    pub async fn wait_until_gone(&self, user_id: Uuid) {
        loop {
            let notified = self.removed.notified();
            tokio::pin!(notified);
            // Register before checking, so a removal in between is not missed.
            notified.as_mut().enable();
            if self.of_user(user_id).is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// Waits until no session is left on this node (shutdown: each session leaves the registry
    /// only after the request it was handling has finished).
    pub async fn wait_until_empty(&self) {
        loop {
            let notified = self.removed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Closes every session (server shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for handle in self.by_id.read().values() {
            handle.close(reason.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_proto::realtime::{envelope, Pong};

    fn pong() -> Arc<Outgoing> {
        Outgoing::new(Envelope { cid: "1".into(), message: Some(envelope::Message::Pong(Pong {})) })
    }

    #[test]
    fn outgoing_encodes_each_format_once_and_correctly() {
        let m = pong();
        let a = m.bytes(Format::Json).clone();
        let b = m.bytes(Format::Json).clone();
        assert_eq!(a.as_ptr(), b.as_ptr(), "JSON encoded once");
        assert_eq!(&a[..], br#"{"cid":"1","pong":{}}"#);
        assert_eq!(Envelope::decode(m.bytes(Format::Protobuf).clone()).unwrap(), *m.envelope());
    }

    #[tokio::test]
    async fn a_full_queue_closes_the_session_instead_of_blocking() {
        let (handle, mut rx, close) = SessionHandle::new(Uuid::new_v4(), "u".into(), Format::Json, 2);
        assert!(handle.send(pong()));
        assert!(handle.send(pong()));
        assert!(!handle.send(pong()));
        assert_eq!(*close.borrow(), Some(CloseReason::QueueFull));
        assert!(rx.recv().await.is_some());
    }

    #[test]
    fn registry_tracks_sessions_per_user() {
        let sessions = Sessions::default();
        let user = Uuid::new_v4();
        let (a, _ra, _ca) = SessionHandle::new(user, "u".into(), Format::Json, 4);
        let (b, _rb, _cb) = SessionHandle::new(user, "u".into(), Format::Protobuf, 4);
        sessions.add(a.clone());
        sessions.add(b.clone());
        assert_eq!(sessions.of_user(user).len(), 2);
        assert_eq!(sessions.send_to_user(user, &pong()), 2);
        sessions.remove(a.id);
        assert_eq!(sessions.of_user(user).len(), 1);
        sessions.remove(b.id);
        assert_eq!(sessions.count(), 0);
        assert!(sessions.of_user(user).is_empty());
    }
}
