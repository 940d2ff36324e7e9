//! Matches (Nakama `pipeline_match.go`, `match_registry.go`; semantics §11).
//!
//! A relayed match is nothing but its presence stream (mode 5, subject = the match id): it exists
//! while it has presences, and the server only forwards data between them. Authoritative matches
//! run handlers of the runtime, which is not built yet: none can exist, so joining one answers
//! "Match not found" and listings hold none (docs/compat.md).
//!
//! Match ids are `"<uuid>.<node>"`; relayed matches have an empty node (`"<uuid>."`).

use kizuna_proto::{
    api,
    realtime::{self, envelope::Message, match_join, Envelope, MatchData, MatchDataSend, UserPresence},
};
use uuid::Uuid;

use crate::{
    paging,
    realtime::{tracker::mode, Outgoing, Presence, PresenceEvent, PresenceMeta, SessionHandle, SessionId, Stream},
    Core, Error,
};

/// Both match stream modes (`session.single_match` leaves every other match).
const MATCH_MODES: [u8; 2] = [mode::MATCH_RELAYED, mode::MATCH_AUTHORITATIVE];

/// Splits a match id into its UUID and node: exactly one split on the first `.`, and the first
/// part must be a UUID.
pub fn parse_match_id(match_id: &str) -> Option<(Uuid, &str)> {
    let (id, node) = match_id.split_once('.')?;
    Some((Uuid::parse_str(id).ok()?, node))
}

/// The stream of a match: relayed for an empty node, authoritative (labelled with the node)
/// otherwise.
pub fn match_stream(id: Uuid, node: &str) -> Stream {
    let mode = if node.is_empty() { mode::MATCH_RELAYED } else { mode::MATCH_AUTHORITATIVE };
    Stream { mode, subject: id, subcontext: Uuid::nil(), label: node.to_owned() }
}

/// The match id of a match stream.
pub fn stream_to_match_id(stream: &Stream) -> String {
    format!("{}.{}", stream.subject, stream.label)
}

fn self_presence(session: &SessionHandle) -> UserPresence {
    UserPresence {
        user_id: session.user_id.to_string(),
        session_id: session.id.to_string(),
        username: session.username.clone(),
        persistence: false,
        status: None,
    }
}

fn match_presence(session: &SessionHandle, stream: Stream) -> Presence {
    Presence {
        session_id: session.id,
        user_id: session.user_id,
        stream,
        meta: PresenceMeta { username: session.username.clone(), hidden: false, persistence: false, status: String::new() },
    }
}

/// The presences to show a joiner: everyone on the stream, without the joiner itself when it has
/// just joined.
fn others(presences: Vec<Presence>, session: SessionId, is_new: bool) -> Vec<UserPresence> {
    presences.iter().filter(|p| !(is_new && p.session_id == session)).map(Presence::to_wire).collect()
}

impl Core {
    /// `match_create`: a relayed match with a random id, or with the id derived from `name`
    /// (UUIDv5 in the DNS namespace), so that everyone creating the same name meets in one match.
    /// Returns the reply and the creator's join event, which the caller routes after replying.
    pub fn match_create(&self, session: &SessionHandle, name: &str) -> (realtime::Match, PresenceEvent) {
        let id = if name.is_empty() { Uuid::new_v4() } else { Uuid::new_v5(&Uuid::NAMESPACE_DNS, name.as_bytes()) };
        let stream = match_stream(id, "");
        let (is_new, event) = self.inner.tracker.track(match_presence(session, stream.clone()));
        let (size, presences) = if name.is_empty() {
            (1, Vec::new())
        } else {
            let all = self.inner.tracker.list(&stream, false);
            (all.len() as i32, others(all, session.id, is_new))
        };
        let reply = realtime::Match {
            match_id: stream_to_match_id(&stream),
            authoritative: false,
            label: None,
            size,
            presences,
            self_: Some(self_presence(session)),
        };
        (reply, event)
    }

