//! The `groups` and `group_edge` tables (Nakama `core_group.go`).
//!
//! Membership is stored in both directions (group→user and user→group) with the same state,
//! except bans, which only have the group→user row. `groups.edge_count` counts members in
//! states 0–2 and is kept in the same transaction as the edges. Every operation that changes
//! membership first locks the group's row, so operations on one group queue and counts and the
//! capacity check stay exact. Group events (join, add, leave, kick, promote, ban, demote) are
//! written to the group's channel history in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::{AssertSqlSafe, QueryBuilder};
use uuid::Uuid;

use crate::{
    epoch,
    friend::{edge_page, next_position, user_columns},
    message::{self, NewMessage},
    users::UserRow,
    Store, StoreError,
};

/// Membership states as stored.
pub mod state {
    pub const SUPERADMIN: i16 = 0;
    pub const ADMIN: i16 = 1;
    pub const MEMBER: i16 = 2;
    pub const JOIN_REQUEST: i16 = 3;
    pub const BANNED: i16 = 4;
}

/// Channel message codes of group events.
pub mod event {
    pub const JOIN: i16 = 3;
    pub const ADD: i16 = 4;
    pub const LEAVE: i16 = 5;
    pub const KICK: i16 = 6;
    pub const PROMOTE: i16 = 7;
    pub const BAN: i16 = 8;
    pub const DEMOTE: i16 = 9;
}

/// A stored group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub lang_tag: String,
    #[sqlx(json)]
    pub metadata: Box<RawValue>,
    pub state: i16,
    pub edge_count: i32,
    pub max_count: i32,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

const GROUP_COLUMNS: &str =
    "id, creator_id, name, description, avatar_url, lang_tag, metadata, state, edge_count, max_count, create_time, update_time";

fn group_columns(prefix: &str) -> String {
    GROUP_COLUMNS.split(", ").map(|c| format!("{prefix}.{c}")).collect::<Vec<_>>().join(", ")
}

/// A member of a group as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupUserRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub edge_state: i16,
    pub position: i64,
}

/// A group of a user as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserGroupRow {
    #[sqlx(flatten)]
    pub group: GroupRow,
    pub edge_state: i16,
    pub position: i64,
}

/// A new group. Empty `lang_tag` means the default (`en`); `max_count` 0 the default (100).
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub id: Uuid,
    pub creator_id: Uuid,
    /// The user who becomes its superadmin.
    pub user_id: Uuid,
    pub name: String,
    pub description: String,
    pub avatar_url: String,
    pub lang_tag: String,
    /// A JSON object; empty means `{}`.
    pub metadata: String,
    pub open: bool,
    pub max_count: i32,
}

/// A partial group update. `None` leaves a column alone; `Some(None)` sets it to NULL.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub name: Option<String>,
    pub lang_tag: Option<String>,
    pub description: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub open: Option<bool>,
    pub metadata: Option<String>,
    pub max_count: Option<i32>,
    pub creator_id: Option<Uuid>,
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupUpdated {
    /// The caller is not an admin of the group (or it does not exist).
    Denied,
    /// The update named no field.
    Empty,
    /// No enabled group with that id.
    NotUpdated,
    Updated,
}

/// A group event written to the group's channel history, about `user_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvent {
    pub message_id: Uuid,
    pub code: i16,
    pub user_id: Uuid,
    pub username: String,
    pub create_time: DateTime<Utc>,
}

/// What a join did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    NotFound,
    Full,
    /// Already a member, already asked, or banned: nothing changes.
    Unchanged,
    /// A join request to a closed group; these admins should hear of it.
    Requested { admins: Vec<Uuid> },
    Joined(GroupEvent),
}

/// What a leave did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// Not in the group, or banned from it.
    Unchanged,
    LastSuperadmin,
    /// The last member left: the group is gone.
    Deleted,
    Left(GroupEvent),
}

/// What an add, kick, ban, promote or demote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembersOutcome {
    /// The caller is not an admin of the group.
    Denied,
    NotFound,
    /// Add only: a user does not exist (nothing was written).
    UserNotFound,
    /// Add only: the group would exceed `max_count` (nothing was written).
    Full,
    /// The events written, one per user affected, in request order. For add, `group_name` is
    /// the group's name.
    Done { events: Vec<GroupEvent>, group_name: String },
}

/// The four membership operations an admin performs on other users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAction {
    Kick,
    Ban,
    Promote,
    Demote,
}

