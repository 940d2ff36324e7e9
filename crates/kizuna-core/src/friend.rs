//! Friends (Nakama `api_friend.go`, `core_friend.go`; semantics §3): invitations that become
//! mutual when returned, removal, blocking, listing with cursors, and friends of friends.
//! Every relationship change notifies the other user as Nakama does.

use kizuna_proto::api;
use kizuna_store::friend::{FriendAdded, FriendRow};
use uuid::Uuid;

use crate::{
    error::StoreContext,
    notification::{code, json_object, NotificationSend},
    paging,
    realtime::Stream,
    timestamp,
    user::user_from_row,
    Core, Error,
};

/// The three calls that take a list of users; their messages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FriendCall {
    Add,
    Delete,
    Block,
}

impl FriendCall {
    fn cannot_self(self) -> &'static str {
        match self {
            FriendCall::Add => "Cannot add self as friend.",
            FriendCall::Delete => "Cannot delete self.",
            FriendCall::Block => "Cannot block self.",
        }
    }

    fn internal(self) -> &'static str {
        match self {
            FriendCall::Add => "Error while trying to add friends.",
            FriendCall::Delete => "Error while trying to delete friends.",
            FriendCall::Block => "Error while trying to block friends.",
        }
    }
}

const BAD_CURSOR: &str = "Cursor is invalid.";

fn listed_friend(core: &Core, row: &FriendRow) -> api::Friend {
    let mut user = user_from_row(&row.user);
    core.fill_online(&mut user);
    api::Friend {
        user: Some(user),
        state: Some(row.state.into()),
        update_time: Some(timestamp(row.edge_update_time)),
        metadata: row.edge_metadata.get().to_owned(),
    }
}

impl Core {
    /// The users a friend call names, validated as Nakama's API does. `None`: nothing to do.
    async fn friend_targets(
        &self,
        call: FriendCall,
        user_id: Uuid,
        username: &str,
        ids: &[String],
        usernames: &[String],
    ) -> Result<Option<Vec<Uuid>>, Error> {
        if ids.is_empty() && usernames.is_empty() {
            return Ok(None);
        }
        let own_id = user_id.to_string();
        let mut targets = Vec::with_capacity(ids.len() + usernames.len());
        for id in ids {
            if *id == own_id {
                return Err(Error::invalid(call.cannot_self()));
            }
            match Uuid::parse_str(id) {
                Ok(u) if !u.is_nil() => targets.push(u),
                _ => return Err(Error::invalid(format!("Invalid user ID '{id}'."))),
            }
        }
        for name in usernames {
            if name.is_empty() {
                return Err(Error::invalid("Username must not be empty."));
            }
            if name == username {
                return Err(Error::invalid(call.cannot_self()));
            }
        }
        let resolved = self.store().user_ids_by_usernames(usernames).await.or_internal(call.internal())?;
        targets.extend(resolved);
        if targets.is_empty() {
            return match call {
                FriendCall::Delete => Ok(None),
                _ => Err(Error::invalid("No valid ID or username was provided.")),
            };
        }
        let mut seen = std::collections::HashSet::with_capacity(targets.len());
        targets.retain(|t| seen.insert(*t));
        Ok(Some(targets))
    }

    /// `POST /v2/friend` — AddFriends. Invites each user, or accepts their invitation; the other
    /// user is notified (−2 request, −3 accepted). `metadata`, a JSON object, is kept on the
    /// caller's edge.
    pub async fn add_friends(&self, user_id: Uuid, username: &str, ids: &[String], usernames: &[String], metadata: &str) -> Result<(), Error> {
        let Some(targets) = self.friend_targets(FriendCall::Add, user_id, username, ids, usernames).await? else {
            return Ok(());
        };
        let metadata = if metadata.is_empty() { "{}" } else { metadata };
        if !crate::storage::is_json_object(metadata) {
            // Nakama hands the text to the database, whose JSON cast fails.
            return Err(Error::internal(FriendCall::Add.internal(), "friend metadata is not a JSON object"));
        }
        let done = self
            .store()
            .friends_add(user_id, &targets, metadata, kizuna_store::now())
            .await
            .or_internal(FriendCall::Add.internal())?;
        let content = json_object(&[("username", username)]);
        let sends = done
            .into_iter()
            .map(|(target, how)| {
                let (code, subject) = match how {
                    FriendAdded::Invited => (code::FRIEND_REQUEST, format!("{username} wants to add you as a friend")),
                    FriendAdded::Accepted => (code::FRIEND_ACCEPT, format!("{username} accepted your friend request")),
                };
                NotificationSend { user_id: target, subject, content: content.clone(), code, sender_id: Some(user_id), persistent: true }
            })
            .collect();
        self.notify_best_effort(sends).await;
        Ok(())
    }