    /// `match_join` by id or matchmaker token. A relayed match must have presences unless joined
    /// by token (the first holder of a token creates it); joining again changes nothing. The reply
    /// lists the other presences, and its `size` counts them (not the joiner: Nakama's count).
    /// Returns the reply and the presence events to route after replying.
    pub fn match_join(&self, session: &SessionHandle, target: Option<match_join::Id>) -> Result<(realtime::Match, Vec<PresenceEvent>), Error> {
        let (match_id, allow_empty) = match target {
            None => return Err(Error::invalid("No match ID or token found")),
            Some(match_join::Id::MatchId(id)) => (id, false),
            Some(match_join::Id::Token(token)) => {
                let mid = self.inner.session_keys.verify_match_token(&token).ok_or_else(|| Error::invalid("Invalid match token"))?;
                if parse_match_id(&mid).is_none() {
                    return Err(Error::invalid("Invalid match token"));
                }
                (mid, true)
            }
        };
        let Some((id, node)) = parse_match_id(&match_id) else {
            return Err(Error::invalid("Invalid match ID"));
        };
        if !node.is_empty() {
            // Authoritative matches need the runtime; none exist on any node.
            return Err(Error::NotFound("Match not found".into()));
        }
        let stream = match_stream(id, node);
        if !allow_empty && self.inner.tracker.session_ids(&stream).is_empty() {
            return Err(Error::NotFound("Match not found".into()));
        }
        let mut events = Vec::new();
        let is_new = self.inner.tracker.get(session.id, &stream).is_none();
        if is_new {
            let (_, joined) = self.inner.tracker.track(match_presence(session, stream.clone()));
            events.push(joined);
            if self.inner.config.single_match {
                events.extend(self.inner.tracker.untrack_modes(session.id, &MATCH_MODES, &stream));
            }
        }
        let presences = others(self.inner.tracker.list(&stream, false), session.id, is_new);
        let reply = realtime::Match {
            match_id,
            authoritative: false,
            label: None,
            size: presences.len() as i32,
            presences,
            self_: Some(self_presence(session)),
        };
        Ok((reply, events))
    }

    /// `match_leave`: leaves the match if in it; always succeeds for a well-formed id.
    pub fn match_leave(&self, session: &SessionHandle, match_id: &str) -> Result<(), Error> {
        let (id, node) = parse_match_id(match_id).ok_or_else(|| Error::invalid("Invalid match ID"))?;
        let event = self.inner.tracker.untrack(session.id, &match_stream(id, node));
        self.route_presence_event(event);
        Ok(())
    }

    /// `match_data_send` on a relayed match: forwarded to every other presence, or only to the
    /// listed sessions that are in the match (the sender too, if listed). Data from a session
    /// that is not in the match, or with a malformed presence filter, is dropped without a word;
    /// only a malformed match id is an error. Encoded once for all recipients.
    pub fn match_data_send(&self, session: &SessionHandle, data: MatchDataSend) -> Result<(), Error> {
        let (id, node) = parse_match_id(&data.match_id).ok_or_else(|| Error::invalid("Invalid match ID"))?;
        if !node.is_empty() {
            // Data for an authoritative match goes to its handler; none can exist yet.
            return Ok(());
        }
        let mut filter = Vec::with_capacity(data.presences.len());
        for p in &data.presences {
            if Uuid::parse_str(&p.user_id).is_err() {
                return Ok(());
            }
            let Ok(s) = Uuid::parse_str(&p.session_id) else { return Ok(()) };
            filter.push(SessionId(s));
        }
        let mut members = self.inner.tracker.session_ids(&match_stream(id, node));
        if !members.contains(&session.id) {
            return Ok(());
        }
        if filter.is_empty() {
            members.retain(|s| *s != session.id);
        } else {
            members.retain(|s| filter.contains(s));
        }
        if members.is_empty() {
            return Ok(());
        }
        let push = Outgoing::new(Envelope {
            cid: String::new(),
            message: Some(Message::MatchData(MatchData {
                match_id: data.match_id,
                presence: Some(self_presence(session)),
                op_code: data.op_code,
                data: data.data,
                reliable: data.reliable,
            })),
        });
        self.sessions().send_to_sessions(members, &push);
        Ok(())
    }

