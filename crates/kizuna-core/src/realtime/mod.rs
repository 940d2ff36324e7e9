//! Realtime state shared by every socket feature (Nakama `session_registry.go`,
//! `message_router.go`): live sessions, their outbound queues, and delivery of envelopes.
//!
//! Ownership: [`Sessions`] owns the registry map (a `parking_lot::RwLock` (no poisoning), held only for map
//! operations, never across `.await`). Each session's outbound queue is a bounded channel owned by
//! that session's writer task at the edge; senders here only `try_send`, and a full queue closes
//! the session (as Nakama does) instead of blocking the sender or dropping messages.
//!
//! Encoding happens once per message and format: an [`Outgoing`] holds the envelope and lazily
//! caches its JSON and protobuf bytes, so a broadcast to many sessions serialises at most twice.

mod session;
mod status;
pub mod tracker;

pub use session::{CloseReason, Format, Outgoing, SessionHandle, SessionId, Sessions};
pub use status::StatusFollows;
pub use tracker::{LocalTracker, Presence, PresenceEvent, PresenceMeta, Stream, Tracker};
