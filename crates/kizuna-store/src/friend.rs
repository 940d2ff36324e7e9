//! The `user_edge` table: friendships, invitations and blocks (Nakama `core_friend.go`).
//!
//! Every relationship is stored from each side: A→B and B→A rows with states 0 friend,
//! 1 invite sent, 2 invite received, 3 blocked (a block has only the blocker's row). A user's
//! `edge_count` is the number of rows it is the source of, kept in the same transaction as the
//! rows. Each operation first locks every user row it may touch, in id order, so concurrent
//! operations on the same users queue instead of deadlocking or double counting.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::{users::UserRow, Store, StoreError};

/// Friend states as stored.
pub mod state {
    pub const FRIEND: i16 = 0;
    pub const INVITE_SENT: i16 = 1;
    pub const INVITE_RECEIVED: i16 = 2;
    pub const BLOCKED: i16 = 3;
}

/// A relationship as listed: the other user and the caller's edge to them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FriendRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub state: i16,
    pub position: i64,
    pub edge_update_time: DateTime<Utc>,
    #[sqlx(json)]
    pub edge_metadata: Box<RawValue>,
}

/// What an add did for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendAdded {
    /// A new invitation (the target should hear of it).
    Invited,
    /// The target's invitation was accepted.
    Accepted,
}

/// The `users` columns with a table prefix, for joins.
pub(crate) fn user_columns(prefix: &str) -> String {
    crate::users::USER_COLUMNS.split(", ").map(|c| format!("{prefix}.{c}")).collect::<Vec<_>>().join(", ")
}

/// A sort position for a new edge: the current time in nanoseconds, strictly increasing within
/// this process (Nakama uses the bare UnixNano, which two edges created in the same nanosecond
/// would share).
pub(crate) fn next_position() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// Merges the members of JSON object `patch` into JSON object `base` (top level only, as
/// PostgreSQL's `jsonb || jsonb`).
fn merge_objects(base: &str, patch: &str) -> String {
    let mut base: serde_json::Map<String, serde_json::Value> = serde_json::from_str(base).unwrap_or_default();
    let patch: serde_json::Map<String, serde_json::Value> = serde_json::from_str(patch).unwrap_or_default();
    base.extend(patch);
    serde_json::Value::Object(base).to_string()
}

fn json(text: &str) -> Result<&RawValue, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))
}

/// One page of edges `e` from `source`, ordered by (state, position) from `from` (inclusive), at
/// most `limit` rows: `$sql` is the query up to `WHERE e.source_id = `; `$all_states` filters
/// the states listed when no state is asked for.
macro_rules! edge_page {
    ($store:expr, $sql:expr, $source:expr, $state:expr, $all_states:expr, $from:expr, $limit:expr) => {{
        let sql: String = $sql;
        let rows = crate::dispatch_read!($store, pool => {
            let mut q = sqlx::QueryBuilder::new(sql.as_str());
            q.push_bind($source);
            match $state {
                Some(s) => { q.push(" AND e.state = ").push_bind(s); }
                None => { q.push($all_states); }
            }
            if let Some((s, p)) = $from {
                q.push(" AND (e.state, e.position) >= (").push_bind(s).push(", ").push_bind(p).push(")");
            }
            q.push(" ORDER BY e.state, e.position LIMIT ").push_bind($limit as i64);
            q.build_query_as().fetch_all(pool).await?
        });
        rows
    }};
}
pub(crate) use edge_page;

/// Locks the rows of `user` and `targets` in id order (PostgreSQL; SQLite has one writer) and
/// evaluates to the ids that exist.
macro_rules! lock_users {
    ($tx:expr, $user:expr, $targets:expr, $for_update:expr) => {{
        let mut ids: Vec<Uuid> = $targets.to_vec();
        ids.push($user);
        ids.sort();
        ids.dedup();
        let mut q = QueryBuilder::new("SELECT id FROM users WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        q.push(") ORDER BY id").push($for_update);
        let rows: Vec<(Uuid,)> = q.build_query_as().fetch_all(&mut *$tx).await?;
        rows.into_iter().map(|r| r.0).collect::<std::collections::HashSet<Uuid>>()
    }};
}

