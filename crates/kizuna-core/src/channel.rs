//! Chat (Nakama `pipeline_channel.go`, `core_channel.go`, `api_channel.go`; semantics §5):
//! rooms, direct messages and group channels as presence streams, messages delivered to every
//! session on the channel and stored when the sender's presence is persistent, and paged history.
//!
//! A channel id is `"<mode>.<subject>.<subcontext>.<label>"`: `2...<room>`, `3.<group>..`,
//! `4.<lower user id>.<higher user id>.`.

use kizuna_proto::{
    api,
    realtime::{self, envelope::Message, Envelope},
};
use kizuna_store::message::{MessageRow, MessageStream, NewMessage};
use uuid::Uuid;

use crate::{
    error::StoreContext,
    notification::{code, json_object, NotificationSend},
    paging,
    realtime::{tracker::mode, Outgoing, Presence, PresenceMeta, SessionHandle, Stream},
    Core, Error,
};

/// Message codes of chat messages (group events use 3–9).
pub mod message_code {
    pub const CHAT: i32 = 0;
    pub const CHAT_UPDATE: i32 = 1;
    pub const CHAT_REMOVE: i32 = 2;
}

const INVALID_TARGET: &str = "Invalid channel target";

/// The channel id of a chat stream (`None` for other modes).
pub fn stream_to_channel_id(stream: &Stream) -> Option<String> {
    if !matches!(stream.mode, mode::CHANNEL | mode::GROUP | mode::DM) {
        return None;
    }
    let part = |u: Uuid| if u.is_nil() { String::new() } else { u.to_string() };
    Some(format!("{}.{}.{}.{}", stream.mode, part(stream.subject), part(stream.subcontext), stream.label))
}

/// The stream of a channel id, as Nakama parses it (a room name may contain dots).
pub fn channel_id_to_stream(id: &str) -> Option<Stream> {
    let mut parts = id.splitn(4, '.');
    let (m, subject, subcontext, label) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let uuid = |s: &str| if s.is_empty() { Some(Uuid::nil()) } else { Uuid::parse_str(s).ok() };
    let (mode, subject, subcontext, label) = match m {
        "2" if subject.is_empty() && subcontext.is_empty() && (1..=64).contains(&label.len()) => {
            (mode::CHANNEL, Uuid::nil(), Uuid::nil(), label)
        }
        "3" if subcontext.is_empty() && label.is_empty() => (mode::GROUP, uuid(subject)?, Uuid::nil(), ""),
        "4" if label.is_empty() => (mode::DM, uuid(subject)?, uuid(subcontext)?, ""),
        _ => return None,
    };
    Some(Stream { mode, subject, subcontext, label: label.to_owned() })
}

/// The history stream of a chat stream.
fn message_stream(stream: &Stream) -> MessageStream {
    MessageStream { mode: stream.mode.into(), subject: stream.subject, descriptor: stream.subcontext, label: stream.label.clone() }
}

/// The room / group / user fields every chat message, ack and event carries.
#[derive(Default)]
pub(crate) struct ChannelFields {
    pub room_name: String,
    pub group_id: String,
    pub user_id_one: String,
    pub user_id_two: String,
}

pub(crate) fn channel_fields(stream: &Stream) -> ChannelFields {
    match stream.mode {
        mode::CHANNEL => ChannelFields { room_name: stream.label.clone(), ..Default::default() },
        mode::GROUP => ChannelFields { group_id: stream.subject.to_string(), ..Default::default() },
        mode::DM => ChannelFields { user_id_one: stream.subject.to_string(), user_id_two: stream.subcontext.to_string(), ..Default::default() },
        _ => ChannelFields::default(),
    }
}

/// Whether text is a JSON object, as the chat checks it (valid JSON starting with `{`).
fn is_object(content: &str) -> bool {
    crate::storage::is_json_object(content)
}

/// A chat message as sent, edited or removed, or a group event.
pub(crate) struct Outbound<'a> {
    pub stream: &'a Stream,
    pub channel_id: &'a str,
    pub message_id: Uuid,
    pub code: i32,
    pub sender_id: Uuid,
    pub username: &'a str,
    pub content: String,
    pub create_time: chrono::DateTime<chrono::Utc>,
    pub update_time: chrono::DateTime<chrono::Utc>,
    pub persistent: bool,
}

