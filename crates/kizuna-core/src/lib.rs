//! Kizuna's rules. One function per Nakama RPC serves REST, the socket and the Lua runtime alike
//! (Nakama's `core_*.go`). Nothing here knows about HTTP, WebSockets or Lua.
//!
//! [`Core`] is the cheap-to-clone handle the edges hold: the store, the session cache and the
//! settings that rules depend on.

pub mod account;
pub mod auth;
pub mod channel;
mod error;
pub mod event;
pub mod friend;
pub mod group;
mod paging;
pub mod link;
pub mod matches;
pub mod matchmaker;
pub mod notification;
pub mod query;
pub mod realtime;
pub mod session;
pub mod social;
pub mod status;
pub mod storage;
pub mod stream;
pub mod wallet;
pub mod user;
mod validate;
mod identity_cache;

use std::sync::Arc;

pub use error::Error;
pub use session::{SessionConfig, SessionClaims};

use kizuna_store::Store;
use session::SessionCache;

/// Settings the rules depend on (a subset of the server configuration).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub session: SessionConfig,
    /// `session.single_match`: joining a match leaves the session's other matches.
    pub single_match: bool,
    pub matchmaker: matchmaker::MatchmakerConfig,
    /// `social.facebook_instant_game.app_secret`: the key of Facebook Instant Games' signed
    /// player info (empty is a valid key, as in Nakama).
    pub facebook_instant_game_app_secret: String,
}

/// The handle to everything the rules need. Clone it freely.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: CoreConfig,
    /// Revoked token ids and "log out everything" marks; owned here, locked briefly, never across
    /// an `.await`.
    revocations: SessionCache,
    session_keys: session::Keys,
    /// Live socket sessions on this node.
    realtime_sessions: realtime::Sessions,
    /// Presences of sessions on streams.
    tracker: Box<dyn realtime::Tracker>,
    /// Status follows of sessions.
    follows: realtime::StatusFollows,
    /// The matchmaker's pool of tickets.
    matchmaker: matchmaker::MatchmakerOwner,
    /// Compiled query patterns, shared by matchmaker tickets and match listings.
    regexes: Arc<query::RegexCache>,
    /// Authentication lookups of returning players.
    identities: identity_cache::IdentityCache,
}

impl Core {
    pub fn new(store: Store, config: CoreConfig) -> Core {
        let session_keys = session::Keys::new(&config.session);
        let matchmaker = matchmaker::MatchmakerOwner::spawn(matchmaker::Matchmaker::new(config.matchmaker.clone()));
        Core {
            inner: Arc::new(Inner {
                store,
                revocations: SessionCache::default(),
                session_keys,
                config,
                realtime_sessions: realtime::Sessions::default(),
                tracker: Box::new(realtime::LocalTracker::default()),
                follows: realtime::StatusFollows::default(),
                matchmaker,
                regexes: Arc::default(),
                identities: Default::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &CoreConfig {
        &self.inner.config
    }

    /// Gauges of the realtime state for operators (Prometheus): live sockets, relayed matches,
    /// matchmaker tickets.
    pub fn realtime_gauges(&self) -> RealtimeGauges {
        RealtimeGauges {
            sessions: self.sessions().count(),
            relayed_matches: self.inner.tracker.streams_of_mode(realtime::tracker::mode::MATCH_RELAYED).len(),
            matchmaker_tickets: self.inner.matchmaker.pool().ticket_count(),
        }
    }

    /// Whether the database answers (readiness).
    pub async fn database_ready(&self) -> Result<(), Error> {
        self.inner.store.ping().await.map_err(|e| {
            tracing::warn!(error = %e, "database not ready");
            Error::Unavailable("Database unavailable.".into())
        })
    }

    /// Forgets what authentication cached about `user`; called after every committed change to
    /// its identities, username or ban state (and, in a cluster, on every node).
    pub fn identity_changed(&self, user: uuid::Uuid) {
        self.inner.identities.invalidate_user(user);
    }

    /// Parses an untrusted query string. One that holds patterns is compiled on a blocking
    /// thread, so a costly pattern never holds up an async worker.
    pub(crate) async fn parse_query(&self, text: &str) -> Result<query::Query, query::ParseError> {
        let patterns = text != "*" && text.contains(['/', '*', '?']);
        if !patterns {
            return query::Query::parse_cached(text, &self.inner.regexes);
        }
        let (text, regexes) = (text.to_owned(), self.inner.regexes.clone());
        tokio::task::spawn_blocking(move || query::Query::parse_cached(&text, &regexes))
            .await
            .unwrap_or_else(|e| Err(query::ParseError(format!("query parsing failed: {e}"))))
    }

    /// The registry of live socket sessions.
    pub fn sessions(&self) -> &realtime::Sessions {
        &self.inner.realtime_sessions
    }
}

/// A snapshot of realtime figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeGauges {
    pub sessions: usize,
    pub relayed_matches: usize,
    pub matchmaker_tickets: usize,
}

/// Converts a database time to the wire timestamp (whole seconds, as Nakama sends).
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 }
}

/// Converts a time to the wire timestamp keeping its fraction (chat messages and their acks).
pub(crate) fn timestamp_precise(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}
