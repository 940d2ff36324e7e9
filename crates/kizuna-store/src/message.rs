//! The `message` table: channel history (Nakama `core_channel.go`). A message belongs to the
//! stream of its channel: (mode, subject, descriptor, label) with nil UUIDs and "" for unset
//! parts — mode 2 rooms (label = room name), 3 groups (subject = group id), 4 direct messages
//! (subject and descriptor = the two user ids).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The stream a message is stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStream {
    pub mode: i16,
    pub subject: Uuid,
    pub descriptor: Uuid,
    pub label: String,
}

/// The history stream of a group's channel.
pub fn group_stream(group_id: Uuid) -> MessageStream {
    MessageStream { mode: 3, subject: group_id, descriptor: Uuid::nil(), label: String::new() }
}

/// A message to store. `content` is a JSON object.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: Uuid,
    pub code: i16,
    pub sender_id: Uuid,
    pub username: String,
    pub stream: MessageStream,
    pub content: String,
    pub create_time: DateTime<Utc>,
}

/// Inserts a [`NewMessage`] on an open transaction or connection.
#[macro_export]
#[doc(hidden)]
macro_rules! message_insert_in_tx {
    ($tx:expr, $m:expr) => {{
        let m: &$crate::message::NewMessage = $m;
        let content: &serde_json::value::RawValue =
            serde_json::from_str(&m.content).map_err(|e| $crate::StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
        sqlx::query(
            "INSERT INTO message (id, code, sender_id, username, stream_mode, stream_subject, stream_descriptor, \
             stream_label, content, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(m.id)
        .bind(m.code)
        .bind(m.sender_id)
        .bind(&m.username)
        .bind(m.stream.mode)
        .bind(m.stream.subject)
        .bind(m.stream.descriptor)
        .bind(&m.stream.label)
        .bind(sqlx::types::Json(content))
        .bind(m.create_time)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// A stored message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: uuid::Uuid,
    pub code: i16,
    pub sender_id: uuid::Uuid,
    pub username: String,
    #[sqlx(json)]
    pub content: Box<serde_json::value::RawValue>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl crate::Store {
    /// One page of a stream's history: oldest first when `forward`, newest first otherwise,
    /// strictly beyond `after` = (create_time, id) in that direction, at most `limit` rows.
    pub async fn messages_list(
        &self,
        stream: &MessageStream,
        forward: bool,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: usize,
    ) -> Result<Vec<MessageRow>, crate::StoreError> {
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT id, code, sender_id, username, content, create_time, update_time FROM message WHERE stream_mode = ");
            q.push_bind(stream.mode).push(" AND stream_subject = ").push_bind(stream.subject)
                .push(" AND stream_descriptor = ").push_bind(stream.descriptor)
                .push(" AND stream_label = ").push_bind(stream.label.clone());
            if let Some((t, id)) = after {
                q.push(if forward { " AND (create_time, id) > (" } else { " AND (create_time, id) < (" })
                    .push_bind(t).push(", ").push_bind(id).push(")");
            }
            q.push(if forward { " ORDER BY create_time, id" } else { " ORDER BY create_time DESC, id DESC" });
            q.push(" LIMIT ").push_bind(limit as i64);
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }
}

impl crate::Store {
    /// Stores a message.
    pub async fn message_insert(&self, m: &NewMessage) -> Result<(), crate::StoreError> {
        crate::dispatch_write!(self, pool => {
            #[allow(unused_mut)] // needed for the PostgreSQL pool connection only
            let mut conn = sqlx::Acquire::acquire(pool).await?;
            crate::message_insert_in_tx!(conn, m);
        });
        Ok(())
    }

    /// Edits a message of `sender_id` in `stream`. Returns its create time, or `None` when the
    /// sender has no message with that id there.
    pub async fn message_update(
        &self,
        stream: &MessageStream,
        id: Uuid,
        sender_id: Uuid,
        username: &str,
        content: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, crate::StoreError> {
        let content: &serde_json::value::RawValue =
            serde_json::from_str(content).map_err(|e| crate::StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
        let row: Option<(DateTime<Utc>,)> = crate::dispatch_write!(self, pool =>
            sqlx::query_as("UPDATE message SET update_time = $5, username = $4, content = $3 WHERE id = $1 AND sender_id = $2 \
                            AND stream_mode = $6 AND stream_subject = $7 AND stream_descriptor = $8 AND stream_label = $9 RETURNING create_time")
                .bind(id).bind(sender_id).bind(sqlx::types::Json(content)).bind(username).bind(now)
                .bind(stream.mode).bind(stream.subject).bind(stream.descriptor).bind(&stream.label)
                .fetch_optional(pool).await?);
        Ok(row.map(|r| r.0))
    }

    /// Deletes a message of `sender_id` in `stream`. Returns its create and update times, or
    /// `None` when the sender has no message with that id there.
    pub async fn message_delete(
        &self,
        stream: &MessageStream,
        id: Uuid,
        sender_id: Uuid,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, crate::StoreError> {
        let row = crate::dispatch_write!(self, pool =>
            sqlx::query_as("DELETE FROM message WHERE id = $1 AND sender_id = $2 \
                            AND stream_mode = $3 AND stream_subject = $4 AND stream_descriptor = $5 AND stream_label = $6 \
                            RETURNING create_time, update_time")
                .bind(id).bind(sender_id).bind(stream.mode).bind(stream.subject).bind(stream.descriptor).bind(&stream.label)
                .fetch_optional(pool).await?);
        Ok(row)
    }
}
