//! Who follows whose status (Nakama `status_registry.go`). Following is per session.

use std::collections::{HashMap, HashSet};

use parking_lot::RwLock;

use uuid::Uuid;

use super::SessionId;

/// Follow relations of live sessions. One lock, held for map operations only.
#[derive(Default)]
pub struct StatusFollows {
    state: RwLock<FollowState>,
}

#[derive(Default)]
struct FollowState {
    /// Followed user → sessions following them.
    followers: HashMap<Uuid, HashSet<SessionId>>,
    /// Session → users it follows.
    following: HashMap<SessionId, HashSet<Uuid>>,
}

impl StatusFollows {
    pub fn follow(&self, session: SessionId, users: &[Uuid]) {
        let mut s = self.state.write();
        for user in users {
            s.followers.entry(*user).or_default().insert(session);
            s.following.entry(session).or_default().insert(*user);
        }
    }

    pub fn unfollow(&self, session: SessionId, users: &[Uuid]) {
        let mut s = self.state.write();
        for user in users {
            if let Some(set) = s.followers.get_mut(user) {
                set.remove(&session);
                if set.is_empty() {
                    s.followers.remove(user);
                }
            }
            if let Some(set) = s.following.get_mut(&session) {
                set.remove(user);
            }
        }
        if s.following.get(&session).is_some_and(HashSet::is_empty) {
            s.following.remove(&session);
        }
    }

    /// Drops every follow of a session (disconnect).
    pub fn unfollow_all(&self, session: SessionId) {
        let users: Vec<Uuid> =
            self.state.read().following.get(&session).map(|s| s.iter().copied().collect()).unwrap_or_default();
        self.unfollow(session, &users);
    }

    /// Sessions following `user`.
    pub fn followers(&self, user: Uuid) -> Vec<SessionId> {
        self.state.read().followers.get(&user).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }
}
