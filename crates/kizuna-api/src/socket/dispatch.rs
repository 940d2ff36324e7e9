//! Decoding frames and handling each envelope member (Nakama `pipeline.go`). Members of features
//! that are not built yet answer an error envelope and keep the socket open.

use std::ops::ControlFlow;

use kizuna_core::realtime::{CloseReason, Format, Outgoing, SessionHandle};
use kizuna_proto::{
    json::{self, Unknown},
    realtime::{envelope::Message, Envelope, Pong},
};
use prost::Message as _;

use super::error_envelope;
use crate::http::ApiState;

/// `nakama.realtime.Error.Code` values.
pub(crate) mod code {
    pub const RUNTIME_EXCEPTION: i32 = 0;
    pub const UNRECOGNIZED_PAYLOAD: i32 = 1;
    pub const MISSING_PAYLOAD: i32 = 2;
    pub const BAD_INPUT: i32 = 3;
    pub const MATCH_NOT_FOUND: i32 = 4;
    pub const RUNTIME_FUNCTION_NOT_FOUND: i32 = 6;
}

/// Reads one frame payload as an envelope. JSON rejects unknown members (Nakama's socket
/// unmarshaler does); protobuf skips unknown fields.
pub(super) fn decode(payload: &[u8], format: Format) -> Option<Envelope> {
    match format {
        Format::Json => json::from_json::<Envelope>(payload, Unknown::Reject).ok(),
        Format::Protobuf => Envelope::decode(payload).ok(),
    }
}

fn reply(session: &SessionHandle, envelope: Envelope) {
    session.send(Outgoing::new(envelope));
}

/// The error envelope for a failed request: validation failures are BAD_INPUT, a missing match
/// MATCH_NOT_FOUND (the only thing socket requests can fail to find), everything else a
/// RUNTIME_EXCEPTION (internal causes are logged here, once).
fn core_error(cid: &str, e: kizuna_core::Error) -> Envelope {
    let c = match &e {
        kizuna_core::Error::InvalidArgument(_) => code::BAD_INPUT,
        kizuna_core::Error::NotFound(_) => code::MATCH_NOT_FOUND,
        kizuna_core::Error::Internal { source, .. } => {
            tracing::error!(error = ?source, client_message = %e, "internal error on socket request");
            code::RUNTIME_EXCEPTION
        }
        _ => code::RUNTIME_EXCEPTION,
    };
    error_envelope(cid, c, e.message())
}

/// An empty acknowledgement: only the cid.
fn ack(cid: String) -> Envelope {
    Envelope { cid, message: None }
}