impl Core {
    /// Validates a join target and builds its channel id and stream. `user` `None` is the
    /// server, which skips the existence, block and membership checks.
    pub async fn build_channel_id(&self, user: Option<Uuid>, target: &str, kind: i32) -> Result<(String, Stream), Error> {
        if target.is_empty() {
            return Err(Error::invalid(INVALID_TARGET));
        }
        let stream = match kind {
            0 | 1 => {
                if target.len() > 64 {
                    return Err(Error::invalid(format!("Channel name is required and must be 1-64 chars: {INVALID_TARGET}")));
                }
                if target.chars().any(|c| c.is_ascii_control()) {
                    return Err(Error::invalid(format!("Channel name must not contain control chars: {INVALID_TARGET}")));
                }
                Stream { mode: mode::CHANNEL, subject: Uuid::nil(), subcontext: Uuid::nil(), label: target.to_owned() }
            }
            2 => {
                let other = match Uuid::parse_str(target) {
                    Ok(u) if !u.is_nil() => u,
                    _ => return Err(Error::invalid(format!("Invalid user ID in direct message join: {INVALID_TARGET}"))),
                };
                let me = user.unwrap_or(Uuid::nil());
                if let Some(me) = user {
                    let allowed = self.store().user_exists_not_blocking(other, me).await.or_internal("Failed to look up user ID")?;
                    if !allowed {
                        return Err(Error::invalid(format!("User ID not found: {INVALID_TARGET}")));
                    }
                }
                Stream::direct(me, other)
            }
            3 => {
                let group = Uuid::parse_str(target)
                    .map_err(|_| Error::invalid(format!("Invalid group ID in group channel join: {INVALID_TARGET}")))?;
                if let Some(me) = user {
                    let state = self.store().group_member_state(group, me).await.or_internal("Failed to look up group membership")?;
                    if state.is_none_or(|s| s > kizuna_store::group::state::MEMBER) {
                        return Err(Error::invalid(format!("Group not found: {INVALID_TARGET}")));
                    }
                }
                Stream::group(group)
            }
            _ => return Err(Error::invalid("Invalid channel type")),
        };
        let id = stream_to_channel_id(&stream).expect("a chat stream");
        Ok((id, stream))
    }

    /// `channel_join`: puts the session on the channel (persistent unless asked otherwise, visible
    /// unless hidden). A new direct chat the other user is not on notifies them (−1). Returns the
    /// reply and the join event, which the caller publishes with
    /// [`Core::route_presence_event`] after replying, so the joiner gets its `channel` first.
    pub async fn channel_join(
        &self,
        session: &SessionHandle,
        target: &str,
        kind: i32,
        persistence: Option<bool>,
        hidden: Option<bool>,
    ) -> Result<(realtime::Channel, crate::realtime::PresenceEvent), Error> {
        let (channel_id, stream) = self.build_channel_id(Some(session.user_id), target, kind).await?;
        crate::validate::reject_nul(&[target])?;
        let meta = PresenceMeta {
            username: session.username.clone(),
            hidden: hidden.unwrap_or(false),
            persistence: persistence.unwrap_or(true),
            status: String::new(),
        };
        let presence = Presence { session_id: session.id, user_id: session.user_id, stream: stream.clone(), meta: meta.clone() };
        let (new, event) = self.inner.tracker.track(presence);
        let present: Vec<Presence> = self.stream_user_list(&stream, false, true);
        if new && stream.mode == mode::DM {
            let other = if stream.subject == session.user_id { stream.subcontext } else { stream.subject };
            if !present.iter().any(|p| p.user_id == other) {
                let username = &session.username;
                self.notify_best_effort(vec![NotificationSend {
                    user_id: other,
                    subject: format!("{username} wants to chat"),
                    content: json_object(&[("username", username)]),
                    code: code::DM_REQUEST,
                    sender_id: Some(session.user_id),
                    persistent: true,
                }])
                .await;
            }
        }
        let presences =
            present.iter().filter(|p| !(new && p.session_id == session.id)).map(Presence::to_wire).collect();
        let f = channel_fields(&stream);
        let channel = realtime::Channel {
            id: channel_id,
            presences,
            self_: Some(realtime::UserPresence {
                user_id: session.user_id.to_string(),
                session_id: session.id.to_string(),
                username: meta.username,
                persistence: meta.persistence,
                status: None,
            }),
            room_name: f.room_name,
            group_id: f.group_id,
            user_id_one: f.user_id_one,
            user_id_two: f.user_id_two,
        };
        Ok((channel, event))
    }

    /// `channel_leave`: takes the session off the channel (a success even if it was not on it).
    pub fn channel_leave(&self, session: &SessionHandle, channel_id: &str) -> Result<(), Error> {
        let stream = channel_id_to_stream(channel_id).ok_or_else(|| Error::invalid("Invalid channel identifier"))?;
        self.stream_user_leave(session.id, &stream);
        Ok(())
    }