/// Filters of a group listing; `name` excludes the others (checked by the caller).
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// A LIKE pattern matched case-insensitively.
    pub name: Option<String>,
    pub lang_tag: Option<String>,
    /// At most this many members.
    pub members: Option<i32>,
    pub open: Option<bool>,
}

/// Where a group listing continues: the last group of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPosition {
    pub id: Uuid,
    pub name: String,
    pub lang_tag: String,
    pub edge_count: i32,
    pub state: i16,
    /// Microseconds since the epoch.
    pub update_time: i64,
}

impl GroupPosition {
    pub fn of(row: &GroupRow) -> GroupPosition {
        GroupPosition {
            id: row.id,
            name: row.name.clone(),
            lang_tag: row.lang_tag.clone(),
            edge_count: row.edge_count,
            state: row.state,
            update_time: row.update_time.timestamp_micros(),
        }
    }
}

/// Locks an enabled group's row; evaluates to `Option<GroupRow>`.
macro_rules! lock_group {
    ($tx:expr, $id:expr, $for_update:expr) => {{
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = $1 AND disable_time = $2{}", $for_update);
        let row: Option<GroupRow> =
            sqlx::query_as(AssertSqlSafe(sql)).bind($id).bind(epoch()).fetch_optional(&mut *$tx).await?;
        row
    }};
}

/// A user's state in a group (from the group→user edge, so bans count).
macro_rules! member_state {
    ($tx:expr, $group:expr, $user:expr) => {{
        let row: Option<(i16,)> = sqlx::query_as("SELECT state FROM group_edge WHERE source_id = $1 AND destination_id = $2")
            .bind($group)
            .bind($user)
            .fetch_optional(&mut *$tx)
            .await?;
        row.map(|r| r.0)
    }};
}

/// How many superadmins a group has besides `user`.
macro_rules! other_superadmins {
    ($tx:expr, $group:expr, $user:expr) => {{
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM group_edge WHERE source_id = $1 AND destination_id <> $2 AND state = 0")
            .bind($group)
            .bind($user)
            .fetch_one(&mut *$tx)
            .await?;
        n
    }};
}