    /// `ListMatches`: relayed matches (and, once the runtime exists, authoritative ones first),
    /// filtered by size. Label and query filters select authoritative matches only.
    pub async fn list_matches(&self, request: &api::ListMatchesRequest) -> Result<api::MatchList, Error> {
        let limit = paging::limit_or(request.limit, 10, 100)?;
        let relayed_only = request.authoritative == Some(false);
        if request.label.is_some() && relayed_only {
            return Err(Error::invalid("Label filtering is not supported for non-authoritative matches."));
        }
        if request.query.is_some() && relayed_only {
            return Err(Error::invalid("Query filtering is not supported for non-authoritative matches."));
        }
        if request.min_size.is_some_and(|m| m < 0) {
            return Err(Error::invalid("Minimum size must be 0 or above."));
        }
        if request.max_size.is_some_and(|m| m < 0) {
            return Err(Error::invalid("Maximum size must be 0 or above."));
        }
        if let (Some(min), Some(max)) = (request.min_size, request.max_size)
            && min > max
        {
            return Err(Error::invalid("Maximum size must be greater than or equal to minimum size when both are specified."));
        }
        if let Some(query) = request.query.as_deref() {
            // Nakama parses the query unless size filters let it see first that no authoritative
            // match exists (none can, yet).
            let counted_first = request.min_size.is_some() || request.max_size.is_some();
            if !counted_first && !query.is_empty() {
                self.parse_query(query).await.map_err(|e| Error::internal("Error listing matches.", e))?;
            }
        }
        // Relayed matches are listed only without label and query filters, and unless
        // `authoritative` is true.
        let with_relayed = request.label.is_none() && request.query.is_none() && request.authoritative != Some(true);
        if !with_relayed {
            return Ok(api::MatchList { matches: Vec::new() });
        }
        let mut streams = self.inner.tracker.streams_of_mode(mode::MATCH_RELAYED);
        // Nakama's order is unspecified; a stable one makes pages predictable.
        streams.sort_unstable_by_key(|(s, _)| s.subject);
        let fits = |size: i32| request.min_size.is_none_or(|m| size >= m) && request.max_size.is_none_or(|m| size <= m);
        let matches = streams
            .into_iter()
            .map(|(s, n)| (s, n as i32))
            .filter(|(_, size)| fits(*size))
            .take(limit)
            .map(|(stream, size)| api::Match {
                match_id: stream_to_match_id(&stream),
                authoritative: false,
                label: None,
                size,
                tick_rate: 0,
                handler_name: String::new(),
            })
            .collect();
        Ok(api::MatchList { matches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_ids_split_on_the_first_dot_and_need_a_uuid() {
        let id = Uuid::new_v4();
        assert_eq!(parse_match_id(&format!("{id}.")), Some((id, "")));
        assert_eq!(parse_match_id(&format!("{id}.node.x")), Some((id, "node.x")));
        assert_eq!(parse_match_id(&id.to_string()), None);
        assert_eq!(parse_match_id("nope."), None);
        assert_eq!(parse_match_id(""), None);
        let stream = match_stream(id, "");
        assert_eq!(stream.mode, mode::MATCH_RELAYED);
        assert_eq!(stream_to_match_id(&stream), format!("{id}."));
        assert_eq!(match_stream(id, "n").mode, mode::MATCH_AUTHORITATIVE);
        assert_eq!(stream_to_match_id(&match_stream(id, "n")), format!("{id}.n"));
    }

    #[test]
    fn named_matches_use_uuid_v5_in_the_dns_namespace() {
        // The UUIDv5 of "example.com" in the DNS namespace (RFC 4122 test vector family).
        let id = Uuid::new_v5(&Uuid::NAMESPACE_DNS, b"www.example.com");
        assert_eq!(id.to_string(), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    }
}
