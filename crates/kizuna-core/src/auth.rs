//! Authentication: find or create the account for an identity, then issue tokens (Nakama
//! `api_authenticate.go` validation, `core_authenticate.go` lookups and inserts).

use std::collections::HashMap;

use kizuna_proto::api;
use kizuna_store::{users::{AuthRow, IdColumn, NewUser}, StoreError};
use rand::{distr::Alphabetic, Rng};
use uuid::Uuid;

use crate::{error::StoreContext, validate, Core, Error};

/// How an authentication request identifies the account.
enum Identity<'a> {
    Device(&'a str),
    Column(IdColumn, &'a str),
}

/// bcrypt cost for new password hashes (Go's `bcrypt.DefaultCost`, which Nakama uses).
const BCRYPT_COST: u32 = 10;

/// A random 10-letter username from `[a-zA-Z]`, as Nakama generates them.
pub fn generate_username() -> String {
    rand::rng().sample_iter(Alphabetic).take(10).map(char::from).collect()
}

/// The request username, or a generated one when empty. Nakama checks the pattern before the
/// length.
fn username_or_generated(username: &str) -> Result<String, Error> {
    if username.is_empty() {
        return Ok(generate_username());
    }
    check_username(username)?;
    Ok(username.to_owned())
}

fn check_username(username: &str) -> Result<(), Error> {
    if validate::invalid_username(username) {
        return Err(Error::invalid("Username invalid, no spaces or control characters allowed."));
    }
    if username.len() > 128 {
        return Err(Error::invalid("Username invalid, must be 1-128 bytes."));
    }
    Ok(())
}

/// Device id rules, shared by authenticate and link.
pub(crate) fn check_device_id(id: &str) -> Result<(), Error> {
    let messages = validate::IdMessages(
        "Device ID is required.",
        "Device ID invalid, no spaces or control characters allowed.",
        "Device ID invalid, must be 10-128 bytes.",
    );
    validate::check_id(id, 10, 128, messages)
}

/// Email rules, shared by authenticate and link. Returns the lower-cased email.
pub(crate) fn check_email(email: &str) -> Result<String, Error> {
    if validate::has_space_or_control(email) {
        return Err(Error::invalid("Invalid email address, no spaces or control characters allowed."));
    }
    if !validate::email_format_ok(email) {
        return Err(Error::invalid("Invalid email address format."));
    }
    if email.len() < 10 || email.len() > 255 {
        return Err(Error::invalid("Invalid email address, must be 10-255 bytes."));
    }
    Ok(email.to_lowercase())
}

pub(crate) fn check_password(password: &str) -> Result<(), Error> {
    if password.len() < 8 {
        return Err(Error::invalid("Password must be at least 8 characters long."));
    }
    Ok(())
}

/// Hashes a password off the async threads (bcrypt is deliberately slow).
pub(crate) async fn hash_password(password: &str) -> Result<Vec<u8>, Error> {
    let password = password.to_owned();
    let hashed = tokio::task::spawn_blocking(move || bcrypt::hash_with_result(password, BCRYPT_COST))
        .await
        .map_err(|e| Error::internal("Error hashing password.", e))?
        .map_err(|e| Error::internal("Error hashing password.", e))?;
    // `$2a$` is what Go's bcrypt writes, so hashes stay interchangeable with Nakama's.
    Ok(hashed.format_for_version(bcrypt::Version::TwoA).into_bytes())
}

/// Checks a password against a stored hash off the async threads.
async fn password_matches(password: &str, hash: Option<Vec<u8>>) -> Result<bool, Error> {
    let Some(hash) = hash else { return Ok(false) };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let hash = String::from_utf8(hash).ok()?;
        bcrypt::verify(password, &hash).ok()
    })
    .await
    .map(|ok| ok.unwrap_or(false))
    .map_err(|e| Error::internal("Error checking password.", e))
}

fn banned(row: &AuthRow) -> bool {
    row.disable_time != kizuna_store::epoch()
}

