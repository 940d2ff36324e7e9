//! The `storage` table: JSON objects keyed by (collection, key, owner) with read/write
//! permissions and versions (Nakama `core_storage.go`).
//!
//! Rules live in core; this file runs them inside one transaction per batch: operations sorted by
//! (collection, key, owner) so concurrent batches lock rows in the same order; inserts use
//! `ON CONFLICT DO NOTHING` and existing rows are re-read `FOR UPDATE` on PostgreSQL (SQLite has a
//! single writer), so of two racing conditional writes exactly one wins.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::{Store, StoreError};

/// A stored object.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StorageRow {
    pub collection: String,
    pub key: String,
    pub user_id: Uuid,
    #[sqlx(json)]
    pub value: Box<RawValue>,
    pub version: String,
    pub read: i16,
    pub write: i16,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

const STORAGE_COLUMNS: &str = "collection, key, user_id, value, version, read, write, create_time, update_time";

/// One write of a batch. `condition` is the client's `version`: empty (unconditional), `*`
/// (only if absent) or a version that must match.
#[derive(Debug, Clone)]
pub struct StorageWrite {
    pub collection: String,
    pub key: String,
    pub user_id: Uuid,
    /// A JSON object, validated by the caller.
    pub value: String,
    /// The version the value gets (MD5 of `value`).
    pub new_version: String,
    pub condition: String,
    pub read: i16,
    pub write: i16,
}

/// The acknowledgement of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageAck {
    pub collection: String,
    pub key: String,
    pub user_id: Uuid,
    pub version: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// One delete of a batch; `version` empty means any.
#[derive(Debug, Clone)]
pub struct StorageDelete {
    pub collection: String,
    pub key: String,
    pub user_id: Uuid,
    pub version: String,
}

/// Why a batch was refused; nothing of it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageReject {
    Version,
    Permission,
    /// Deletes: not found, version mismatch or not writable (Nakama does not distinguish).
    Delete,
}

/// Which objects a listing may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    /// Public objects of every owner, ordered by (key, owner). Client without `user_id`.
    Public,
    /// The caller's own readable objects (read ≥ 1), ordered by (read, key).
    Own(Uuid),
    /// Another owner's public objects, ordered by key.
    OthersPublic(Uuid),
    /// Server authority: every object, of one owner (ordered by (read, key)) or of all
    /// (ordered by (read, key, owner)).
    Any(Option<Uuid>),
}

/// Where a listing page starts: strictly after this object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    pub read: i16,
    pub key: String,
    pub user_id: Uuid,
}

/// Applies a sorted batch of writes inside an open transaction. Expands once per backend (the
/// dispatch macro compiles bodies per pool type), so multi-operation transactions can reuse it.
#[macro_export]
#[doc(hidden)]
macro_rules! storage_write_in_tx {
    ($tx:expr, $ops:expr, $authoritative:expr, $for_update:expr, $now:expr) => {{
        let mut acks: Vec<(usize, $crate::storage::StorageAck)> = Vec::with_capacity($ops.len());
        let mut rejected = None;
        for (index, op) in $ops {
            let op: &$crate::storage::StorageWrite = op;
            let raw: &serde_json::value::RawValue = serde_json::from_str(&op.value)
                .map_err(|e| $crate::StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
            let value = sqlx::types::Json(raw);
            // An unconditional write that loses an insert race to a concurrent create looks
            // again: the row is there now (PostgreSQL's ON CONFLICT waited for the other commit)
            // and is updated like any existing row. Only a supplied version may reject.
            let mut attempts = 0;
            'op: loop {
                attempts += 1;
                if op.condition != "*" {
                    // Existing row (locked on PostgreSQL).
                    let sql = format!("SELECT version, read, write, create_time, update_time FROM storage \
                                       WHERE collection = $1 AND key = $2 AND user_id = $3{}", $for_update);
                    type Existing = (String, i16, i16, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);
                    let existing: Option<Existing> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(&op.collection).bind(&op.key).bind(op.user_id)
                        .fetch_optional(&mut *$tx).await?;
                    if let Some((version, read, write, create_time, stored_update_time)) = existing {
                        if !$authoritative && write != 1 {
                            rejected = Some($crate::storage::StorageReject::Permission);
                            break 'op;
                        }
                        if !op.condition.is_empty() && op.condition != version {
                            rejected = Some($crate::storage::StorageReject::Version);
                            break 'op;
                        }
                        // An unconditional write that changes nothing is acknowledged as stored;
                        // a matching if-match always updates.
                        let unchanged = op.condition.is_empty() && version == op.new_version && read == op.read && write == op.write;
                        let update_time = if unchanged { stored_update_time } else { $now };
                        if !unchanged {
                            sqlx::query("UPDATE storage SET value = $4, version = $5, read = $6, write = $7, update_time = $8 \
                                         WHERE collection = $1 AND key = $2 AND user_id = $3")
                                .bind(&op.collection).bind(&op.key).bind(op.user_id)
                                .bind(value).bind(&op.new_version).bind(op.read).bind(op.write).bind($now)
                                .execute(&mut *$tx).await?;
                        }
                        let version = if unchanged { version } else { op.new_version.clone() };
                        acks.push((index, $crate::storage::StorageAck {
                            collection: op.collection.clone(), key: op.key.clone(), user_id: op.user_id,
                            version, create_time, update_time,
                        }));
                        break 'op;
                    }
                    if !op.condition.is_empty() {
                        // If-match on a missing object.
                        rejected = Some($crate::storage::StorageReject::Version);
                        break 'op;
                    }
                }
                let inserted = sqlx::query("INSERT INTO storage (collection, key, user_id, value, version, read, write, create_time, update_time) \
                                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (collection, key, user_id) DO NOTHING")
                    .bind(&op.collection).bind(&op.key).bind(op.user_id)
                    .bind(value).bind(&op.new_version).bind(op.read).bind(op.write).bind($now)
                    .execute(&mut *$tx).await?.rows_affected();
                if inserted == 0 {
                    if op.condition.is_empty() && attempts < 3 {
                        continue 'op;
                    }
                    // `*` on an existing object (or an object that keeps appearing and vanishing).
                    rejected = Some($crate::storage::StorageReject::Version);
                    break 'op;
                }
                acks.push((index, $crate::storage::StorageAck {
                    collection: op.collection.clone(), key: op.key.clone(), user_id: op.user_id,
                    version: op.new_version.clone(), create_time: $now, update_time: $now,
                }));
                break 'op;
            }
            if rejected.is_some() {
                break;
            }
        }
        match rejected {
            Some(r) => Err(r),
            None => {
                acks.sort_by_key(|(i, _)| *i);
                Ok(acks.into_iter().map(|(_, a)| a).collect::<Vec<_>>())
            }
        }
    }};
}

