//! Groups (Nakama `api_group.go`, `core_group.go`; semantics §4): creation, updates, joining
//! open and closed groups, the superadmin/admin/member roles, bans, listings. Membership events
//! are written to the group's chat history and pushed to members on its channel; the people
//! concerned are notified as in Nakama.
//!
//! `caller: None` acts with the server's authority (runtime code): no membership is required
//! and it ranks as a superadmin.

use kizuna_proto::api;
use kizuna_store::group::{
    GroupEvent, GroupFilter, GroupPosition, GroupRow, GroupUpdated, JoinOutcome, LeaveOutcome, MemberAction,
    MembersOutcome, NewGroup,
};
use uuid::Uuid;

pub use kizuna_store::group::GroupUpdate;

use crate::{
    error::StoreContext,
    notification::{code, json_object, NotificationSend},
    paging,
    channel::{stream_to_channel_id, Outbound},
    realtime::Stream,
    timestamp,
    user::user_from_row,
    Core, Error,
};

/// What a new group looks like; see [`Core::create_group`].
#[derive(Debug, Clone, Default)]
pub struct GroupCreate {
    pub name: String,
    pub description: String,
    pub lang_tag: String,
    pub avatar_url: String,
    /// A JSON object; empty means `{}`.
    pub metadata: String,
    pub open: bool,
    /// 0 means the default (100).
    pub max_count: i32,
}