fn create_flag(create: Option<bool>) -> bool {
    // An absent wrapper means "create if missing".
    create.unwrap_or(true)
}

impl Core {
    /// `POST /v2/account/authenticate/device` — AuthenticateDevice.
    pub async fn authenticate_device(&self, req: api::AuthenticateDeviceRequest) -> Result<api::Session, Error> {
        let account = req.account.unwrap_or_default();
        check_device_id(&account.id)?;
        let username = username_or_generated(&req.username)?;
        self.find_or_create(Identity::Device(&account.id), None, create_flag(req.create), username, account.vars).await
    }

    /// `POST /v2/account/authenticate/custom` — AuthenticateCustom.
    pub async fn authenticate_custom(&self, req: api::AuthenticateCustomRequest) -> Result<api::Session, Error> {
        let account = req.account.unwrap_or_default();
        let id = account.id.as_str();
        let messages = validate::IdMessages(
            "Custom ID is required.",
            "Custom ID invalid, no spaces or control characters allowed.",
            "Custom ID invalid, must be 6-128 bytes.",
        );
        validate::check_id(id, 6, 128, messages)?;
        let username = username_or_generated(&req.username)?;
        self.find_or_create(Identity::Column(IdColumn::Custom, id), None, create_flag(req.create), username, account.vars)
            .await
    }

    /// `POST /v2/account/authenticate/email` — AuthenticateEmail. An empty email means a
    /// username + password login, which never creates an account.
    pub async fn authenticate_email(&self, req: api::AuthenticateEmailRequest) -> Result<api::Session, Error> {
        let Some(account) = req.account else {
            return Err(Error::invalid("Email address and password is required."));
        };
        let username_login = account.email.is_empty();
        let email = if username_login { String::new() } else { check_email(&account.email)? };
        check_password(&account.password)?;
        if username_login {
            if req.username.is_empty() {
                return Err(Error::invalid("Username is required when email address is not supplied."));
            }
            check_username(&req.username)?;
            let row = self
                .store()
                .auth_by_username(&req.username)
                .await
                .or_internal("Error finding user account.")?
                .ok_or(Error::NotFound("User account not found.".into()))?;
            if banned(&row) {
                return Err(Error::PermissionDenied("User account banned.".into()));
            }
            if !password_matches(&account.password, row.password).await? {
                return Err(Error::Unauthenticated("Invalid credentials.".into()));
            }
            return self.session_for(row.id, &row.username, account.vars, false).await;
        }
        let username = username_or_generated(&req.username)?;
        self.find_or_create(
            Identity::Column(IdColumn::Email, &email),
            Some(&account.password),
            create_flag(req.create),
            username,
            account.vars,
        )
        .await
    }

    /// `POST /v2/account/authenticate/facebookinstantgame` — AuthenticateFacebookInstantGame:
    /// the player id comes from the signed player info, checked with the app secret.
    pub async fn authenticate_facebook_instant_game(&self, req: api::AuthenticateFacebookInstantGameRequest) -> Result<api::Session, Error> {
        let account = req.account.unwrap_or_default();
        if account.signed_player_info.is_empty() {
            return Err(Error::invalid("Signed Player Info for a Facebook Instant Game is required."));
        }
        let username = username_or_generated(&req.username)?;
        let player_id = self.facebook_instant_game_id(&account.signed_player_info).map_err(|e| {
            tracing::info!(error = %e, "invalid Facebook Instant Game signed player info");
            Error::DataLoss("Error extracting the Facebook Instant Game player ID or validating the signature".into())
        })?;
        let identity = Identity::Column(IdColumn::FacebookInstantGame, &player_id);
        self.find_or_create(identity, None, create_flag(req.create), username, account.vars).await
    }

    pub(crate) fn facebook_instant_game_id(&self, signed_player_info: &str) -> Result<String, String> {
        crate::social::facebook_instant_game_id(signed_player_info, &self.config().facebook_instant_game_app_secret)
    }

