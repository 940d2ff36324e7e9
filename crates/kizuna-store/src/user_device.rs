//! The `user_device` table: device ids linked to accounts (Nakama `core_link.go`,
//! `core_unlink.go`, `core_account.go`).

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::{Store, StoreError};

/// Outcome of linking a device id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDevice {
    /// Linked now, or it was already this account's.
    Linked,
    /// Another account owns the device id.
    OwnedByOther,
}

impl Store {
    /// Links a device id to an account.
    pub async fn link_device(&self, user_id: Uuid, device_id: &str, now: DateTime<Utc>) -> Result<LinkDevice, StoreError> {
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let owner: Option<(Uuid,)> = sqlx::query_as("SELECT user_id FROM user_device WHERE id = $1")
                .bind(device_id).fetch_optional(&mut *tx).await?;
            match owner {
                Some((owner,)) if owner != user_id => return Ok(LinkDevice::OwnedByOther),
                Some(_) => {}
                None => {
                    let inserted = sqlx::query("INSERT INTO user_device (id, user_id) VALUES ($1, $2)")
                        .bind(device_id).bind(user_id).execute(&mut *tx).await;
                    if let Err(e) = inserted {
                        return match StoreError::from(e) {
                            StoreError::Unique(_) => Ok(LinkDevice::OwnedByOther),
                            other => Err(other),
                        };
                    }
                }
            }
            sqlx::query("UPDATE users SET update_time = $2 WHERE id = $1")
                .bind(user_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(LinkDevice::Linked)
    }

    /// Removes a device id from an account if the account keeps another identifier.
    /// Returns whether it was removed.
    pub async fn unlink_device(&self, user_id: Uuid, device_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let keeps_other = crate::users::other_identifier_exists_for_device();
        let sql = format!("DELETE FROM user_device WHERE id = $2 AND user_id = $1 AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND {keeps_other})");
        let removed = crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let n = sqlx::query(AssertSqlSafe(sql.as_str())).bind(user_id).bind(device_id).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                sqlx::query("UPDATE users SET update_time = $2 WHERE id = $1")
                    .bind(user_id).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n > 0
        });
        Ok(removed)
    }
}
