//! Status and presence (Nakama `pipeline_status.go`, `status_registry.go`): sessions follow
//! users, a user's status presences (one per session that appears online) are announced to their
//! followers, and `online` means "has at least one status presence".

use kizuna_proto::{api, realtime::Status};
use uuid::Uuid;

use crate::{
    error::StoreContext,
    realtime::{Presence, PresenceMeta, SessionHandle, Stream},
    Core, Error,
};

impl Core {
    /// Registers a new socket: it follows its own user, and with `appear_online` it gets a status
    /// presence (empty status).
    pub fn session_opened(&self, session: &SessionHandle, appear_online: bool) {
        self.sessions().add(session.clone());
        self.inner.follows.follow(session.id, &[session.user_id]);
        if appear_online {
            self.set_status(session, Some(String::new()));
        }
    }

    /// Tears a socket down: its matchmaker tickets go, every presence leaves (followers are told),
    /// every follow ends.
    pub fn session_closed(&self, session: &SessionHandle) {
        self.matchmaker_remove_session(session.id);
        let events = self.inner.tracker.untrack_session(session.id);
        self.inner.follows.unfollow_all(session.id);
        self.sessions().remove(session.id);
        for event in events {
            self.route_presence_event(event);
        }
    }

    /// Whether a user has a status presence on this node.
    pub fn is_online(&self, user_id: Uuid) -> bool {
        !self.inner.tracker.list(&Stream::status(user_id), false).is_empty()
    }

    fn set_status(&self, session: &SessionHandle, status: Option<String>) {
        let stream = Stream::status(session.user_id);
        let event = match status {
            None => self.inner.tracker.untrack(session.id, &stream),
            Some(status) => self.inner.tracker.update(Presence {
                session_id: session.id,
                user_id: session.user_id,
                stream,
                meta: PresenceMeta { username: session.username.clone(), hidden: false, persistence: false, status },
            }),
        };
        self.route_presence_event(event);
    }

    /// `status_follow`: follow users by id and username; unknown ones, the caller and the system
    /// user are skipped. Replies with the followed users' current status presences.
    pub async fn status_follow(&self, session: &SessionHandle, user_ids: &[String], usernames: &[String]) -> Result<Status, Error> {
        if user_ids.is_empty() && usernames.is_empty() {
            return Ok(Status { presences: Vec::new() });
        }
        let mut ids = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            ids.push(Uuid::parse_str(id).map_err(|_| Error::invalid("Invalid user identifier"))?);
        }
        if usernames.iter().any(String::is_empty) {
            return Err(Error::invalid("Invalid username"));
        }
        let rows = self.store().users_by_any(&ids, usernames, &[]).await.or_internal("Could not check users")?;
        let follow: Vec<Uuid> = rows.iter().map(|r| r.id).filter(|id| *id != session.user_id && !id.is_nil()).collect();
        self.inner.follows.follow(session.id, &follow);
        let presences = follow
            .iter()
            .flat_map(|u| self.inner.tracker.list(&Stream::status(*u), false))
            .map(|p| p.to_wire())
            .collect();
        Ok(Status { presences })
    }

    /// `status_unfollow`: unknown or unfollowed ids are ignored; the caller's own user cannot be
    /// unfollowed.
    pub fn status_unfollow(&self, session: &SessionHandle, user_ids: &[String]) -> Result<(), Error> {
        let mut ids = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            let id = Uuid::parse_str(id).map_err(|_| Error::invalid("Invalid user identifier"))?;
            if id != session.user_id {
                ids.push(id);
            }
        }
        self.inner.follows.unfollow(session.id, &ids);
        Ok(())
    }

    /// `status_update`: no status → appear offline on this session; a status (even empty) →
    /// appear online with it. Followers see leave(old) + join(new) on a change.
    pub fn status_update(&self, session: &SessionHandle, status: Option<String>) -> Result<(), Error> {
        if status.as_ref().is_some_and(|s| s.len() > 2048) {
            return Err(Error::invalid("Status must be 2048 characters or less"));
        }
        self.set_status(session, status);
        Ok(())
    }

    /// Sets `online` on users from live status presences.
    pub(crate) fn fill_online(&self, user: &mut api::User) {
        if let Ok(id) = Uuid::parse_str(&user.id) {
            user.online = self.is_online(id);
        }
    }
}