    /// Every other provider that needs outside verification (Apple, Facebook, Facebook Instant,
    /// Google, Game Center, Steam) is not built yet; they answer as an unimplemented gRPC method.
    pub fn authenticate_unimplemented(&self, rpc: &'static str) -> Result<api::Session, Error> {
        Err(Error::Unimplemented(format!("method {rpc} not implemented").into()))
    }

    /// The account an identity signs in to: from the identity cache, else from the database.
    async fn lookup(&self, identity: &Identity<'_>) -> Result<Option<AuthRow>, Error> {
        let key = match identity {
            Identity::Device(id) => (None, (*id).to_owned()),
            Identity::Column(column, value) => (Some(*column), (*value).to_owned()),
        };
        let cache = &self.inner.identities;
        if let Some(row) = cache.get(&key) {
            return Ok(Some(row));
        }
        let epoch = cache.epoch();
        let found = match identity {
            Identity::Device(id) => self.store().auth_by_device(id).await,
            Identity::Column(column, value) => self.store().auth_by_column(*column, value).await,
        }
        .or_internal("Error finding user account.")?;
        if let Some(row) = &found {
            cache.put(epoch, key, row.clone());
        }
        Ok(found)
    }

    /// The shared flow of every provider: existing account → check ban (and password), else
    /// create when allowed.
    async fn find_or_create(
        &self,
        identity: Identity<'_>,
        password: Option<&str>,
        create: bool,
        username: String,
        vars: HashMap<String, String>,
    ) -> Result<api::Session, Error> {
        if let Some(row) = self.lookup(&identity).await? {
            return self.existing_account(row, password, vars).await;
        }
        if !create {
            return Err(Error::NotFound("User account not found.".into()));
        }
        let mut user = NewUser {
            id: Uuid::new_v4(),
            username,
            create_time: kizuna_store::now(),
            ..Default::default()
        };
        match &identity {
            Identity::Device(id) => user.device_id = Some((*id).to_owned()),
            Identity::Column(IdColumn::Custom, v) => user.custom_id = Some((*v).to_owned()),
            Identity::Column(IdColumn::Email, v) => user.email = Some((*v).to_owned()),
            Identity::Column(IdColumn::FacebookInstantGame, v) => user.facebook_instant_game_id = Some((*v).to_owned()),
            Identity::Column(..) => return Err(Error::Unimplemented("provider not implemented".into())),
        }
        if let Some(p) = password {
            user.password = Some(hash_password(p).await?);
        }
        match self.store().create_user(&user).await {
            Ok(()) => self.session_for(user.id, &user.username, vars, true).await,
            Err(e) if e.is_unique_on("users", "username") => {
                Err(Error::AlreadyExists("Username is already in use.".into()))
            }
            // A concurrent request created the same identity first: serve that account, so the
            // loser of the race signs in instead of failing.
            Err(StoreError::Unique(_)) => match self.lookup(&identity).await? {
                Some(row) => self.existing_account(row, password, vars).await,
                None => Err(Error::internal("Error finding or creating user account.", "identity race")),
            },
            Err(e) => Err(Error::internal("Error finding or creating user account.", e)),
        }
    }

    async fn existing_account(
        &self,
        row: AuthRow,
        password: Option<&str>,
        vars: HashMap<String, String>,
    ) -> Result<api::Session, Error> {
        if banned(&row) {
            return Err(Error::PermissionDenied("User account banned.".into()));
        }
        if let Some(p) = password
            && !password_matches(p, row.password).await? {
                return Err(Error::Unauthenticated("Invalid credentials.".into()));
            }
        self.session_for(row.id, &row.username, vars, false).await
    }

    async fn session_for(
        &self,
        user_id: Uuid,
        username: &str,
        vars: HashMap<String, String>,
        created: bool,
    ) -> Result<api::Session, Error> {
        if self.config().session.single_session {
            self.invalidate_all_sessions(user_id).await?;
        }
        let pair = self.issue_tokens(user_id, username, vars)?;
        Ok(api::Session { created, token: pair.token, refresh_token: pair.refresh_token })
    }
}