    /// The session's presence on a channel it must have joined to send, edit or remove.
    fn joined(&self, session: &SessionHandle, stream: &Stream, verb: &str) -> Result<PresenceMeta, Error> {
        let presence = self.stream_user_get(session.id, stream).filter(|p| p.user_id == session.user_id);
        let presence = presence.ok_or_else(|| Error::invalid(format!("Must join channel before {verb} messages")))?;
        Ok(presence.meta)
    }

    /// `channel_message_send`: a chat message (code 0) to everyone on the channel, the sender
    /// included; stored when the sender joined with persistence.
    pub async fn channel_message_send(&self, session: &SessionHandle, channel_id: &str, content: &str) -> Result<realtime::ChannelMessageAck, Error> {
        let stream = channel_id_to_stream(channel_id).ok_or_else(|| Error::invalid("Invalid channel identifier"))?;
        if !is_object(content) {
            return Err(Error::invalid("Message content must be a valid JSON object"));
        }
        crate::validate::reject_nul(&[channel_id, content])?;
        let meta = self.joined(session, &stream, "sending")?;
        self.send_channel_message(&stream, channel_id, content, session.user_id, &session.username, meta.persistence).await
    }

    /// Sends a chat message as `sender_id` (the runtime's `nk.channel_message_send`).
    pub async fn send_channel_message(
        &self,
        stream: &Stream,
        channel_id: &str,
        content: &str,
        sender_id: Uuid,
        username: &str,
        persist: bool,
    ) -> Result<realtime::ChannelMessageAck, Error> {
        let now = kizuna_store::now();
        let id = Uuid::new_v4();
        if persist {
            let m = NewMessage {
                id,
                code: message_code::CHAT as i16,
                sender_id,
                username: username.to_owned(),
                stream: message_stream(stream),
                content: content.to_owned(),
                create_time: now,
            };
            self.store().message_insert(&m).await.or_internal("Could not persist message to channel history")?;
        }
        Ok(self.deliver_chat(Outbound {
            stream,
            channel_id,
            message_id: id,
            code: message_code::CHAT,
            sender_id,
            username,
            content: content.to_owned(),
            create_time: now,
            update_time: now,
            persistent: persist,
        }))
    }

    /// `channel_message_update`: only the original sender may edit (code 1 on the channel).
    pub async fn channel_message_update(
        &self,
        session: &SessionHandle,
        channel_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<realtime::ChannelMessageAck, Error> {
        let message_id = Uuid::parse_str(message_id).map_err(|_| Error::invalid("Invalid message identifier"))?;
        let stream = channel_id_to_stream(channel_id).ok_or_else(|| Error::invalid("Invalid channel identifier"))?;
        if !is_object(content) {
            return Err(Error::invalid("Message content must be a valid JSON object"));
        }
        crate::validate::reject_nul(&[channel_id, content])?;
        let meta = self.joined(session, &stream, "updating")?;
        self.update_channel_message(&stream, channel_id, message_id, content, session.user_id, &session.username, meta.persistence).await
    }

    /// Edits a message as `sender_id` (the runtime's `nk.channel_message_update`).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_channel_message(
        &self,
        stream: &Stream,
        channel_id: &str,
        message_id: Uuid,
        content: &str,
        sender_id: Uuid,
        username: &str,
        persist: bool,
    ) -> Result<realtime::ChannelMessageAck, Error> {
        let now = kizuna_store::now();
        let mut create_time = now;
        if persist {
            let stored = self
                .store()
                .message_update(&message_stream(stream), message_id, sender_id, username, content, now)
                .await
                .or_internal("Could not persist message update to channel history")?;
            create_time = stored.ok_or_else(|| Error::invalid("Could not find message to update in channel history"))?;
        }
        Ok(self.deliver_chat(Outbound {
            stream,
            channel_id,
            message_id,
            code: message_code::CHAT_UPDATE,
            sender_id,
            username,
            content: content.to_owned(),
            create_time,
            update_time: now,
            persistent: persist,
        }))
    }

    /// `channel_message_remove`: only the original sender may remove (code 2 on the channel).
    pub async fn channel_message_remove(&self, session: &SessionHandle, channel_id: &str, message_id: &str) -> Result<realtime::ChannelMessageAck, Error> {
        let message_id = Uuid::parse_str(message_id).map_err(|_| Error::invalid("Invalid message identifier"))?;
        let stream = channel_id_to_stream(channel_id).ok_or_else(|| Error::invalid("Invalid channel identifier"))?;
        let meta = self.joined(session, &stream, "removing")?;
        self.remove_channel_message(&stream, channel_id, message_id, session.user_id, &session.username, meta.persistence).await
    }