/// Changes users' `edge_count` by `delta`, bumping `update_time` as Nakama does.
macro_rules! bump_edge_count {
    ($tx:expr, $ids:expr, $delta:expr, $now:expr) => {{
        for id in $ids {
            sqlx::query("UPDATE users SET edge_count = edge_count + $2, update_time = $3 WHERE id = $1")
                .bind(id)
                .bind($delta as i32)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// The states of the edges a→b and b→a.
macro_rules! edge_pair {
    ($tx:expr, $a:expr, $b:expr) => {{
        let rows: Vec<(Uuid, i16, String)> = sqlx::query_as(
            "SELECT source_id, state, CAST(metadata AS TEXT) FROM user_edge \
             WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)",
        )
        .bind($a)
        .bind($b)
        .fetch_all(&mut *$tx)
        .await?;
        let mut forward = None;
        let mut backward = None;
        for (source, state, metadata) in rows {
            if source == $a { forward = Some((state, metadata)) } else { backward = Some((state, metadata)) }
        }
        (forward, backward)
    }};
}

impl Store {
    /// User ids for usernames; unknown usernames are dropped.
    pub async fn user_ids_by_usernames(&self, usernames: &[String]) -> Result<Vec<Uuid>, StoreError> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(Uuid,)> = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new("SELECT id FROM users WHERE username IN (");
            let mut sep = q.separated(", ");
            for u in usernames { sep.push_bind(u.as_str()); }
            q.push(")");
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Whether `target` exists and has not blocked `user` (who may then open a direct chat).
    pub async fn user_exists_not_blocking(&self, target: Uuid, user: Uuid) -> Result<bool, StoreError> {
        let row: Option<(Uuid,)> = crate::dispatch_read!(self, pool =>
            sqlx::query_as("SELECT id FROM users WHERE id = $1 AND NOT EXISTS \
                            (SELECT 1 FROM user_edge WHERE source_id = $1 AND destination_id = $2 AND state = 3)")
                .bind(target).bind(user).fetch_optional(pool).await?);
        Ok(row.is_some())
    }

    /// `user_id` adds each target: accepts the target's invitation (merging `metadata` into the
    /// caller's edge), or invites the target. Targets the caller blocked, that blocked the
    /// caller, that do not exist or that already have an edge are skipped. One transaction.
    pub async fn friends_add(
        &self,
        user_id: Uuid,
        targets: &[Uuid],
        metadata: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, FriendAdded)>, StoreError> {
        let for_update = self.for_update();
        let mut done = Vec::new();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let existing = lock_users!(tx, user_id, targets, for_update);
            for &target in targets {
                if target == user_id || !existing.contains(&target) {
                    continue;
                }
                let (mine, theirs) = edge_pair!(tx, user_id, target);
                match (mine, theirs) {
                    (Some((state::INVITE_RECEIVED, my_metadata)), Some((state::INVITE_SENT, _))) => {
                        let merged = merge_objects(&my_metadata, metadata);
                        sqlx::query("UPDATE user_edge SET state = 0, update_time = $3, metadata = $4 \
                                     WHERE source_id = $1 AND destination_id = $2")
                            .bind(user_id).bind(target).bind(now).bind(sqlx::types::Json(json(&merged)?))
                            .execute(&mut *tx).await?;
                        sqlx::query("UPDATE user_edge SET state = 0, update_time = $3 WHERE source_id = $1 AND destination_id = $2")
                            .bind(target).bind(user_id).bind(now)
                            .execute(&mut *tx).await?;
                        done.push((target, FriendAdded::Accepted));
                    }
                    (None, None) => {
                        let position = next_position();
                        sqlx::query("INSERT INTO user_edge (source_id, destination_id, state, position, update_time, metadata) \
                                     VALUES ($1, $2, 1, $3, $4, $5), ($2, $1, 2, $3, $4, '{}')")
                            .bind(user_id).bind(target).bind(position).bind(now).bind(sqlx::types::Json(json(metadata)?))
                            .execute(&mut *tx).await?;
                        bump_edge_count!(tx, [user_id, target], 1, now);
                        done.push((target, FriendAdded::Invited));
                    }
                    // Blocked either way, already friends, already invited.
                    _ => {}
                }
            }
            tx.commit().await?;
        });
        Ok(done)
    }

    /// Removes relationships: the caller's edge in any state and the target's unless it is a
    /// block. Returns the targets whose own edge went too (they are told they were removed).
    pub async fn friends_delete(&self, user_id: Uuid, targets: &[Uuid], now: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
        let for_update = self.for_update();
        let mut both = Vec::new();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let _ = lock_users!(tx, user_id, targets, for_update);
            for &target in targets {
                let (mine, theirs) = edge_pair!(tx, user_id, target);
                let theirs_goes = theirs.is_some_and(|(s, _)| s != state::BLOCKED);
                sqlx::query("DELETE FROM user_edge WHERE (source_id = $1 AND destination_id = $2) \
                             OR (source_id = $2 AND destination_id = $1 AND state <> 3)")
                    .bind(user_id).bind(target)
                    .execute(&mut *tx).await?;
                match (mine.is_some(), theirs_goes) {
                    (true, true) => {
                        bump_edge_count!(tx, [user_id, target], -1, now);
                        both.push(target);
                    }
                    (true, false) => bump_edge_count!(tx, [user_id], -1, now),
                    (false, true) => bump_edge_count!(tx, [target], -1, now),
                    (false, false) => {}
                }
            }
            tx.commit().await?;
        });
        Ok(both)
    }

    /// Blocks each existing target: the caller's edge becomes (or is created as) a block and the
    /// target's edge to the caller goes unless it is a block itself.
    pub async fn friends_block(&self, user_id: Uuid, targets: &[Uuid], now: DateTime<Utc>) -> Result<(), StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let existing = lock_users!(tx, user_id, targets, for_update);
            for &target in targets {
                if target == user_id {
                    continue;
                }
                let n = sqlx::query("UPDATE user_edge SET state = 3, update_time = $3 WHERE source_id = $1 AND destination_id = $2")
                    .bind(user_id).bind(target).bind(now)
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    if !existing.contains(&target) {
                        continue;
                    }
                    sqlx::query("INSERT INTO user_edge (source_id, destination_id, state, position, update_time) VALUES ($1, $2, 3, $3, $4)")
                        .bind(user_id).bind(target).bind(next_position()).bind(now)
                        .execute(&mut *tx).await?;
                    bump_edge_count!(tx, [user_id], 1, now);
                }
                let gone = sqlx::query("DELETE FROM user_edge WHERE source_id = $1 AND destination_id = $2 AND state <> 3")
                    .bind(target).bind(user_id)
                    .execute(&mut *tx).await?.rows_affected();
                if gone > 0 {
                    bump_edge_count!(tx, [target], -1, now);
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// One page of a user's relationships ordered by (state, position), starting at `from`
    /// (inclusive), at most `limit` rows.
    pub async fn friends_list(
        &self,
        user_id: Uuid,
        state: Option<i16>,
        from: Option<(i16, i64)>,
        limit: usize,
    ) -> Result<Vec<FriendRow>, StoreError> {
        let sql = format!(
            "SELECT {}, e.state, e.position, e.update_time AS edge_update_time, e.metadata AS edge_metadata \
             FROM user_edge e JOIN users u ON u.id = e.destination_id WHERE e.source_id = ",
            user_columns("u")
        );
        Ok(edge_page!(self, sql, user_id, state, "", from, limit))
    }

    /// Friends of the user's friends as (referrer, user) pairs in that order, from `from`
    /// (inclusive): the user and the user's own friends excluded, at most `limit` pairs.
    pub async fn friends_of_friends(&self, user_id: Uuid, from: Option<(Uuid, Uuid)>, limit: usize) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(
                "SELECT f.source_id, f.destination_id FROM user_edge f \
                 WHERE f.source_id IN (SELECT destination_id FROM user_edge WHERE state = 0 AND source_id = ");
            q.push_bind(user_id).push(") AND f.state = 0 AND f.destination_id <> ").push_bind(user_id)
                .push(" AND NOT EXISTS (SELECT 1 FROM user_edge m WHERE m.state = 0 AND m.destination_id = f.destination_id AND m.source_id = ")
                .push_bind(user_id).push(")");
            if let Some((r, u)) = from {
                q.push(" AND (f.source_id, f.destination_id) >= (").push_bind(r).push(", ").push_bind(u).push(")");
            }
            q.push(" ORDER BY f.source_id, f.destination_id LIMIT ").push_bind(limit as i64);
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions_strictly_increase_even_within_one_nanosecond() {
        let mut last = 0;
        for _ in 0..10_000 {
            let p = super::next_position();
            assert!(p > last);
            last = p;
        }
    }

    #[test]
    fn metadata_merges_top_level_members_like_jsonb_concatenation() {
        assert_eq!(super::merge_objects(r#"{"a":1,"b":{"x":1}}"#, r#"{"b":{"y":2},"c":3}"#), r#"{"a":1,"b":{"y":2},"c":3}"#);
    }
}
