//! The caller's own account (Nakama `api_account.go`, `core_account.go`): get, update, delete.

use kizuna_proto::api;
use kizuna_store::users::AccountUpdate;
use uuid::Uuid;

use crate::{error::StoreContext, timestamp, user::user_from_row, validate, Core, Error};

impl Core {
    /// `GET /v2/account` — GetAccount. `disable_time` is never shown to clients; `verify_time`
    /// only when set.
    pub async fn get_account(&self, user_id: Uuid) -> Result<api::Account, Error> {
        let (row, devices) = self
            .store()
            .account_by_id(user_id)
            .await
            .or_internal("Error retrieving user account.")?
            .ok_or(Error::NotFound("Account not found.".into()))?;
        let verify_time = (row.verify_time != kizuna_store::epoch()).then(|| timestamp(row.verify_time));
        let mut user = user_from_row(&row);
        self.fill_online(&mut user);
        Ok(api::Account {
            user: Some(user),
            wallet: row.wallet.get().to_owned(),
            email: row.email.clone().unwrap_or_default(),
            devices: devices.into_iter().map(|id| api::AccountDevice { id, vars: Default::default() }).collect(),
            custom_id: row.custom_id.clone().unwrap_or_default(),
            verify_time,
            disable_time: None,
        })
    }

    /// `PUT /v2/account` — UpdateAccount. An empty string clears a field; a no-op update succeeds
    /// without touching `update_time`.
    pub async fn update_account(&self, user_id: Uuid, req: api::UpdateAccountRequest) -> Result<(), Error> {
        if let Some(username) = &req.username {
            if username.is_empty() || username.len() > 128 {
                return Err(Error::invalid("Username invalid, must be 1-128 bytes."));
            }
            if validate::invalid_username(username) {
                return Err(Error::invalid("Username invalid, no spaces or control characters allowed."));
            }
        }
        let clearable = |v: Option<String>| v.map(|s| if s.is_empty() { None } else { Some(s) });
        let update = AccountUpdate {
            username: req.username,
            display_name: clearable(req.display_name),
            timezone: clearable(req.timezone),
            location: clearable(req.location),
            lang_tag: clearable(req.lang_tag),
            avatar_url: clearable(req.avatar_url),
            metadata: None,
        };
        if update.is_empty() {
            return Err(Error::invalid("No fields to update."));
        }
        let texts = [&update.display_name, &update.timezone, &update.location, &update.lang_tag, &update.avatar_url];
        let mut texts: Vec<&str> = texts.iter().filter_map(|t| t.as_ref().and_then(|v| v.as_deref())).collect();
        if let Some(u) = &update.username {
            texts.push(u);
        }
        validate::reject_nul(&texts)?;
        match self.store().update_account(user_id, &update, kizuna_store::now()).await {
            Ok(_) => {
                // A new username is part of what authentication caches.
                self.identity_changed(user_id);
                Ok(())
            }
            // Nakama wraps the core AlreadyExists status as InvalidArgument with the nested
            // status text; clients see exactly this (docs/compat.md).
            Err(e) if e.is_unique_on("users", "username") => Err(Error::invalid(
                "rpc error: code = AlreadyExists desc = Username is already in use.",
            )),
            Err(e) => Err(Error::internal("Error while trying to update account.", e)),
        }
    }

    /// `DELETE /v2/account` — DeleteAccount. Removes the account and everything that cascades from
    /// it, then rejects every token it held. Deleting a missing account succeeds.
    pub async fn delete_account(&self, user_id: Uuid) -> Result<(), Error> {
        // The revocations are stored with the deletion, so nothing can be written for the
        // account afterwards, across restarts too.
        let marks = self.account_deleted_marks(user_id);
        let (_, deleted_groups) =
            self.store().delete_user(user_id, kizuna_store::now(), &marks).await.or_internal("Error deleting user account.")?;
        self.apply_revocations(&marks);
        self.identity_changed(user_id);
        for group in deleted_groups {
            self.stream_close(&crate::realtime::Stream::group(group));
        }
        // Live sockets of a deleted account are disconnected, as in Nakama.
        for session in self.sessions().of_user(user_id) {
            session.close(crate::realtime::CloseReason::ServerDisconnect);
        }
        Ok(())
    }

    /// Bans accounts (Nakama `BanUsers`, runtime `nk.users_ban_id`): they can no longer sign in
    /// or refresh, every token they hold is rejected, and each live socket gets a non-persistent
    /// notification (code −8, subject "banned") before it is closed.
    pub async fn ban_users(&self, user_ids: &[Uuid]) -> Result<(), Error> {
        let banned = self.store().users_set_disable_time(user_ids, kizuna_store::now()).await.or_internal("Error banning users.")?;
        for user_id in banned {
            self.identity_changed(user_id);
            self.invalidate_all_sessions(user_id).await?;
            let push = crate::notification::closing_push("banned", crate::notification::code::USER_BANNED);
            for session in self.sessions().of_user(user_id) {
                session.send(push.clone());
                session.close(crate::realtime::CloseReason::ServerDisconnect);
            }
        }
        Ok(())
    }

    /// Lifts bans (Nakama `UnbanUsers`). Tokens revoked by the ban stay revoked.
    pub async fn unban_users(&self, user_ids: &[Uuid]) -> Result<(), Error> {
        let unbanned = self.store().users_set_disable_time(user_ids, kizuna_store::epoch()).await.or_internal("Error unbanning users.")?;
        for user_id in unbanned {
            self.identity_changed(user_id);
        }
        Ok(())
    }
}