/// Inserts the two edges of a membership.
macro_rules! insert_membership {
    ($tx:expr, $group:expr, $user:expr, $state:expr, $now:expr) => {{
        let position = next_position();
        sqlx::query(
            "INSERT INTO group_edge (source_id, destination_id, state, position, update_time) \
             VALUES ($1, $2, $3, $4, $5), ($2, $1, $3, $4, $5)",
        )
        .bind($group)
        .bind($user)
        .bind($state)
        .bind(position)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Moves `edge_count` by `delta` and bumps `update_time`.
macro_rules! group_count {
    ($tx:expr, $group:expr, $delta:expr, $now:expr) => {{
        sqlx::query("UPDATE groups SET edge_count = edge_count + $2, update_time = $3 WHERE id = $1")
            .bind($group)
            .bind($delta as i32)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Writes a group event to the group's channel history; evaluates to the [`GroupEvent`].
macro_rules! group_event {
    ($tx:expr, $group:expr, $code:expr, $user:expr, $now:expr) => {{
        let username: Option<(String,)> =
            sqlx::query_as("SELECT username FROM users WHERE id = $1").bind($user).fetch_optional(&mut *$tx).await?;
        let username = username.map(|u| u.0).unwrap_or_default();
        let m = NewMessage {
            id: Uuid::new_v4(),
            code: $code,
            sender_id: $user,
            username: username.clone(),
            stream: message::group_stream($group),
            content: "{}".to_owned(),
            create_time: $now,
        };
        $crate::message_insert_in_tx!($tx, &m);
        GroupEvent { message_id: m.id, code: $code, user_id: $user, username, create_time: $now }
    }};
}

/// Removes a group and every edge to and from it.
macro_rules! delete_group_in_tx {
    ($tx:expr, $group:expr) => {{
        sqlx::query("DELETE FROM groups WHERE id = $1").bind($group).execute(&mut *$tx).await?;
        sqlx::query("DELETE FROM group_edge WHERE source_id = $1 OR destination_id = $1").bind($group).execute(&mut *$tx).await?;
    }};
}
pub(crate) use {delete_group_in_tx, group_count, other_superadmins};

impl Store {
    /// Creates a group with its superadmin. A taken name is [`StoreError::Unique`] on
    /// `groups.name`.
    pub async fn group_create(&self, g: &NewGroup, now: DateTime<Utc>) -> Result<GroupRow, StoreError> {
        let metadata = if g.metadata.is_empty() { "{}" } else { g.metadata.as_str() };
        let metadata: &RawValue = serde_json::from_str(metadata).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
        let lang = if g.lang_tag.is_empty() { "en" } else { g.lang_tag.as_str() };
        let max_count = if g.max_count > 0 { g.max_count } else { 100 };
        let sql = format!(
            "INSERT INTO groups (id, creator_id, name, description, avatar_url, lang_tag, metadata, state, edge_count, \
             max_count, create_time, update_time, disable_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10, $11) \
             RETURNING {GROUP_COLUMNS}"
        );
        let row = crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let row: GroupRow = sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(g.id).bind(g.creator_id).bind(&g.name).bind(&g.description).bind(&g.avatar_url).bind(lang)
                .bind(sqlx::types::Json(metadata)).bind(if g.open { 0i16 } else { 1i16 }).bind(max_count).bind(now).bind(epoch())
                .fetch_one(&mut *tx).await?;
            insert_membership!(tx, g.id, g.user_id, state::SUPERADMIN, now);
            tx.commit().await?;
            row
        });
        Ok(row)
    }

    /// An enabled group by id.
    pub async fn group_by_id(&self, id: Uuid) -> Result<Option<GroupRow>, StoreError> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = $1 AND disable_time = $2");
        let row = crate::dispatch_read!(self, pool =>
            sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).bind(epoch()).fetch_optional(pool).await?);
        Ok(row)
    }

    /// A user's state in a group (bans included), `None` without an edge.
    pub async fn group_member_state(&self, group: Uuid, user: Uuid) -> Result<Option<i16>, StoreError> {
        let row: Option<(i16,)> = crate::dispatch_read!(self, pool =>
            sqlx::query_as("SELECT state FROM group_edge WHERE source_id = $1 AND destination_id = $2")
                .bind(group).bind(user).fetch_optional(pool).await?);
        Ok(row.map(|r| r.0))
    }

    /// Enabled groups by id; unknown ids are skipped.
    pub async fn groups_by_id(&self, ids: &[Uuid]) -> Result<Vec<GroupRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(format!("SELECT {GROUP_COLUMNS} FROM groups WHERE disable_time = "));
            q.push_bind(epoch()).push(" AND id IN (");
            let mut sep = q.separated(", ");
            for id in ids { sep.push_bind(*id); }
            q.push(")");
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Updates a group. `caller` `None` is the server's authority; a user must be an admin.
    /// Every update bumps `update_time`. A taken name is [`StoreError::Unique`].
    pub async fn group_update(&self, group: Uuid, caller: Option<Uuid>, u: &GroupUpdate, now: DateTime<Utc>) -> Result<GroupUpdated, StoreError> {
        let metadata: Option<&RawValue> = match &u.metadata {
            Some(m) => Some(serde_json::from_str(m).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?),
            None => None,
        };
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            if let Some(caller) = caller {
                lock_group!(tx, group, for_update);
                if member_state!(tx, group, caller).is_none_or(|s| s > state::ADMIN) {
                    return Ok(GroupUpdated::Denied);
                }
            }
            let mut q = QueryBuilder::new("UPDATE groups SET update_time = ");
            q.push_bind(now);
            let mut fields = 0;
            let texts: [(&str, Option<Option<&str>>); 4] = [
                ("name", u.name.as_deref().map(Some)),
                ("lang_tag", u.lang_tag.as_deref().map(Some)),
                ("description", u.description.as_ref().map(|d| d.as_deref())),
                ("avatar_url", u.avatar_url.as_ref().map(|d| d.as_deref())),
            ];
            for (col, value) in texts {
                if let Some(v) = value {
                    q.push(format!(", {col} = ")).push_bind(v.map(str::to_owned));
                    fields += 1;
                }
            }
            if let Some(open) = u.open {
                q.push(", state = ").push_bind(if open { 0i16 } else { 1i16 });
                fields += 1;
            }
            if let Some(m) = metadata {
                q.push(", metadata = ").push_bind(sqlx::types::Json(m));
                fields += 1;
            }
            if let Some(max) = u.max_count.filter(|m| *m > 0) {
                q.push(", max_count = ").push_bind(max);
                fields += 1;
            }
            if let Some(creator) = u.creator_id.filter(|c| !c.is_nil()) {
                q.push(", creator_id = ").push_bind(creator);
                fields += 1;
            }
            if fields == 0 {
                return Ok(GroupUpdated::Empty);
            }
            q.push(" WHERE id = ").push_bind(group).push(" AND disable_time = ").push_bind(epoch());
            let n = q.build().execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(if n == 0 { GroupUpdated::NotUpdated } else { GroupUpdated::Updated })
        })
    }

    /// Deletes a group and its edges (its chat history stays). `caller` must be a superadmin
    /// unless `None` (server). Returns false when the caller may not.
    pub async fn group_delete(&self, group: Uuid, caller: Option<Uuid>) -> Result<bool, StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            lock_group!(tx, group, for_update);
            if let Some(caller) = caller
                && member_state!(tx, group, caller) != Some(state::SUPERADMIN)
            {
                return Ok(false);
            }
            delete_group_in_tx!(tx, group);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// `user` joins: an open group makes them a member (and writes a join event), a closed one
    /// records a join request.
    pub async fn group_join(&self, group: Uuid, user: Uuid, now: DateTime<Utc>) -> Result<JoinOutcome, StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let Some(g) = lock_group!(tx, group, for_update) else { return Ok(JoinOutcome::NotFound) };
            if g.edge_count >= g.max_count {
                return Ok(JoinOutcome::Full);
            }
            if member_state!(tx, group, user).is_some() {
                return Ok(JoinOutcome::Unchanged);
            }
            let outcome = if g.state == 0 {
                insert_membership!(tx, group, user, state::MEMBER, now);
                group_count!(tx, group, 1, now);
                JoinOutcome::Joined(group_event!(tx, group, event::JOIN, user, now))
            } else {
                insert_membership!(tx, group, user, state::JOIN_REQUEST, now);
                let admins: Vec<(Uuid,)> = sqlx::query_as(
                    "SELECT destination_id FROM group_edge WHERE source_id = $1 AND state <= 1 ORDER BY destination_id")
                    .bind(group).fetch_all(&mut *tx).await?;
                JoinOutcome::Requested { admins: admins.into_iter().map(|a| a.0).collect() }
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// `user` leaves. The last superadmin cannot while others remain; alone, leaving deletes the
    /// group. A pending join request is withdrawn the same way.
    pub async fn group_leave(&self, group: Uuid, user: Uuid, now: DateTime<Utc>) -> Result<LeaveOutcome, StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            lock_group!(tx, group, for_update);
            let Some(my_state) = member_state!(tx, group, user) else { return Ok(LeaveOutcome::Unchanged) };
            if my_state == state::BANNED {
                return Ok(LeaveOutcome::Unchanged);
            }
            if my_state == state::SUPERADMIN {
                let (superadmins, members): (i64, i64) = sqlx::query_as(
                    "SELECT COALESCE(SUM(CASE WHEN state = 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN state <= 2 THEN 1 ELSE 0 END), 0) \
                     FROM group_edge WHERE source_id = $1 AND destination_id <> $2")
                    .bind(group).bind(user).fetch_one(&mut *tx).await?;
                if superadmins == 0 {
                    if members > 0 {
                        return Ok(LeaveOutcome::LastSuperadmin);
                    }
                    delete_group_in_tx!(tx, group);
                    tx.commit().await?;
                    // An early return skips dispatch_write's sync: sync here (a rare path).
                    self.synced().await?;
                    return Ok(LeaveOutcome::Deleted);
                }
            }
            sqlx::query("DELETE FROM group_edge WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)")
                .bind(group).bind(user).execute(&mut *tx).await?;
            if my_state <= state::MEMBER {
                group_count!(tx, group, -1, now);
            }
            let e = group_event!(tx, group, event::LEAVE, user, now);
            tx.commit().await?;
            Ok(LeaveOutcome::Left(e))
        })
    }

    /// Adds users as members, accepting their join requests. `caller` `None` is the server; a
    /// user must be an admin. All or nothing: an unknown user or a full group writes nothing.
    pub async fn group_add_users(&self, group: Uuid, caller: Option<Uuid>, users: &[Uuid], now: DateTime<Utc>) -> Result<MembersOutcome, StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let g = lock_group!(tx, group, for_update);
            if let Some(caller) = caller
                && member_state!(tx, group, caller).is_none_or(|s| s > state::ADMIN)
            {
                return Ok(MembersOutcome::Denied);
            }
            let Some(g) = g else { return Ok(MembersOutcome::NotFound) };
            let mut events = Vec::new();
            let mut count = g.edge_count;
            for &user in users {
                if Some(user) == caller {
                    continue;
                }
                let exists: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1").bind(user).fetch_optional(&mut *tx).await?;
                if exists.is_none() {
                    return Ok(MembersOutcome::UserNotFound);
                }
                match member_state!(tx, group, user) {
                    None => insert_membership!(tx, group, user, state::MEMBER, now),
                    Some(state::JOIN_REQUEST) => {
                        sqlx::query("UPDATE group_edge SET state = 2, update_time = $3 \
                                     WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)")
                            .bind(group).bind(user).bind(now).execute(&mut *tx).await?;
                    }
                    // Already a member or banned.
                    Some(_) => continue,
                }
                if count + 1 > g.max_count {
                    return Ok(MembersOutcome::Full);
                }
                count += 1;
                group_count!(tx, group, 1, now);
                events.push(group_event!(tx, group, event::ADD, user, now));
            }
            tx.commit().await?;
            Ok(MembersOutcome::Done { events, group_name: g.name })
        })
    }

    /// Kicks, bans, promotes or demotes users (Nakama's role rules: a superadmin or the server
    /// acts on anyone but the last superadmin; an admin only on members, join requests and bans,
    /// and promotes members). Ineligible users and the caller are skipped.
    pub async fn group_members_change(
        &self,
        group: Uuid,
        caller: Option<Uuid>,
        action: MemberAction,
        users: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<MembersOutcome, StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let g = lock_group!(tx, group, for_update);
            let mut my_state = state::SUPERADMIN;
            if let Some(caller) = caller {
                match member_state!(tx, group, caller) {
                    Some(s) if s <= state::ADMIN => my_state = s,
                    _ => return Ok(MembersOutcome::Denied),
                }
            }
            let Some(g) = g else { return Ok(MembersOutcome::NotFound) };
            let mut events = Vec::new();
            for &user in users {
                if Some(user) == caller {
                    continue;
                }
                let Some(their_state) = member_state!(tx, group, user) else { continue };
                let code = match action {
                    MemberAction::Kick | MemberAction::Ban => {
                        let allowed = if my_state == state::SUPERADMIN {
                            their_state != state::SUPERADMIN || other_superadmins!(tx, group, user) > 0
                        } else {
                            their_state > state::ADMIN
                        };
                        if !allowed {
                            continue;
                        }
                        sqlx::query("DELETE FROM group_edge WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)")
                            .bind(group).bind(user).execute(&mut *tx).await?;
                        if action == MemberAction::Ban {
                            sqlx::query("INSERT INTO group_edge (source_id, destination_id, state, position, update_time) VALUES ($1, $2, 4, $3, $4)")
                                .bind(group).bind(user).bind(next_position()).bind(now).execute(&mut *tx).await?;
                        }
                        if their_state > state::MEMBER {
                            continue;
                        }
                        group_count!(tx, group, -1, now);
                        if action == MemberAction::Ban { event::BAN } else { event::KICK }
                    }
                    MemberAction::Promote => {
                        if !(their_state > my_state && their_state > state::SUPERADMIN && their_state <= state::MEMBER) {
                            continue;
                        }
                        sqlx::query("UPDATE group_edge SET state = state - 1, update_time = $3 \
                                     WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)")
                            .bind(group).bind(user).bind(now).execute(&mut *tx).await?;
                        event::PROMOTE
                    }
                    MemberAction::Demote => {
                        if !(their_state >= my_state && their_state < state::MEMBER) {
                            continue;
                        }
                        if my_state == state::SUPERADMIN && other_superadmins!(tx, group, user) == 0 {
                            continue;
                        }
                        sqlx::query("UPDATE group_edge SET state = state + 1, update_time = $3 \
                                     WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)")
                            .bind(group).bind(user).bind(now).execute(&mut *tx).await?;
                        event::DEMOTE
                    }
                };
                events.push(group_event!(tx, group, code, user, now));
            }
            tx.commit().await?;
            Ok(MembersOutcome::Done { events, group_name: g.name })
        })
    }

    /// One page of a group's members ordered by (state, position) from `from` (inclusive).
    /// Without a state filter, bans are left out.
    pub async fn group_users_list(&self, group: Uuid, state: Option<i16>, from: Option<(i16, i64)>, limit: usize) -> Result<Vec<GroupUserRow>, StoreError> {
        let sql = format!(
            "SELECT {}, e.state AS edge_state, e.position FROM group_edge e JOIN users u ON u.id = e.destination_id \
             WHERE e.source_id = ",
            user_columns("u")
        );
        Ok(edge_page!(self, sql, group, state, " AND e.state >= 0 AND e.state <= 3", from, limit))
    }

    /// One page of a user's groups ordered by (state, position) from `from` (inclusive).
    pub async fn user_groups_list(&self, user: Uuid, state: Option<i16>, from: Option<(i16, i64)>, limit: usize) -> Result<Vec<UserGroupRow>, StoreError> {
        let sql = format!(
            "SELECT {}, e.state AS edge_state, e.position FROM group_edge e JOIN groups g ON g.id = e.destination_id \
             WHERE e.source_id = ",
            group_columns("g")
        );
        Ok(edge_page!(self, sql, user, state, " AND e.state >= 0 AND e.state <= 3", from, limit))
    }

    /// One page of groups, strictly after `after`, at most `limit` rows. The order depends on
    /// the filters (Nakama's): a name search is by name and includes disabled groups; the others
    /// use the table's indexes.
    pub async fn groups_list(&self, f: &GroupFilter, after: Option<&GroupPosition>, limit: usize) -> Result<Vec<GroupRow>, StoreError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Col { Name, State, Lang, Edge, Update, Id }
        use Col::*;
        let (order, descending): (&[Col], bool) = match (&f.name, f.open.is_some(), f.lang_tag.is_some(), f.members.is_some()) {
            (Some(_), ..) => (&[Name], false),
            (None, true, true, true) => (&[State, Lang, Edge, Id], true),
            (None, true, true, false) | (None, true, false, true) => (&[State, Edge, Lang, Id], true),
            (None, false, true, true) => (&[Lang, Edge, Id], true),
            (None, false, true, false) => (&[Lang, Edge, Id], false),
            (None, false, false, true) => (&[Edge, Update, Id], true),
            (None, _, false, false) => (&[Update, Edge, Id], false),
        };
        // Case-insensitive: PostgreSQL compares lower-cased text (what its name index holds, so a
        // prefix pattern seeks), SQLite's LIKE folds ASCII case and uses its NOCASE name index.
        let (column, like) = if self.is_postgres() { ("lower(name)", " LIKE lower(") } else { ("name", " LIKE (") };
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(format!("SELECT {GROUP_COLUMNS} FROM groups WHERE "));
            match &f.name {
                Some(name) => { q.push(column).push(like).push_bind(name.clone()).push(")"); }
                None => {
                    q.push("disable_time = ").push_bind(epoch());
                    if let Some(open) = f.open { q.push(" AND state = ").push_bind(if open { 0i16 } else { 1i16 }); }
                    if let Some(lang) = &f.lang_tag { q.push(" AND lang_tag = ").push_bind(lang.clone()); }
                    if let Some(m) = f.members { q.push(" AND edge_count <= ").push_bind(m); }
                }
            }
            let column = |c: Col| match c { Name => "name", State => "state", Lang => "lang_tag", Edge => "edge_count", Update => "update_time", Id => "id" };
            if let Some(p) = after {
                q.push(" AND (");
                for (i, c) in order.iter().enumerate() {
                    if i > 0 { q.push(", "); }
                    q.push(column(*c));
                }
                q.push(if descending { ") < (" } else { ") > (" });
                for (i, c) in order.iter().enumerate() {
                    if i > 0 { q.push(", "); }
                    match c {
                        Name => { q.push_bind(p.name.clone()); }
                        State => { q.push_bind(p.state); }
                        Lang => { q.push_bind(p.lang_tag.clone()); }
                        Edge => { q.push_bind(p.edge_count); }
                        Update => { q.push_bind(DateTime::<Utc>::from_timestamp_micros(p.update_time).unwrap_or_default()); }
                        Id => { q.push_bind(p.id); }
                    }
                }
                q.push(")");
            }
            q.push(" ORDER BY ");
            for (i, c) in order.iter().enumerate() {
                if i > 0 { q.push(", "); }
                q.push(column(*c)).push(if descending { " DESC" } else { "" });
            }
            q.push(" LIMIT ").push_bind(limit as i64);
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }
}