    /// Removes a message as `sender_id` (the runtime's `nk.channel_message_remove`).
    pub async fn remove_channel_message(
        &self,
        stream: &Stream,
        channel_id: &str,
        message_id: Uuid,
        sender_id: Uuid,
        username: &str,
        persist: bool,
    ) -> Result<realtime::ChannelMessageAck, Error> {
        let now = kizuna_store::now();
        let (mut create_time, mut update_time) = (now, now);
        if persist {
            let stored = self
                .store()
                .message_delete(&message_stream(stream), message_id, sender_id)
                .await
                .or_internal("Could not persist message remove to channel history")?;
            (create_time, update_time) = stored.ok_or_else(|| Error::invalid("Could not find message to remove in channel history"))?;
        }
        Ok(self.deliver_chat(Outbound {
            stream,
            channel_id,
            message_id,
            code: message_code::CHAT_REMOVE,
            sender_id,
            username,
            content: "{}".to_owned(),
            create_time,
            update_time,
            persistent: persist,
        }))
    }

    /// Pushes a chat message to the channel (encoded once) and returns its ack. For an edit or a
    /// removal of a stored message, the times are the stored message's (Nakama's ack shares them).
    pub(crate) fn deliver_chat(&self, o: Outbound<'_>) -> realtime::ChannelMessageAck {
        let f = channel_fields(o.stream);
        let message = api::ChannelMessage {
            channel_id: o.channel_id.to_owned(),
            message_id: o.message_id.to_string(),
            code: Some(o.code),
            sender_id: o.sender_id.to_string(),
            username: o.username.to_owned(),
            content: o.content,
            create_time: Some(crate::timestamp_precise(o.create_time)),
            update_time: Some(crate::timestamp_precise(o.update_time)),
            persistent: Some(o.persistent),
            room_name: f.room_name.clone(),
            group_id: f.group_id.clone(),
            user_id_one: f.user_id_one.clone(),
            user_id_two: f.user_id_two.clone(),
        };
        let push = Outgoing::new(Envelope { cid: String::new(), message: Some(Message::ChannelMessage(message)) });
        self.deliver_on_stream(o.stream, &push, None);
        realtime::ChannelMessageAck {
            channel_id: o.channel_id.to_owned(),
            message_id: o.message_id.to_string(),
            code: Some(o.code),
            username: o.username.to_owned(),
            create_time: Some(crate::timestamp_precise(o.create_time)),
            update_time: Some(crate::timestamp_precise(o.update_time)),
            persistent: Some(o.persistent),
            room_name: f.room_name,
            group_id: f.group_id,
            user_id_one: f.user_id_one,
            user_id_two: f.user_id_two,
        }
    }

