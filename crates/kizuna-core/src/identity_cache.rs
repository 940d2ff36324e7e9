//! Who signs in with which identity: a cache of the authentication lookup (device id, or an
//! identity column such as custom id or email → the account's id, username, password hash and
//! ban time), so a returning player's authentication needs no database read.
//!
//! Correctness on this node: every change to what a cached row says goes through core, and core
//! calls [`IdentityCache::invalidate_user`] after the change is committed (username update,
//! ban/unban, deletion, any link or unlink). Lookups that raced an invalidation are not cached:
//! a lookup notes the invalidation epoch before it reads the database and stores its row only if
//! no invalidation happened since. A cluster invalidates the same way, by user id, from the
//! node that made the change. Negative lookups are not cached (a new account must be found at
//! once). Code that writes the identity tables behind core's back (the runtime's `sql_exec`)
//! must call `invalidate_user`.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
};

use kizuna_store::users::{AuthRow, IdColumn};
use parking_lot::Mutex;
use uuid::Uuid;

/// Entries kept at most; when full the cache starts over (cheap, and rare at this size).
const CAPACITY: usize = 200_000;

/// An identity: a device id (`None`) or an identity column, with its value.
pub(crate) type IdentityKey = (Option<IdColumn>, String);

#[derive(Default)]
pub(crate) struct IdentityCache {
    /// Bumped by every invalidation; see the module docs.
    epoch: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    rows: HashMap<IdentityKey, AuthRow>,
    /// The keys cached for each user, for invalidation.
    by_user: HashMap<Uuid, Vec<IdentityKey>>,
}

impl IdentityCache {
    /// The epoch to pass to [`IdentityCache::put`] after a database read.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub(crate) fn get(&self, key: &IdentityKey) -> Option<AuthRow> {
        self.state.lock().rows.get(key).cloned()
    }

    /// Caches a row read from the database, unless an invalidation happened since `epoch`.
    pub(crate) fn put(&self, epoch: u64, key: IdentityKey, row: AuthRow) {
        let mut state = self.state.lock();
        // Checked under the lock: invalidations bump the epoch under it too.
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if state.rows.len() >= CAPACITY {
            state.rows.clear();
            state.by_user.clear();
        }
        state.by_user.entry(row.id).or_default().push(key.clone());
        state.rows.insert(key, row);
    }

    /// Forgets everything cached for `user` (call after the change is committed).
    pub(crate) fn invalidate_user(&self, user: Uuid) {
        let mut state = self.state.lock();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(keys) = state.by_user.remove(&user) {
            for key in keys {
                state.rows.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: Uuid, username: &str) -> AuthRow {
        AuthRow { id, username: username.into(), password: None, disable_time: kizuna_store::epoch() }
    }

    #[test]
    fn invalidation_removes_a_users_rows_and_blocks_racing_puts() {
        let cache = IdentityCache::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let key = |v: &str| (None, v.to_owned());
        cache.put(cache.epoch(), key("da"), row(a, "a"));
        cache.put(cache.epoch(), (Some(IdColumn::Custom), "ca".into()), row(a, "a"));
        cache.put(cache.epoch(), key("db"), row(b, "b"));
        assert_eq!(cache.get(&key("da")).unwrap().username, "a");

        // A lookup that started before an invalidation does not store its (stale) row.
        let before = cache.epoch();
        cache.invalidate_user(a);
        assert!(cache.get(&key("da")).is_none());
        assert!(cache.get(&(Some(IdColumn::Custom), "ca".into())).is_none());
        cache.put(before, key("da"), row(a, "stale"));
        assert!(cache.get(&key("da")).is_none());
        // Other users are untouched; later lookups cache again.
        assert_eq!(cache.get(&key("db")).unwrap().username, "b");
        cache.put(cache.epoch(), key("da"), row(a, "renamed"));
        assert_eq!(cache.get(&key("da")).unwrap().username, "renamed");
    }
}
