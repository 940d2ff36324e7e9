//! Wallets (`users.wallet`, a JSON map of currency → integer) and the `wallet_ledger` table
//! (Nakama `core_wallet.go`). Updates lock the users' rows in user-id order and either apply
//! every change or none.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::{Store, StoreError};

/// A change to one user's wallet. `metadata` is a JSON object recorded in the ledger.
#[derive(Debug, Clone)]
pub struct WalletChange {
    pub user_id: Uuid,
    pub changeset: BTreeMap<String, i64>,
    pub metadata: String,
}

/// A wallet before and after an applied change.
#[derive(Debug, Clone, PartialEq)]
pub struct WalletUpdated {
    pub user_id: Uuid,
    pub previous: BTreeMap<String, i64>,
    pub updated: BTreeMap<String, i64>,
}

/// Why a wallet batch was refused: a currency would go below zero (or overflow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletReject {
    pub path: String,
}

/// A ledger entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerRow {
    pub id: Uuid,
    pub user_id: Uuid,
    #[sqlx(json)]
    pub changeset: Box<RawValue>,
    #[sqlx(json)]
    pub metadata: Box<RawValue>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// Reads a stored wallet. Non-integer members (never written by Kizuna) are ignored.
pub fn parse_wallet(text: &str) -> BTreeMap<String, i64> {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    value
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| v.as_i64().map(|n| (k.clone(), n))).collect())
        .unwrap_or_default()
}

/// Applies `changeset` to `wallet`; the first currency that would leave 0..=i64::MAX is returned.
pub fn apply_changeset(wallet: &BTreeMap<String, i64>, changeset: &BTreeMap<String, i64>) -> Result<BTreeMap<String, i64>, WalletReject> {
    let mut next = wallet.clone();
    for (key, delta) in changeset {
        let old = next.get(key).copied().unwrap_or(0);
        match old.checked_add(*delta) {
            Some(n) if n >= 0 => {
                next.insert(key.clone(), n);
            }
            _ => return Err(WalletReject { path: key.clone() }),
        }
    }
    Ok(next)
}

/// Applies wallet changes inside an open transaction (rows locked in user-id order). Unknown
/// users are skipped.
#[macro_export]
#[doc(hidden)]
macro_rules! wallet_update_in_tx {
    ($tx:expr, $changes:expr, $update_ledger:expr, $for_update:expr, $now:expr) => {{
        let mut sorted: Vec<&$crate::wallet::WalletChange> = $changes.iter().collect();
        sorted.sort_by_key(|c| c.user_id);
        let mut results = Vec::with_capacity(sorted.len());
        let mut rejected = None;
        for change in sorted {
            let sql = format!("SELECT wallet FROM users WHERE id = $1{}", $for_update);
            let row: Option<(sqlx::types::Json<Box<serde_json::value::RawValue>>,)> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(change.user_id).fetch_optional(&mut *$tx).await?;
            let Some((wallet,)) = row else { continue };
            let previous = $crate::wallet::parse_wallet(wallet.0.get());
            let updated = match $crate::wallet::apply_changeset(&previous, &change.changeset) {
                Ok(u) => u,
                Err(reject) => {
                    rejected = Some(reject);
                    break;
                }
            };
            let text = serde_json::to_string(&updated).expect("a map of integers serializes");
            let raw: &serde_json::value::RawValue = serde_json::from_str(&text).expect("just serialized");
            sqlx::query("UPDATE users SET wallet = $2, update_time = $3 WHERE id = $1")
                .bind(change.user_id).bind(sqlx::types::Json(raw)).bind($now)
                .execute(&mut *$tx).await?;
            if $update_ledger {
                let changeset = serde_json::to_string(&change.changeset).expect("a map of integers serializes");
                let changeset: &serde_json::value::RawValue = serde_json::from_str(&changeset).expect("just serialized");
                let metadata: &serde_json::value::RawValue = serde_json::from_str(&change.metadata)
                    .map_err(|e| $crate::StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
                sqlx::query("INSERT INTO wallet_ledger (id, user_id, changeset, metadata, create_time, update_time) \
                             VALUES ($1, $2, $3, $4, $5, $5)")
                    .bind(uuid::Uuid::new_v4()).bind(change.user_id)
                    .bind(sqlx::types::Json(changeset)).bind(sqlx::types::Json(metadata)).bind($now)
                    .execute(&mut *$tx).await?;
            }
            results.push($crate::wallet::WalletUpdated { user_id: change.user_id, previous, updated });
        }
        match rejected { Some(r) => Err(r), None => Ok(results) }
    }};
}

impl Store {
    /// Applies wallet changes atomically: all or none.
    pub async fn wallet_update(
        &self,
        changes: &[WalletChange],
        update_ledger: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<Vec<WalletUpdated>, WalletReject>, StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let outcome = wallet_update_in_tx!(tx, changes, update_ledger, for_update, now);
            if outcome.is_ok() { tx.commit().await?; } else { tx.rollback().await?; }
            Ok(outcome)
        })
    }

    /// A user's ledger, newest first, strictly after `after` = (create_time, id) when given;
    /// `limit + 1` rows at most.
    pub async fn wallet_ledger_list(
        &self,
        user_id: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: usize,
    ) -> Result<Vec<LedgerRow>, StoreError> {
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT id, user_id, changeset, metadata, create_time, update_time FROM wallet_ledger WHERE user_id = ");
            q.push_bind(user_id);
            if let Some((t, id)) = after {
                q.push(" AND (create_time, id) < (").push_bind(t).push(", ").push_bind(id).push(")");
            }
            q.push(" ORDER BY create_time DESC, id DESC LIMIT ").push_bind(limit as i64 + 1);
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Merges `metadata` (a JSON object) into a ledger entry's metadata. `None` if no such entry.
    pub async fn wallet_ledger_update(&self, id: Uuid, metadata: &str, now: DateTime<Utc>) -> Result<Option<LedgerRow>, StoreError> {
        let patch: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(metadata).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let sql = format!("SELECT id, user_id, changeset, metadata, create_time, update_time FROM wallet_ledger WHERE id = $1{for_update}");
            let row: Option<LedgerRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await?;
            let Some(mut row) = row else { return Ok(None) };
            // `metadata || patch`: top-level members of the patch win.
            let mut merged: serde_json::Map<String, serde_json::Value> = serde_json::from_str(row.metadata.get()).unwrap_or_default();
            merged.extend(patch);
            let text = serde_json::to_string(&merged).expect("a JSON map serializes");
            let raw: &RawValue = serde_json::from_str(&text).expect("just serialized");
            sqlx::query("UPDATE wallet_ledger SET metadata = $2, update_time = $3 WHERE id = $1")
                .bind(id).bind(sqlx::types::Json(raw)).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            row.metadata = RawValue::from_string(text).expect("just serialized");
            row.update_time = now;
            Ok(Some(row))
        })
    }
}
