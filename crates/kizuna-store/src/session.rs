//! `kizuna_session_revocation`: the session revocations that must outlive a restart — logouts,
//! "log out everywhere" marks and deleted accounts. Nakama keeps these in memory only
//! (`session_cache.go`); core holds the live copy and writes through here.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Store, StoreError};

/// What a revocation row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum RevocationKind {
    /// One session token, by token id.
    SessionToken = 0,
    /// One refresh token, by token id.
    RefreshToken = 1,
    /// Every token of the user issued before `create_time`.
    AllBefore = 2,
    /// The account was deleted at `create_time`.
    AccountDeleted = 3,
}

impl RevocationKind {
    fn from_i16(v: i16) -> Option<RevocationKind> {
        Some(match v {
            0 => RevocationKind::SessionToken,
            1 => RevocationKind::RefreshToken,
            2 => RevocationKind::AllBefore,
            3 => RevocationKind::AccountDeleted,
            _ => return None,
        })
    }
}

/// One revocation; `token_id` is empty for the account-wide kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    pub user_id: Uuid,
    pub kind: RevocationKind,
    pub token_id: String,
    pub create_time: DateTime<Utc>,
    /// When every token the row can concern has expired; the row is forgotten then.
    pub expire_time: DateTime<Utc>,
}

/// Writes revocations inside an open transaction (a later mark of the same key wins).
#[macro_export]
#[doc(hidden)]
macro_rules! session_revoke_in_tx {
    ($tx:expr, $rows:expr) => {{
        for r in $rows {
            let r: &$crate::session::Revocation = r;
            sqlx::query(
                "INSERT INTO kizuna_session_revocation (user_id, kind, token_id, create_time, expire_time) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, kind, token_id) \
                 DO UPDATE SET create_time = excluded.create_time, expire_time = excluded.expire_time",
            )
            .bind(r.user_id)
            .bind(r.kind as i16)
            .bind(&r.token_id)
            .bind(r.create_time)
            .bind(r.expire_time)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl Store {
    /// Records revocations durably, all or none.
    pub async fn session_revoke(&self, rows: &[Revocation]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            crate::session_revoke_in_tx!(tx, rows);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every revocation still in force at `now` (loaded at start-up).
    pub async fn session_revocations(&self, now: DateTime<Utc>) -> Result<Vec<Revocation>, StoreError> {
        type Row = (Uuid, i16, String, DateTime<Utc>, DateTime<Utc>);
        let sql = "SELECT user_id, kind, token_id, create_time, expire_time FROM kizuna_session_revocation WHERE expire_time > $1";
        let rows: Vec<Row> = crate::dispatch_read!(self, pool => sqlx::query_as(sql).bind(now).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .filter_map(|(user_id, kind, token_id, create_time, expire_time)| {
                Some(Revocation { user_id, kind: RevocationKind::from_i16(kind)?, token_id, create_time, expire_time })
            })
            .collect())
    }

    /// Forgets revocations that expired by `now`; returns how many.
    pub async fn session_revocations_sweep(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let n = crate::dispatch_write!(self, pool =>
            sqlx::query("DELETE FROM kizuna_session_revocation WHERE expire_time <= $1").bind(now).execute(pool).await?.rows_affected());
        Ok(n)
    }
}