    /// `GET /v2/channel/{channel_id}` — ListChannelMessages. Rooms are readable by anyone, group
    /// history by members, direct history by its two users; `caller` `None` is the server.
    pub async fn list_channel_messages(
        &self,
        caller: Option<Uuid>,
        channel_id: &str,
        limit: Option<i32>,
        forward: Option<bool>,
        cursor: &str,
    ) -> Result<api::ChannelMessageList, Error> {
        let invalid_id = || Error::invalid("Invalid channel ID.");
        if channel_id.is_empty() {
            return Err(invalid_id());
        }
        let limit = paging::page_limit(limit)?;
        let forward = forward.unwrap_or(true);
        let stream = channel_id_to_stream(channel_id).ok_or_else(invalid_id)?;
        let bad_cursor = || Error::invalid("Cursor is invalid or expired.");
        let incoming: Option<HistoryCursor> = if cursor.is_empty() {
            None
        } else {
            let c: HistoryCursor = paging::decode_cursor(cursor).ok_or_else(bad_cursor)?;
            if c.forward != forward || c.stream() != stream {
                return Err(bad_cursor());
            }
            Some(c)
        };
        if let Some(caller) = caller {
            match stream.mode {
                mode::GROUP => {
                    let state = self.store().group_member_state(stream.subject, caller).await.or_internal("Error listing messages from channel.")?;
                    if state.is_none_or(|s| s > kizuna_store::group::state::MEMBER) {
                        return Err(Error::invalid("Group not found."));
                    }
                }
                mode::DM if stream.subject != caller && stream.subcontext != caller => {
                    return Err(Error::invalid("Channel not found."));
                }
                _ => {}
            }
        }
        // Forward + next page and backward + previous page both read ascending after the cursor.
        let ascending = incoming.as_ref().map_or(forward, |c| c.forward == c.is_next);
        let after = incoming.as_ref().map(|c| c.position()).transpose().map_err(|_| bad_cursor())?;
        let mut rows = self
            .store()
            .messages_list(&message_stream(&stream), ascending, after, limit + 1)
            .await
            .or_internal("Error listing messages from channel.")?;
        let make = |row: &MessageRow, forward: bool, is_next: bool| HistoryCursor::at(&stream, row, forward, is_next);
        // The next page starts after the last message returned; the previous one before the first.
        let mut next = if rows.len() > limit { Some(make(&rows[limit - 1], forward, true)) } else { None };
        rows.truncate(limit);
        let mut prev = if incoming.is_some() { rows.first().map(|r| make(r, forward, false)) } else { None };
        if incoming.as_ref().is_some_and(|c| !c.is_next) {
            // A previous-page listing: back into the requested order, cursors swapped.
            std::mem::swap(&mut next, &mut prev);
            for c in [&mut next, &mut prev].into_iter().flatten() {
                c.is_next = !c.is_next;
            }
            rows.reverse();
        }
        let cacheable = match (rows.last(), incoming) {
            (Some(last), _) => Some(make(last, true, true)),
            (None, Some(mut c)) => {
                c.forward = true;
                c.is_next = true;
                Some(c)
            }
            (None, None) => None,
        };
        let f = channel_fields(&stream);
        let messages = rows
            .into_iter()
            .map(|r| api::ChannelMessage {
                channel_id: channel_id.to_owned(),
                message_id: r.id.to_string(),
                code: Some(r.code.into()),
                sender_id: r.sender_id.to_string(),
                username: r.username,
                content: r.content.get().to_owned(),
                create_time: Some(crate::timestamp_precise(r.create_time)),
                update_time: Some(crate::timestamp_precise(r.update_time)),
                persistent: Some(true),
                room_name: f.room_name.clone(),
                group_id: f.group_id.clone(),
                user_id_one: f.user_id_one.clone(),
                user_id_two: f.user_id_two.clone(),
            })
            .collect();
        let encode = |c: Option<HistoryCursor>| c.map(|c| paging::encode_cursor(&c)).unwrap_or_default();
        Ok(api::ChannelMessageList { messages, next_cursor: encode(next), prev_cursor: encode(prev), cacheable_cursor: encode(cacheable) })
    }
}

/// Where a history listing continues: the channel, a message's (create time, id), the listing
/// direction and whether this is the next or the previous page.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct HistoryCursor {
    mode: u8,
    subject: Uuid,
    subcontext: Uuid,
    label: String,
    /// Microseconds since the epoch.
    time: i64,
    id: Uuid,
    forward: bool,
    is_next: bool,
}

impl HistoryCursor {
    fn at(stream: &Stream, row: &MessageRow, forward: bool, is_next: bool) -> HistoryCursor {
        HistoryCursor {
            mode: stream.mode,
            subject: stream.subject,
            subcontext: stream.subcontext,
            label: stream.label.clone(),
            time: row.create_time.timestamp_micros(),
            id: row.id,
            forward,
            is_next,
        }
    }

    fn stream(&self) -> Stream {
        Stream { mode: self.mode, subject: self.subject, subcontext: self.subcontext, label: self.label.clone() }
    }

    fn position(&self) -> Result<(chrono::DateTime<chrono::Utc>, Uuid), ()> {
        Ok((chrono::DateTime::from_timestamp_micros(self.time).ok_or(())?, self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_round_trip_and_reject_malformed_ones() {
        let a = Uuid::parse_str("11111111-1111-1111-1111-111111111111").unwrap();
        let b = Uuid::parse_str("22222222-2222-2222-2222-222222222222").unwrap();
        for (id, stream) in [
            ("2...lobby", Stream { mode: 2, subject: Uuid::nil(), subcontext: Uuid::nil(), label: "lobby".into() }),
            ("2...a.b", Stream { mode: 2, subject: Uuid::nil(), subcontext: Uuid::nil(), label: "a.b".into() }),
            (&format!("3.{a}.."), Stream::group(a)),
            (&format!("4.{a}.{b}."), Stream::direct(b, a)),
        ] {
            assert_eq!(channel_id_to_stream(id).as_ref(), Some(&stream), "{id}");
            assert_eq!(stream_to_channel_id(&stream).as_deref(), Some(id));
        }
        for bad in ["", "2..", "2...", "2.x..room", "3.nope..", "3.{a}.x.", "4...x", "5...room", "1...room", &format!("2...{}", "r".repeat(65))] {
            assert_eq!(channel_id_to_stream(bad), None, "{bad}");
        }
    }
}