/// Applies a sorted batch of deletes inside an open transaction.
#[macro_export]
#[doc(hidden)]
macro_rules! storage_delete_in_tx {
    ($tx:expr, $ops:expr, $authoritative:expr) => {{
        let mut rejected = false;
        for op in $ops {
            let op: &$crate::storage::StorageDelete = op;
            let mut q = sqlx::QueryBuilder::new("DELETE FROM storage WHERE collection = ");
            q.push_bind(&op.collection).push(" AND key = ").push_bind(&op.key).push(" AND user_id = ").push_bind(op.user_id);
            if !$authoritative {
                q.push(" AND write > 0");
            }
            if !op.version.is_empty() {
                q.push(" AND version = ").push_bind(&op.version);
            }
            let n = q.build().execute(&mut *$tx).await?.rows_affected();
            // Clients must hit an existing, writable object; the server only fails a version
            // mismatch (a missing object without a version is a no-op for it).
            if n == 0 && (!$authoritative || !op.version.is_empty()) {
                rejected = true;
                break;
            }
        }
        if rejected { Err($crate::storage::StorageReject::Delete) } else { Ok(()) }
    }};
}

/// Sorts writes by (collection, key, owner), keeping their request positions.
pub(crate) fn sorted_writes(ops: &[StorageWrite]) -> Vec<(usize, &StorageWrite)> {
    let mut sorted: Vec<(usize, &StorageWrite)> = ops.iter().enumerate().collect();
    sorted.sort_by(|(_, a), (_, b)| (&a.collection, &a.key, a.user_id).cmp(&(&b.collection, &b.key, b.user_id)));
    sorted
}

/// Sorts deletes by (collection, key, owner).
pub(crate) fn sorted_deletes(ops: &[StorageDelete]) -> Vec<&StorageDelete> {
    let mut sorted: Vec<&StorageDelete> = ops.iter().collect();
    sorted.sort_by(|a, b| (&a.collection, &a.key, a.user_id).cmp(&(&b.collection, &b.key, b.user_id)));
    sorted
}

