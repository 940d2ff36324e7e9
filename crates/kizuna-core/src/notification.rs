//! In-app notifications (Nakama `core_notification.go`, `api_notification.go`): persistent ones
//! are stored and delivered live; non-persistent ones only reach sockets connected now. Every
//! socket of the recipient gets them, as one `notifications` push per send.

use std::collections::BTreeMap;

use kizuna_proto::{
    api,
    realtime::{envelope::Message, Envelope, Notifications},
};
use kizuna_store::notification::{NewNotification, NotificationRow};
use uuid::Uuid;

use crate::{error::StoreContext, paging, realtime::Outgoing, storage::is_json_object, timestamp, Core, Error};

/// Reserved codes of notifications the server itself sends.
pub mod code {
    pub const DM_REQUEST: i32 = -1;
    pub const FRIEND_REQUEST: i32 = -2;
    pub const FRIEND_ACCEPT: i32 = -3;
    pub const GROUP_ADD: i32 = -4;
    pub const GROUP_JOIN_REQUEST: i32 = -5;
    pub const FRIEND_JOIN_GAME: i32 = -6;
    pub const SINGLE_SOCKET: i32 = -7;
    pub const USER_BANNED: i32 = -8;
    pub const FRIEND_REMOVE: i32 = -9;
}

/// A notification to send.
#[derive(Debug, Clone)]
pub struct NotificationSend {
    pub user_id: Uuid,
    pub subject: String,
    /// A JSON object.
    pub content: String,
    pub code: i32,
    /// `None`: sent by the system.
    pub sender_id: Option<Uuid>,
    pub persistent: bool,
}

/// The rules for notifications sent by runtime code: a subject, a JSON object, and a code that is
/// positive or in the range left to games (-2000..=-1000); other negative codes are the server's.
pub fn check_runtime_notification(n: &NotificationSend) -> Result<(), Error> {
    if n.subject.is_empty() {
        return Err(Error::invalid("expects subject to be a non-empty string"));
    }
    if !is_json_object(&n.content) {
        return Err(Error::invalid("expects content to be a JSON object"));
    }
    if n.code <= 0 && !(-2000..=-1000).contains(&n.code) {
        return Err(Error::invalid("expects code to number above 0"));
    }
    Ok(())
}

const BAD_CURSOR: &str = "Malformed cursor was used.";

