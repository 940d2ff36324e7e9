//! Linking and unlinking identities to the caller's account (Nakama `api_link.go`,
//! `core_link.go`, `api_unlink.go`, `core_unlink.go`).

use kizuna_store::{user_device::LinkDevice, users::IdColumn};
use uuid::Uuid;

use crate::{
    auth::{check_device_id, check_email, check_password, hash_password},
    error::StoreContext,
    validate, Core, Error,
};

const FACEBOOK_INSTANT_UNVERIFIED: Error = Error::Unauthenticated(std::borrow::Cow::Borrowed("Could not authenticate Facebook Instant Game profile."));

const LAST_IDENTIFIER: &str = "Cannot unlink last account identifier. Check profile exists and is not last link.";

impl Core {
    /// `POST /v2/account/link/device` — LinkDevice.
    pub async fn link_device(&self, user_id: Uuid, device_id: &str) -> Result<(), Error> {
        check_device_id(device_id)?;
        let linked = self.store().link_device(user_id, device_id, kizuna_store::now()).await;
        self.identity_changed(user_id);
        match linked {
            Ok(LinkDevice::Linked) => Ok(()),
            Ok(LinkDevice::OwnedByOther) => Err(Error::AlreadyExists("Device ID already in use.".into())),
            Err(e) => Err(Error::internal("Error linking Device ID.", e)),
        }
    }

    /// `POST /v2/account/link/custom` — LinkCustom.
    pub async fn link_custom(&self, user_id: Uuid, custom_id: &str) -> Result<(), Error> {
        // Nakama words link's messages differently from authenticate's.
        let messages = validate::IdMessages(
            "Custom ID is required.",
            "Invalid custom ID, no spaces or control characters allowed.",
            "Invalid custom ID, must be 6-128 bytes.",
        );
        validate::check_id(custom_id, 6, 128, messages)?;
        let linked = self
            .store()
            .link_column(user_id, IdColumn::Custom, custom_id, None, kizuna_store::now())
            .await
            .or_internal("Error while trying to link Custom ID.")?;
        self.identity_changed(user_id);
        if !linked {
            return Err(Error::AlreadyExists("Custom ID is already in use.".into()));
        }
        Ok(())
    }

    /// `POST /v2/account/link/email` — LinkEmail. Stores the lower-cased email and a new password
    /// hash.
    pub async fn link_email(&self, user_id: Uuid, email: &str, password: &str) -> Result<(), Error> {
        if email.is_empty() || password.is_empty() {
            return Err(Error::invalid("Email address and password is required."));
        }
        let email = check_email(email)?;
        check_password(password)?;
        let hash = hash_password(password).await?;
        let linked = self
            .store()
            .link_column(user_id, IdColumn::Email, &email, Some(&hash), kizuna_store::now())
            .await
            .or_internal("Error while trying to link email.")?;
        self.identity_changed(user_id);
        if !linked {
            return Err(Error::AlreadyExists("Email is already in use.".into()));
        }
        Ok(())
    }

    /// `POST /v2/account/link/facebookinstantgame` — LinkFacebookInstantGame.
    pub async fn link_facebook_instant_game(&self, user_id: Uuid, signed_player_info: &str) -> Result<(), Error> {
        if signed_player_info.is_empty() {
            return Err(Error::invalid("Signed Player Info for a Facebook Instant Game is required."));
        }
        let player_id = self.facebook_instant_game_id(signed_player_info).map_err(|_| FACEBOOK_INSTANT_UNVERIFIED)?;
        let linked = self
            .store()
            .link_column(user_id, IdColumn::FacebookInstantGame, &player_id, None, kizuna_store::now())
            .await
            .or_internal("Error while trying to link Facebook Instant Game ID.")?;
        self.identity_changed(user_id);
        if !linked {
            return Err(Error::AlreadyExists("Facebook Instant Game ID is already in use.".into()));
        }
        Ok(())
    }

    /// `POST /v2/account/unlink/facebookinstantgame` — UnlinkFacebookInstantGame. Empty signed
    /// player info unlinks whatever is linked (as Nakama does).
    pub async fn unlink_facebook_instant_game(&self, user_id: Uuid, signed_player_info: &str) -> Result<(), Error> {
        let player_id = if signed_player_info.is_empty() {
            String::new()
        } else {
            self.facebook_instant_game_id(signed_player_info).map_err(|_| FACEBOOK_INSTANT_UNVERIFIED)?
        };
        self.unlink_column(user_id, IdColumn::FacebookInstantGame, &player_id, "Error while trying to unlink Facebook Instant Game ID.").await
    }

    /// `POST /v2/account/unlink/device` — UnlinkDevice.
    pub async fn unlink_device(&self, user_id: Uuid, device_id: &str) -> Result<(), Error> {
        if device_id.is_empty() {
            return Err(Error::invalid("A device ID must be supplied."));
        }
        let removed = self
            .store()
            .unlink_device(user_id, device_id, kizuna_store::now())
            .await
            .or_internal("Could not unlink device ID.")?;
        self.identity_changed(user_id);
        if !removed {
            return Err(Error::PermissionDenied(LAST_IDENTIFIER.into()));
        }
        Ok(())
    }

    /// `POST /v2/account/unlink/custom` — UnlinkCustom. An empty id unlinks whatever is linked.
    pub async fn unlink_custom(&self, user_id: Uuid, custom_id: &str) -> Result<(), Error> {
        self.unlink_column(user_id, IdColumn::Custom, custom_id, "Could not unlink custom ID.").await
    }

    /// `POST /v2/account/unlink/email` — UnlinkEmail. Clears the email and the password.
    pub async fn unlink_email(&self, user_id: Uuid, email: &str) -> Result<(), Error> {
        self.unlink_column(user_id, IdColumn::Email, &email.to_lowercase(), "Could not unlink email.").await
    }

    async fn unlink_column(&self, user_id: Uuid, column: IdColumn, value: &str, failure: &'static str) -> Result<(), Error> {
        let removed = self.store().unlink_column(user_id, column, value, kizuna_store::now()).await.or_internal(failure)?;
        self.identity_changed(user_id);
        if !removed {
            return Err(Error::PermissionDenied(LAST_IDENTIFIER.into()));
        }
        Ok(())
    }

    /// Link and unlink for providers that need outside verification are not built yet.
    pub fn link_unimplemented(&self, rpc: &'static str) -> Result<(), Error> {
        Err(Error::Unimplemented(format!("method {rpc} not implemented").into()))
    }
}