impl Store {
    /// `FOR UPDATE` where the backend has it.
    pub(crate) fn for_update(&self) -> &'static str {
        if self.is_postgres() { " FOR UPDATE" } else { "" }
    }

    /// Writes a batch atomically. Acks come back in request order.
    pub async fn storage_write(
        &self,
        ops: &[StorageWrite],
        authoritative: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<Vec<StorageAck>, StorageReject>, StoreError> {
        if let [op] = ops
            && op.condition.is_empty()
        {
            return self.storage_write_one(op, authoritative, now).await;
        }
        let sorted = sorted_writes(ops);
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let outcome = storage_write_in_tx!(tx, sorted.iter().copied(), authoritative, for_update, now);
            if outcome.is_ok() { tx.commit().await?; } else { tx.rollback().await?; }
            Ok(outcome)
        })
    }

    /// One unconditional write (the common case) as a single upsert statement: one round trip
    /// and no transaction instead of begin, locking read, write and commit. Same outcome as the
    /// batch path: an unchanged object keeps its update time, and a client may not overwrite an
    /// object whose `write` is not 1 (the upsert then returns no row).
    async fn storage_write_one(
        &self,
        op: &StorageWrite,
        authoritative: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<Vec<StorageAck>, StorageReject>, StoreError> {
        let raw: &RawValue = serde_json::from_str(&op.value).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
        let sql = "INSERT INTO storage (collection, key, user_id, value, version, read, write, create_time, update_time) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                   ON CONFLICT (collection, key, user_id) DO UPDATE SET value = excluded.value, version = excluded.version, \
                   read = excluded.read, write = excluded.write, update_time = CASE WHEN storage.version = excluded.version \
                   AND storage.read = excluded.read AND storage.write = excluded.write THEN storage.update_time \
                   ELSE excluded.update_time END \
                   WHERE $9 OR storage.write = 1 \
                   RETURNING version, create_time, update_time";
        let row: Option<(String, DateTime<Utc>, DateTime<Utc>)> = crate::dispatch_write!(self, pool =>
            sqlx::query_as(sql)
                .bind(&op.collection).bind(&op.key).bind(op.user_id).bind(sqlx::types::Json(raw)).bind(&op.new_version)
                .bind(op.read).bind(op.write).bind(now).bind(authoritative)
                .fetch_optional(pool).await?);
        let Some((version, create_time, update_time)) = row else {
            return Ok(Err(StorageReject::Permission));
        };
        Ok(Ok(vec![StorageAck { collection: op.collection.clone(), key: op.key.clone(), user_id: op.user_id, version, create_time, update_time }]))
    }

    /// Deletes a batch atomically.
    pub async fn storage_delete(&self, ops: &[StorageDelete], authoritative: bool) -> Result<Result<(), StorageReject>, StoreError> {
        let sorted = sorted_deletes(ops);
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let outcome = storage_delete_in_tx!(tx, sorted.iter().copied(), authoritative);
            if outcome.is_ok() { tx.commit().await?; } else { tx.rollback().await?; }
            Ok(outcome)
        })
    }

    /// Reads objects by id. `caller` `None` is the server's authority (no permission filter);
    /// otherwise only public objects and the caller's owner-readable ones are returned.
    pub async fn storage_read(&self, ids: &[(String, String, Uuid)], caller: Option<Uuid>) -> Result<Vec<StorageRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(format!("SELECT {STORAGE_COLUMNS} FROM storage WHERE ("));
            for (i, (collection, key, user_id)) in ids.iter().enumerate() {
                if i > 0 { q.push(" OR "); }
                q.push("(collection = ").push_bind(collection.as_str())
                    .push(" AND key = ").push_bind(key.as_str())
                    .push(" AND user_id = ").push_bind(*user_id).push(")");
            }
            q.push(")");
            if let Some(caller) = caller {
                q.push(" AND (read = 2 OR (read = 1 AND user_id = ").push_bind(caller).push("))");
            }
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// One page of a collection listing, `limit + 1` rows at most (the extra row tells the caller
    /// there is a next page).
    pub async fn storage_list(
        &self,
        collection: &str,
        scope: ListScope,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Vec<StorageRow>, StoreError> {
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(format!("SELECT {STORAGE_COLUMNS} FROM storage WHERE collection = "));
            q.push_bind(collection);
            let order = match scope {
                ListScope::Public => {
                    q.push(" AND read = 2");
                    if let Some(p) = after {
                        q.push(" AND (key, user_id) > (").push_bind(p.key.clone()).push(", ").push_bind(p.user_id).push(")");
                    }
                    " ORDER BY key, user_id"
                }
                ListScope::Own(owner) | ListScope::Any(Some(owner)) => {
                    q.push(" AND user_id = ").push_bind(owner);
                    if matches!(scope, ListScope::Own(_)) { q.push(" AND read >= 1"); }
                    if let Some(p) = after {
                        q.push(" AND (read, key) > (").push_bind(p.read).push(", ").push_bind(p.key.clone()).push(")");
                    }
                    " ORDER BY read, key"
                }
                ListScope::OthersPublic(owner) => {
                    q.push(" AND user_id = ").push_bind(owner).push(" AND read = 2");
                    if let Some(p) = after {
                        q.push(" AND key > ").push_bind(p.key.clone());
                    }
                    " ORDER BY key"
                }
                ListScope::Any(None) => {
                    if let Some(p) = after {
                        q.push(" AND (read, key, user_id) > (").push_bind(p.read).push(", ")
                            .push_bind(p.key.clone()).push(", ").push_bind(p.user_id).push(")");
                    }
                    " ORDER BY read, key, user_id"
                }
            };
            q.push(order).push(" LIMIT ").push_bind(limit as i64 + 1);
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }
}
