//! The `notification` table: persistent in-app notifications (Nakama `core_notification.go`).

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::{Store, StoreError};

/// A stored notification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub subject: String,
    #[sqlx(json)]
    pub content: Box<RawValue>,
    pub code: i16,
    pub sender_id: Uuid,
    pub create_time: DateTime<Utc>,
}

/// A notification to store. `content` is a JSON object.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub subject: String,
    pub content: String,
    pub code: i16,
    pub sender_id: Uuid,
    pub create_time: DateTime<Utc>,
}

impl Store {
    /// Stores notifications in one transaction.
    pub async fn notifications_insert(&self, rows: &[NewNotification]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            for n in rows {
                let content: &RawValue = serde_json::from_str(&n.content).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
                sqlx::query("INSERT INTO notification (id, user_id, subject, content, code, sender_id, create_time) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(n.id).bind(n.user_id).bind(&n.subject).bind(sqlx::types::Json(content))
                    .bind(n.code).bind(n.sender_id).bind(n.create_time)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A user's notifications, oldest first, strictly after `after` = (create_time, id).
    pub async fn notifications_list(
        &self,
        user_id: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: usize,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(
                "SELECT id, user_id, subject, content, code, sender_id, create_time FROM notification WHERE user_id = ");
            q.push_bind(user_id);
            if let Some((t, id)) = after {
                q.push(" AND (create_time, id) > (").push_bind(t).push(", ").push_bind(id).push(")");
            }
            q.push(" ORDER BY create_time ASC, id ASC LIMIT ").push_bind(limit as i64);
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Deletes a user's notifications by id; unknown ids are ignored.
    pub async fn notifications_delete(&self, user_id: Uuid, ids: &[Uuid]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let n = crate::dispatch_write!(self, pool => {
            let mut q = QueryBuilder::new("DELETE FROM notification WHERE user_id = ");
            q.push_bind(user_id).push(" AND id IN (");
            let mut sep = q.separated(", ");
            for id in ids { sep.push_bind(*id); }
            q.push(")");
            q.build().execute(pool).await?.rows_affected()
        });
        Ok(n)
    }
}
