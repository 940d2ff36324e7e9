//! Public user objects (Nakama `core_user.go`): `GET /v2/user` and the conversion of a stored
//! account into the wire `User`.

use kizuna_proto::api;
use kizuna_store::users::UserRow;
use uuid::Uuid;

use crate::{error::StoreContext, timestamp, Core, Error};

/// The wire `User` for a stored account. `online` is false here; [`Core::fill_online`] sets it
/// from live status presences.
pub(crate) fn user_from_row(row: &UserRow) -> api::User {
    api::User {
        id: row.id.to_string(),
        username: row.username.clone(),
        display_name: row.display_name.clone().unwrap_or_default(),
        avatar_url: row.avatar_url.clone().unwrap_or_default(),
        lang_tag: row.lang_tag.clone(),
        location: row.location.clone().unwrap_or_default(),
        timezone: row.timezone.clone().unwrap_or_default(),
        metadata: row.metadata.get().to_owned(),
        facebook_id: row.facebook_id.clone().unwrap_or_default(),
        google_id: row.google_id.clone().unwrap_or_default(),
        gamecenter_id: row.gamecenter_id.clone().unwrap_or_default(),
        steam_id: row.steam_id.clone().unwrap_or_default(),
        online: false,
        edge_count: row.edge_count,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        facebook_instant_game_id: row.facebook_instant_game_id.clone().unwrap_or_default(),
        apple_id: row.apple_id.clone().unwrap_or_default(),
    }
}

impl Core {
    /// `GET /v2/user` — GetUsers. Unknown entries are skipped; an empty request is an empty list.
    pub async fn get_users(&self, ids: &[String], usernames: &[String], facebook_ids: &[String]) -> Result<api::Users, Error> {
        let mut parsed = Vec::with_capacity(ids.len());
        for id in ids {
            match Uuid::parse_str(id) {
                Ok(u) => parsed.push(u),
                Err(_) => return Err(Error::invalid(format!("ID '{id}' is not a valid system ID."))),
            }
        }
        let texts: Vec<&str> = usernames.iter().chain(facebook_ids).map(String::as_str).collect();
        crate::validate::reject_nul(&texts)?;
        let rows = self
            .store()
            .users_by_any(&parsed, usernames, facebook_ids)
            .await
            .or_internal("Error retrieving user accounts.")?;
        let mut users: Vec<api::User> = rows.iter().map(user_from_row).collect();
        for user in &mut users {
            self.fill_online(user);
        }
        Ok(api::Users { users })
    }
}