pub(super) async fn handle(state: &ApiState, session: &SessionHandle, envelope: Envelope) -> ControlFlow<()> {
    let cid = envelope.cid;
    let Some(message) = envelope.message else {
        reply(session, error_envelope(&cid, code::MISSING_PAYLOAD, "Missing message."));
        session.close(CloseReason::ServerDisconnect);
        return ControlFlow::Break(());
    };
    match message {
        Message::Ping(_) => reply(session, Envelope { cid, message: Some(Message::Pong(Pong {})) }),
        // A client pong is accepted and ignored.
        Message::Pong(_) => {}
        Message::StatusFollow(f) => match state.core.status_follow(session, &f.user_ids, &f.usernames).await {
            Ok(status) => reply(session, Envelope { cid, message: Some(Message::Status(status)) }),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::StatusUnfollow(u) => match state.core.status_unfollow(session, &u.user_ids) {
            Ok(()) => reply(session, ack(cid)),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::StatusUpdate(u) => match state.core.status_update(session, u.status) {
            Ok(()) => reply(session, ack(cid)),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::ChannelJoin(j) => match state.core.channel_join(session, &j.target, j.r#type, j.persistence, j.hidden).await {
            Ok((channel, event)) => {
                reply(session, Envelope { cid, message: Some(Message::Channel(channel)) });
                state.core.route_presence_event(event);
            }
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::ChannelLeave(l) => match state.core.channel_leave(session, &l.channel_id) {
            Ok(()) => reply(session, ack(cid)),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::ChannelMessageSend(m) => match state.core.channel_message_send(session, &m.channel_id, &m.content).await {
            Ok(a) => reply(session, Envelope { cid, message: Some(Message::ChannelMessageAck(a)) }),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::ChannelMessageUpdate(m) => {
            match state.core.channel_message_update(session, &m.channel_id, &m.message_id, &m.content).await {
                Ok(a) => reply(session, Envelope { cid, message: Some(Message::ChannelMessageAck(a)) }),
                Err(e) => reply(session, core_error(&cid, e)),
            }
        }
        Message::ChannelMessageRemove(m) => match state.core.channel_message_remove(session, &m.channel_id, &m.message_id).await {
            Ok(a) => reply(session, Envelope { cid, message: Some(Message::ChannelMessageAck(a)) }),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::MatchCreate(m) => {
            let (created, event) = state.core.match_create(session, &m.name);
            reply(session, Envelope { cid, message: Some(Message::Match(created)) });
            state.core.route_presence_event(event);
        }
        Message::MatchJoin(j) => match state.core.match_join(session, j.id) {
            Ok((joined, events)) => {
                reply(session, Envelope { cid, message: Some(Message::Match(joined)) });
                events.into_iter().for_each(|e| state.core.route_presence_event(e));
            }
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::MatchLeave(l) => match state.core.match_leave(session, &l.match_id) {
            Ok(()) => reply(session, ack(cid)),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        // Fire and forget: no reply on success, and a failure is reported without the cid.
        Message::MatchDataSend(d) => {
            if let Err(e) = state.core.match_data_send(session, d) {
                reply(session, core_error("", e));
            }
        }
        Message::MatchmakerAdd(a) => match state.core.matchmaker_add(session, a).await {
            Ok(t) => reply(session, Envelope { cid, message: Some(Message::MatchmakerTicket(t)) }),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::MatchmakerRemove(r) => match state.core.matchmaker_remove(session, &r.ticket).await {
            Ok(()) => reply(session, ack(cid)),
            Err(e) => reply(session, core_error(&cid, e)),
        },
        Message::Rpc(rpc) => {
            // No runtime functions can be registered yet: Nakama's answer for an unknown id.
            let (c, m) = if rpc.id.is_empty() {
                (code::BAD_INPUT, "RPC ID must be set")
            } else {
                (code::RUNTIME_FUNCTION_NOT_FOUND, "RPC function not found")
            };
            reply(session, error_envelope(&cid, c, m));
        }
        // Members only the server sends: Nakama answers UNRECOGNIZED_PAYLOAD and disconnects.
        Message::Channel(_)
        | Message::ChannelMessage(_)
        | Message::ChannelMessageAck(_)
        | Message::ChannelPresenceEvent(_)
        | Message::Error(_)
        | Message::Match(_)
        | Message::MatchData(_)
        | Message::MatchPresenceEvent(_)
        | Message::MatchmakerMatched(_)
        | Message::MatchmakerTicket(_)
        | Message::Notifications(_)
        | Message::Status(_)
        | Message::StatusPresenceEvent(_)
        | Message::StreamData(_)
        | Message::StreamPresenceEvent(_)
        | Message::Party(_)
        | Message::PartyLeader(_)
        | Message::PartyJoinRequest(_)
        | Message::PartyMatchmakerTicket(_)
        | Message::PartyData(_)
        | Message::PartyPresenceEvent(_) => {
            reply(session, error_envelope(&cid, code::UNRECOGNIZED_PAYLOAD, "Unrecognized message."));
            session.close(CloseReason::ServerDisconnect);
            return ControlFlow::Break(());
        }
        other => {
            // A client request of a feature not built yet (docs/compat.md): an error reply, and
            // the socket stays open.
            let name = member_name(&other);
            reply(session, error_envelope(&cid, code::RUNTIME_EXCEPTION, &format!("{name} is not implemented by this server yet")));
        }
    }
    ControlFlow::Continue(())
}

/// The envelope member's wire name, from its JSON encoding (its only key besides `cid`).
fn member_name(message: &Message) -> String {
    let envelope = Envelope { cid: String::new(), message: Some(message.clone()) };
    let value: serde_json::Value = serde_json::from_slice(&json::to_json(&envelope)).unwrap_or_default();
    value.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_else(|| "message".into())
}