/// A flat JSON object of strings, encoded as Go's `json.Marshal` does for a map: keys in sorted
/// order and `<`, `>`, `&`, U+2028, U+2029 escaped. Notification contents are built this way so
/// they are byte-identical to Nakama's.
pub(crate) fn json_object(pairs: &[(&str, &str)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = pairs.iter().copied().collect();
    let text = serde_json::to_string(&map).expect("strings serialize");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A non-persistent system notification (content `{}`) for one socket, sent just before the
/// server closes it: "single_socket" (−7) or "banned" (−8).
pub(crate) fn closing_push(subject: &str, code: i32) -> std::sync::Arc<Outgoing> {
    Outgoing::new(Envelope {
        cid: String::new(),
        message: Some(Message::Notifications(Notifications {
            notifications: vec![api::Notification {
                id: Uuid::new_v4().to_string(),
                subject: subject.into(),
                content: "{}".into(),
                code,
                sender_id: String::new(),
                create_time: Some(timestamp(kizuna_store::now())),
                persistent: false,
            }],
        })),
    })
}

/// The push a socket replaced under `session.single_socket` gets before it is closed: code −7,
/// not persistent, delivered to that socket only (not to the user's new one).
pub fn single_socket_push() -> std::sync::Arc<Outgoing> {
    closing_push("single_socket", code::SINGLE_SOCKET)
}

fn listed(row: NotificationRow) -> api::Notification {
    api::Notification {
        id: row.id.to_string(),
        subject: row.subject,
        content: row.content.get().to_owned(),
        code: row.code.into(),
        // A system sender is stored as the nil UUID and listed as empty, as Nakama does.
        sender_id: if row.sender_id.is_nil() { String::new() } else { row.sender_id.to_string() },
        create_time: Some(timestamp(row.create_time)),
        persistent: true,
    }
}

impl Core {
    /// Sends notifications: stores the persistent ones, then pushes each recipient's batch to every
    /// socket the recipient has on this node. Code and subject rules are the caller's (see
    /// [`check_runtime_notification`] for runtime code).
    pub async fn notifications_send(&self, list: Vec<NotificationSend>) -> Result<(), Error> {
        let now = kizuna_store::now();
        let mut stored = Vec::new();
        let mut by_user: BTreeMap<Uuid, Vec<api::Notification>> = BTreeMap::new();
        for (i, n) in list.into_iter().enumerate() {
            let id = Uuid::new_v4();
            // One microsecond apart, so a batch lists in the order it was sent.
            let now = now + chrono::Duration::microseconds(i as i64);
            let sender = n.sender_id.unwrap_or(Uuid::nil());
            if n.persistent {
                stored.push(NewNotification {
                    id,
                    user_id: n.user_id,
                    subject: n.subject.clone(),
                    content: n.content.clone(),
                    code: n.code as i16,
                    sender_id: sender,
                    create_time: now,
                });
            }
            by_user.entry(n.user_id).or_default().push(api::Notification {
                id: id.to_string(),
                subject: n.subject,
                content: n.content,
                code: n.code,
                // Live delivery carries the nil UUID for the system, as Nakama's does.
                sender_id: sender.to_string(),
                create_time: Some(timestamp(now)),
                persistent: n.persistent,
            });
        }
        self.store().notifications_insert(&stored).await.or_internal("Error sending notifications.")?;
        for (user_id, notifications) in by_user {
            let push = Outgoing::new(Envelope {
                cid: String::new(),
                message: Some(Message::Notifications(Notifications { notifications })),
            });
            self.sessions().send_to_user(user_id, &push);
        }
        Ok(())
    }

    /// Sends notifications caused by a change that has already happened; a failure is logged,
    /// not returned (the change stands, as in Nakama).
    pub(crate) async fn notify_best_effort(&self, sends: Vec<NotificationSend>) {
        if sends.is_empty() {
            return;
        }
        if let Err(e) = self.notifications_send(sends).await {
            tracing::warn!(error = %e, "could not send notifications");
        }
    }

    /// `GET /v2/notification` — ListNotifications. Oldest first; the cacheable cursor always points
    /// after the last notification seen, so a client can come back for only newer ones.
    pub async fn list_notifications(&self, user_id: Uuid, limit: Option<i32>, cursor: &str) -> Result<api::NotificationList, Error> {
        let limit = paging::page_limit(limit)?;
        let after: Option<(i64, Uuid)> = if cursor.is_empty() {
            None
        } else {
            Some(paging::decode_cursor(cursor).ok_or_else(|| Error::invalid(BAD_CURSOR))?)
        };
        let after_time = match after {
            Some((micros, id)) => Some((
                chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| Error::invalid(BAD_CURSOR))?,
                id,
            )),
            None => None,
        };
        let rows = self
            .store()
            .notifications_list(user_id, after_time, limit)
            .await
            .or_internal("Error retrieving notifications.")?;
        let cacheable_cursor = match rows.last() {
            Some(last) => paging::encode_cursor(&(last.create_time.timestamp_micros(), last.id)),
            None if !cursor.is_empty() => cursor.to_owned(),
            None => paging::encode_cursor(&(0i64, Uuid::nil())),
        };
        Ok(api::NotificationList { notifications: rows.into_iter().map(listed).collect(), cacheable_cursor })
    }

    /// `DELETE /v2/notification` — DeleteNotifications. Unknown ids are ignored.
    pub async fn delete_notifications(&self, user_id: Uuid, ids: &[String]) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut parsed = Vec::with_capacity(ids.len());
        for id in ids {
            // Nakama passes the strings to the database, which rejects a non-UUID: an internal
            // error with this message.
            let id = Uuid::parse_str(id).map_err(|e| Error::internal("Error while deleting notifications.", e))?;
            parsed.push(id);
        }
        self.store().notifications_delete(user_id, &parsed).await.or_internal("Error while deleting notifications.")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::json_object;

    #[test]
    fn contents_are_encoded_as_go_encodes_a_map() {
        // Sorted keys, no spaces, HTML-sensitive characters and line separators escaped.
        assert_eq!(json_object(&[("username", "a<b>&c"), ("group_id", "g")]), r#"{"group_id":"g","username":"a\u003cb\u003e\u0026c"}"#);
        assert_eq!(json_object(&[("name", "line\u{2028}sep \"q\" é")]), r#"{"name":"line\u2028sep \"q\" é"}"#);
    }
}