/// The wire `Group` of a stored group.
pub(crate) fn group_to_wire(row: &GroupRow) -> api::Group {
    api::Group {
        id: row.id.to_string(),
        creator_id: row.creator_id.to_string(),
        name: row.name.clone(),
        description: row.description.clone().unwrap_or_default(),
        lang_tag: row.lang_tag.clone(),
        metadata: row.metadata.get().to_owned(),
        avatar_url: row.avatar_url.clone().unwrap_or_default(),
        open: Some(row.state != 1),
        edge_count: row.edge_count,
        max_count: row.max_count,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// Parses a group id as the group endpoints do.
fn group_id(id: &str) -> Result<Uuid, Error> {
    if id.is_empty() {
        return Err(Error::invalid("Group ID must be set."));
    }
    Uuid::parse_str(id).map_err(|_| Error::invalid("Group ID must be a valid ID."))
}

/// Parses the user ids of add/kick/ban/promote/demote (the nil id is not valid).
fn member_ids(ids: &[String]) -> Result<Vec<Uuid>, Error> {
    ids.iter()
        .map(|id| match Uuid::parse_str(id) {
            Ok(u) if !u.is_nil() => Ok(u),
            _ => Err(Error::invalid("User ID must be a valid ID.")),
        })
        .collect()
}

impl Core {
    /// Pushes group events to the sessions on the group's channel, as chat messages with the
    /// event's code and the affected user as sender (each encoded once).
    fn broadcast_group_events(&self, group: Uuid, events: &[GroupEvent]) {
        let stream = Stream::group(group);
        let channel_id = stream_to_channel_id(&stream).expect("a chat stream");
        for e in events {
            self.deliver_chat(Outbound {
                stream: &stream,
                channel_id: &channel_id,
                message_id: e.message_id,
                code: e.code.into(),
                sender_id: e.user_id,
                username: &e.username,
                content: "{}".to_owned(),
                create_time: e.create_time,
                update_time: e.create_time,
                persistent: true,
            });
        }
    }

    /// Takes users' sessions off a group's channel (they left or were removed).
    fn leave_group_channel(&self, group: Uuid, users: &[Uuid]) {
        let stream = Stream::group(group);
        for p in self.stream_user_list(&stream, true, true) {
            if users.contains(&p.user_id) {
                self.stream_user_leave(p.session_id, &stream);
            }
        }
    }

    /// `POST /v2/group` — CreateGroup, with the client's rules (name required, `max_count` ≥ 1
    /// when set). The caller becomes the superadmin.
    pub async fn create_group_for_user(&self, user_id: Uuid, req: api::CreateGroupRequest) -> Result<api::Group, Error> {
        if req.name.is_empty() {
            return Err(Error::invalid("Group name must be set."));
        }
        if req.max_count < 0 {
            return Err(Error::invalid("Group max count must be >= 1 when set."));
        }
        let create = GroupCreate {
            name: req.name,
            description: req.description,
            lang_tag: req.lang_tag,
            avatar_url: req.avatar_url,
            metadata: String::new(),
            open: req.open,
            max_count: req.max_count,
        };
        self.create_group(user_id, user_id, create).await
    }

    /// Creates a group: `user_id` becomes its superadmin, `creator_id` is recorded as creator.
    pub async fn create_group(&self, user_id: Uuid, creator_id: Uuid, c: GroupCreate) -> Result<api::Group, Error> {
        if user_id.is_nil() {
            return Err(Error::invalid("group creator user ID not valid"));
        }
        crate::validate::reject_nul(&[&c.name, &c.description, &c.lang_tag, &c.avatar_url, &c.metadata])?;
        let new = NewGroup {
            id: Uuid::new_v4(),
            creator_id,
            user_id,
            name: c.name,
            description: c.description,
            avatar_url: c.avatar_url,
            lang_tag: c.lang_tag,
            metadata: c.metadata,
            open: c.open,
            max_count: c.max_count,
        };
        match self.store().group_create(&new, kizuna_store::now()).await {
            Ok(row) => Ok(group_to_wire(&row)),
            Err(e) if e.is_unique_on("groups", "name") => Err(Error::AlreadyExists("Group name is in use.".into())),
            Err(e) => Err(Error::internal("Error while trying to create group.", e)),
        }
    }

    /// `PUT /v2/group/{group_id}` — UpdateGroup. Admins only; `name` and `lang_tag` may not be
    /// emptied, empty `description`/`avatar_url` clear them.
    pub async fn update_group(&self, caller: Option<Uuid>, req: api::UpdateGroupRequest) -> Result<(), Error> {
        let group = group_id(&req.group_id)?;
        if req.name.as_deref() == Some("") {
            return Err(Error::invalid("Group name cannot be empty."));
        }
        if req.lang_tag.as_deref() == Some("") {
            return Err(Error::invalid("Group language cannot be empty."));
        }
        let clearable = |v: Option<String>| v.map(|s| if s.is_empty() { None } else { Some(s) });
        let update = GroupUpdate {
            name: req.name,
            lang_tag: req.lang_tag,
            description: clearable(req.description),
            avatar_url: clearable(req.avatar_url),
            open: req.open,
            ..Default::default()
        };
        self.update_group_fields(caller, group, update).await
    }

    /// Updates any group field, `metadata`, `max_count` and `creator_id` included (the runtime's
    /// `nk.group_update`); a user `caller` must be an admin.
    pub async fn update_group_fields(&self, caller: Option<Uuid>, group: Uuid, update: GroupUpdate) -> Result<(), Error> {
        if update.metadata.as_deref().is_some_and(|m| !crate::storage::is_json_object(m)) {
            return Err(Error::invalid("Metadata must be a valid JSON object."));
        }
        let texts = [
            update.name.as_deref(),
            update.lang_tag.as_deref(),
            update.metadata.as_deref(),
            update.description.as_ref().and_then(|d| d.as_deref()),
            update.avatar_url.as_ref().and_then(|a| a.as_deref()),
        ];
        crate::validate::reject_nul(&texts.into_iter().flatten().collect::<Vec<_>>())?;
        match self.store().group_update(group, caller, &update, kizuna_store::now()).await {
            Ok(GroupUpdated::Updated) => Ok(()),
            Ok(GroupUpdated::Denied) => Err(Error::NotFound("Group not found or you're not allowed to update.".into())),
            Ok(GroupUpdated::Empty) => Err(Error::invalid("Specify at least one field to update.")),
            Ok(GroupUpdated::NotUpdated) => Err(Error::invalid("No new fields in group update.")),
            Err(e) if e.is_unique_on("groups", "name") => Err(Error::invalid("Group name is in use.")),
            Err(e) => Err(Error::internal("Error while trying to update group.", e)),
        }
    }

    /// `DELETE /v2/group/{group_id}` — DeleteGroup. Superadmins only. The group's channel is
    /// closed; its history stays.
    pub async fn delete_group(&self, caller: Option<Uuid>, group_id_text: &str) -> Result<(), Error> {
        let group = group_id(group_id_text)?;
        let allowed = self.store().group_delete(group, caller).await.or_internal("Error while trying to delete group.")?;
        if !allowed {
            return Err(Error::invalid("Group not found or you're not allowed to delete."));
        }
        self.stream_close(&Stream::group(group));
        Ok(())
    }

    /// `POST /v2/group/{group_id}/join` — JoinGroup. Open groups take the user as a member (a
    /// join event on the channel); closed groups record a request and notify their admins (−5).
    pub async fn join_group(&self, user_id: Uuid, username: &str, group_id_text: &str) -> Result<(), Error> {
        let group = group_id(group_id_text)?;
        let outcome = self.store().group_join(group, user_id, kizuna_store::now()).await.or_internal("Error while trying to join group.")?;
        match outcome {
            JoinOutcome::NotFound => Err(Error::NotFound("Group not found.".into())),
            JoinOutcome::Full => Err(Error::invalid("Group is full.")),
            JoinOutcome::Unchanged => Ok(()),
            JoinOutcome::Joined(event) => {
                self.broadcast_group_events(group, &[event]);
                Ok(())
            }
            JoinOutcome::Requested { admins } => {
                let content = json_object(&[("group_id", &group.to_string()), ("username", username)]);
                let sends = admins
                    .into_iter()
                    .map(|admin| NotificationSend {
                        user_id: admin,
                        subject: format!("User {username} wants to join your group"),
                        content: content.clone(),
                        code: code::GROUP_JOIN_REQUEST,
                        sender_id: Some(user_id),
                        persistent: true,
                    })
                    .collect();
                self.notify_best_effort(sends).await;
                Ok(())
            }
        }
    }

    /// `POST /v2/group/{group_id}/leave` — LeaveGroup. The last superadmin cannot leave while
    /// others remain; leaving alone deletes the group.
    pub async fn leave_group(&self, user_id: Uuid, group_id_text: &str) -> Result<(), Error> {
        let group = group_id(group_id_text)?;
        let outcome = self.store().group_leave(group, user_id, kizuna_store::now()).await.or_internal("Error while trying to leave group.")?;
        match outcome {
            LeaveOutcome::Unchanged => {}
            LeaveOutcome::LastSuperadmin => return Err(Error::invalid("Cannot leave group when you are the last superadmin.")),
            LeaveOutcome::Deleted => self.stream_close(&Stream::group(group)),
            LeaveOutcome::Left(event) => {
                self.broadcast_group_events(group, &[event]);
                self.leave_group_channel(group, &[user_id]);
            }
        }
        Ok(())
    }

    /// `POST /v2/group/{group_id}/add` — AddGroupUsers: adds members and accepts join requests
    /// (admins only). Each added user gets an add event on the channel and a notification (−4).
    pub async fn add_group_users(&self, caller: Option<Uuid>, group_id_text: &str, user_ids: &[String]) -> Result<(), Error> {
        let group = group_id(group_id_text)?;
        if user_ids.is_empty() {
            return Ok(());
        }
        let users = member_ids(user_ids)?;
        let outcome = self
            .store()
            .group_add_users(group, caller, &users, kizuna_store::now())
            .await
            .or_internal("Error while trying to add users to a group.")?;
        let (events, name) = match outcome {
            MembersOutcome::Done { events, group_name } => (events, group_name),
            other => return Err(members_error(other, "Error while trying to add users to a group.")),
        };
        self.broadcast_group_events(group, &events);
        let content = json_object(&[("group_id", &group.to_string()), ("name", &name)]);
        let sends = events
            .iter()
            .map(|e| NotificationSend {
                user_id: e.user_id,
                subject: format!("You've been added to group {name}"),
                content: content.clone(),
                code: code::GROUP_ADD,
                sender_id: caller,
                persistent: true,
            })
            .collect();
        self.notify_best_effort(sends).await;
        Ok(())
    }

    /// `POST /v2/group/{group_id}/kick` — KickGroupUsers (also rejects join requests and lifts
    /// bans).
    pub async fn kick_group_users(&self, caller: Option<Uuid>, group_id_text: &str, user_ids: &[String]) -> Result<(), Error> {
        self.change_members(caller, group_id_text, user_ids, MemberAction::Kick, "Error while trying to kick users from a group.").await
    }

    /// `POST /v2/group/{group_id}/ban` — BanGroupUsers.
    pub async fn ban_group_users(&self, caller: Option<Uuid>, group_id_text: &str, user_ids: &[String]) -> Result<(), Error> {
        self.change_members(caller, group_id_text, user_ids, MemberAction::Ban, "Error while trying to ban users from a group.").await
    }

    /// `POST /v2/group/{group_id}/promote` — PromoteGroupUsers.
    pub async fn promote_group_users(&self, caller: Option<Uuid>, group_id_text: &str, user_ids: &[String]) -> Result<(), Error> {
        self.change_members(caller, group_id_text, user_ids, MemberAction::Promote, "Error while trying to promote users in a group.")
            .await
    }

    /// `POST /v2/group/{group_id}/demote` — DemoteGroupUsers (unlike the others, an empty list is
    /// an error).
    pub async fn demote_group_users(&self, caller: Option<Uuid>, group_id_text: &str, user_ids: &[String]) -> Result<(), Error> {
        let _ = group_id(group_id_text)?;
        if user_ids.is_empty() {
            return Err(Error::invalid("User IDs must be set."));
        }
        self.change_members(caller, group_id_text, user_ids, MemberAction::Demote, "Error while trying to demote users in a group.")
            .await
    }

    async fn change_members(
        &self,
        caller: Option<Uuid>,
        group_id_text: &str,
        user_ids: &[String],
        action: MemberAction,
        internal: &'static str,
    ) -> Result<(), Error> {
        let group = group_id(group_id_text)?;
        if user_ids.is_empty() {
            return Ok(());
        }
        let users = member_ids(user_ids)?;
        let outcome =
            self.store().group_members_change(group, caller, action, &users, kizuna_store::now()).await.or_internal(internal)?;
        let events = match outcome {
            MembersOutcome::Done { events, .. } => events,
            other => return Err(members_error(other, internal)),
        };
        self.broadcast_group_events(group, &events);
        if matches!(action, MemberAction::Kick | MemberAction::Ban) {
            let removed: Vec<Uuid> = events.iter().map(|e| e.user_id).collect();
            self.leave_group_channel(group, &removed);
        }
        Ok(())
    }

    /// `GET /v2/group` — ListGroups. A name filter (a case-insensitive LIKE pattern, leading `%`
    /// and spaces dropped) lists by name and cannot be combined with the other filters.
    pub async fn list_groups(
        &self,
        name: &str,
        cursor: &str,
        limit: Option<i32>,
        lang_tag: &str,
        members: Option<i32>,
        open: Option<bool>,
    ) -> Result<api::GroupList, Error> {
        let limit = paging::page_limit(limit)?;
        if !name.is_empty() && (!lang_tag.is_empty() || open.is_some() || members.is_some()) {
            return Err(Error::invalid("name filter cannot be combined with any other filter"));
        }
        crate::validate::reject_nul(&[name, lang_tag])?;
        // Trimmed after the check, as Nakama does: "%" alone lists every group.
        let name = name.trim_start_matches(['%', ' ']);
        let bad_cursor = || Error::invalid("Malformed cursor was used.");
        let after = if cursor.is_empty() {
            None
        } else {
            let (tag, id, name, lang_tag, edge_count, state, update_time): (String, Uuid, String, String, i32, i16, i64) =
                paging::decode_cursor(cursor).ok_or_else(bad_cursor)?;
            if tag != "groups" {
                return Err(bad_cursor());
            }
            Some(GroupPosition { id, name, lang_tag, edge_count, state, update_time })
        };
        let filter = GroupFilter {
            name: (!name.is_empty()).then(|| name.to_owned()),
            lang_tag: (!lang_tag.is_empty()).then(|| lang_tag.to_owned()),
            members,
            open,
        };
        let mut rows =
            self.store().groups_list(&filter, after.as_ref(), limit + 1).await.or_internal("Error while trying to list groups.")?;
        let cursor = if rows.len() > limit {
            rows.truncate(limit);
            let p = GroupPosition::of(&rows[limit - 1]);
            paging::encode_cursor(&("groups", p.id, p.name, p.lang_tag, p.edge_count, p.state, p.update_time))
        } else {
            String::new()
        };
        Ok(api::GroupList { groups: rows.iter().map(group_to_wire).collect(), cursor })
    }

    /// `GET /v2/group/{group_id}/user` — ListGroupUsers: by role, then join order. Bans only
    /// with the explicit state 4.
    pub async fn list_group_users(&self, group_id_text: &str, limit: Option<i32>, state: Option<i32>, cursor: &str) -> Result<api::GroupUserList, Error> {
        let group = group_id(group_id_text)?;
        let (limit, state) = edge_list_args(limit, state)?;
        let from = paging::decode_edge_cursor(cursor, state)?;
        let mut rows = self
            .store()
            .group_users_list(group, state, from, limit + 1)
            .await
            .or_internal("Error while trying to list users in a group.")?;
        let cursor = paging::next_edge_cursor(&mut rows, limit, |r| (r.edge_state, r.position));
        let group_users = rows
            .iter()
            .map(|r| {
                let mut user = user_from_row(&r.user);
                self.fill_online(&mut user);
                api::group_user_list::GroupUser { user: Some(user), state: Some(r.edge_state.into()) }
            })
            .collect();
        Ok(api::GroupUserList { group_users, cursor })
    }

    /// `GET /v2/user/{user_id}/group` — ListUserGroups: by role, then join order.
    pub async fn list_user_groups(&self, user_id_text: &str, limit: Option<i32>, state: Option<i32>, cursor: &str) -> Result<api::UserGroupList, Error> {
        if user_id_text.is_empty() {
            return Err(Error::invalid("User ID must be set."));
        }
        // Nakama's wording for a malformed user id.
        let user = Uuid::parse_str(user_id_text).map_err(|_| Error::invalid("Group ID must be a valid ID."))?;
        let (limit, state) = edge_list_args(limit, state)?;
        let from = paging::decode_edge_cursor(cursor, state)?;
        let mut rows = self
            .store()
            .user_groups_list(user, state, from, limit + 1)
            .await
            .or_internal("Error while trying to list groups for a user.")?;
        let cursor = paging::next_edge_cursor(&mut rows, limit, |r| (r.edge_state, r.position));
        let user_groups = rows
            .iter()
            .map(|r| api::user_group_list::UserGroup { group: Some(group_to_wire(&r.group)), state: Some(r.edge_state.into()) })
            .collect();
        Ok(api::UserGroupList { user_groups, cursor })
    }
}

/// The limit (default 100, 1–100) and state filter (0–4) of the two membership listings.
fn edge_list_args(limit: Option<i32>, state: Option<i32>) -> Result<(usize, Option<i16>), Error> {
    let limit = paging::limit_or(limit, 100, 100)?;
    if state.is_some_and(|s| !(0..=4).contains(&s)) {
        return Err(Error::invalid("Invalid state - state must be between 0 and 4."));
    }
    Ok((limit, state.map(|s| s as i16)))
}

fn members_error(outcome: MembersOutcome, internal: &'static str) -> Error {
    match outcome {
        MembersOutcome::Denied => Error::NotFound("Group not found or permission denied.".into()),
        MembersOutcome::Full => Error::invalid("Group is full."),
        MembersOutcome::UserNotFound => Error::invalid("One or more users not found."),
        // Only the server's authority reaches a missing group; Nakama reports it as internal.
        MembersOutcome::NotFound | MembersOutcome::Done { .. } => Error::internal(internal, "group not found"),
    }
}