    /// `DELETE /v2/friend` — DeleteFriends: removes friends, cancels or rejects invitations,
    /// unblocks. When both edges go the other user is notified (−9, also for a cancelled or
    /// rejected invitation, as in Nakama).
    pub async fn delete_friends(&self, user_id: Uuid, username: &str, ids: &[String], usernames: &[String]) -> Result<(), Error> {
        let Some(targets) = self.friend_targets(FriendCall::Delete, user_id, username, ids, usernames).await? else {
            return Ok(());
        };
        let removed = self
            .store()
            .friends_delete(user_id, &targets, kizuna_store::now())
            .await
            .or_internal(FriendCall::Delete.internal())?;
        let content = json_object(&[("username", username)]);
        let sends = removed
            .into_iter()
            .map(|target| NotificationSend {
                user_id: target,
                subject: format!("{username} removed you as a friend"),
                content: content.clone(),
                code: code::FRIEND_REMOVE,
                sender_id: Some(user_id),
                persistent: true,
            })
            .collect();
        self.notify_best_effort(sends).await;
        Ok(())
    }

    /// `POST /v2/friend/block` — BlockFriends. The blocked user loses their edge to the caller
    /// and any direct-message channel between the two is closed.
    pub async fn block_friends(&self, user_id: Uuid, username: &str, ids: &[String], usernames: &[String]) -> Result<(), Error> {
        let Some(targets) = self.friend_targets(FriendCall::Block, user_id, username, ids, usernames).await? else {
            return Ok(());
        };
        self.store()
            .friends_block(user_id, &targets, kizuna_store::now())
            .await
            .or_internal(FriendCall::Block.internal())?;
        for target in targets {
            self.stream_close(&Stream::direct(user_id, target));
        }
        Ok(())
    }

    /// `GET /v2/friend` — ListFriends: by state, then oldest relationship first.
    pub async fn list_friends(&self, user_id: Uuid, limit: Option<i32>, state: Option<i32>, cursor: &str) -> Result<api::FriendList, Error> {
        let limit = paging::limit_or(limit, 1000, 1000)?;
        if state.is_some_and(|s| !(0..=3).contains(&s)) {
            return Err(Error::invalid("Invalid state - state must be between 0 and 3."));
        }
        let state = state.map(|s| s as i16);
        let from = paging::decode_edge_cursor(cursor, state)?;
        let mut rows = self
            .store()
            .friends_list(user_id, state, from, limit + 1)
            .await
            .or_internal("Error while trying to list friends.")?;
        let cursor = paging::next_edge_cursor(&mut rows, limit, |r| (r.state, r.position));
        Ok(api::FriendList { friends: rows.iter().map(|r| listed_friend(self, r)).collect(), cursor })
    }

    /// `GET /v2/friend/friends` — ListFriendsOfFriends: the friends of each friend (in friend id
    /// order), without the caller and the caller's own friends. A user reachable through two
    /// friends is listed twice, once per referrer.
    pub async fn list_friends_of_friends(&self, user_id: Uuid, limit: Option<i32>, cursor: &str) -> Result<api::FriendsOfFriendsList, Error> {
        let limit = paging::limit_or(limit, 10, 100)?;
        let from: Option<(Uuid, Uuid)> = if cursor.is_empty() {
            None
        } else {
            let (tag, referrer, user): (String, Uuid, Uuid) = paging::decode_cursor(cursor).ok_or_else(|| Error::invalid(BAD_CURSOR))?;
            if tag != "fof" {
                return Err(Error::invalid(BAD_CURSOR));
            }
            Some((referrer, user))
        };
        let internal = "Error while trying to list friends.";
        let mut pairs = self.store().friends_of_friends(user_id, from, limit + 1).await.or_internal(internal)?;
        let cursor = if pairs.len() > limit {
            let (r, u) = pairs[limit];
            pairs.truncate(limit);
            paging::encode_cursor(&("fof", r, u))
        } else {
            String::new()
        };
        let ids: Vec<Uuid> = pairs.iter().map(|p| p.1).collect();
        let rows = self.store().users_by_any(&ids, &[], &[]).await.or_internal(internal)?;
        let users: std::collections::HashMap<Uuid, api::User> = rows
            .iter()
            .map(|r| {
                let mut u = user_from_row(r);
                self.fill_online(&mut u);
                (r.id, u)
            })
            .collect();
        let friends_of_friends = pairs
            .into_iter()
            // A user deleted between the two queries is skipped.
            .filter_map(|(referrer, user)| {
                users.get(&user).map(|u| api::friends_of_friends_list::FriendOfFriend { referrer: referrer.to_string(), user: Some(u.clone()) })
            })
            .collect();
        Ok(api::FriendsOfFriendsList { friends_of_friends, cursor })
    }
}
