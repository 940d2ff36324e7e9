//! Session and refresh tokens, and the revocation cache (Nakama `api_authenticate.go` token
//! generation, `api.go` parseToken, `core_session.go`, `session_cache.go`).
//!
//! Tokens are HS256 JWTs with Nakama's claims (`tid`, `uid`, `usn`, `vrs`, `exp`, `iat`); a
//! session token and its refresh token share `tid`. Revocation is checked in memory, as in
//! Nakama: a blacklist of token ids until they expire, per user a "log out everything" time
//! before which issued tokens are rejected, and deleted accounts. Unlike Nakama, every
//! revocation is also written to the database before it is acknowledged and loaded again at
//! start-up ([`Core::restore_sessions`]), so a logout or a deletion survives a restart.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::Mutex;
use kizuna_store::session::{Revocation, RevocationKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::StoreContext, Core, Error};

/// `session.*` settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub encryption_key: String,
    pub refresh_encryption_key: String,
    pub token_expiry_sec: i64,
    pub refresh_token_expiry_sec: i64,
    /// Invalidate a user's earlier tokens on each authentication (`session.single_session`).
    pub single_session: bool,
}

/// The claims of both token kinds. Field names are Nakama's; empty values are omitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionClaims {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub usn: String,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub vrs: HashMap<String, String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub iat: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A verified session: who is calling, from the bearer token.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub username: String,
    pub vars: HashMap<String, String>,
    pub token_id: String,
    pub expiry: i64,
}

/// A freshly issued pair of tokens.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub token: String,
    pub refresh_token: String,
}

/// Signing and verification keys, built once from the configuration.
pub(crate) struct Keys {
    session_enc: EncodingKey,
    session_dec: DecodingKey,
    refresh_enc: EncodingKey,
    refresh_dec: DecodingKey,
    validation: Validation,
    /// Matchmaker tokens: `exp` is checked when present but not required (golang-jwt's map claims).
    match_validation: Validation,
}

/// The claims of a matchmaker token: the match id and an expiry.
#[derive(Debug, Serialize, Deserialize)]
struct MatchTokenClaims {
    mid: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    exp: i64,
}

impl Keys {
    pub(crate) fn new(config: &SessionConfig) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        // Nakama (golang-jwt) allows no clock skew and requires `exp`.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_aud = false;
        Keys {
            session_enc: EncodingKey::from_secret(config.encryption_key.as_bytes()),
            session_dec: DecodingKey::from_secret(config.encryption_key.as_bytes()),
            refresh_enc: EncodingKey::from_secret(config.refresh_encryption_key.as_bytes()),
            refresh_dec: DecodingKey::from_secret(config.refresh_encryption_key.as_bytes()),
            match_validation: {
                let mut v = validation.clone();
                v.set_required_spec_claims::<&str>(&[]);
                v
            },
            validation,
        }
    }

    /// A matchmaker token for `match_id`, signed with the session key, valid until `exp` (unix
    /// seconds).
    pub(crate) fn issue_match_token(&self, match_id: &str, exp: i64) -> String {
        let claims = MatchTokenClaims { mid: match_id.to_owned(), exp };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.session_enc).expect("HS256 signing cannot fail")
    }

    /// The match id of a valid matchmaker token.
    pub(crate) fn verify_match_token(&self, token: &str) -> Option<String> {
        jsonwebtoken::decode::<MatchTokenClaims>(token, &self.session_dec, &self.match_validation).ok().map(|t| t.claims.mid)
    }
}

/// Which of the two token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Session,
    Refresh,
}

/// Revocation state. Locked only for short, non-async sections.
#[derive(Default)]
pub(crate) struct SessionCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// Revoked session token ids → their expiry (unix seconds), for sweeping.
    revoked_session: HashMap<String, i64>,
    /// Revoked refresh token ids → their expiry.
    revoked_refresh: HashMap<String, i64>,
    /// Per user: tokens issued before this time (unix seconds) are rejected, and when the mark
    /// can be forgotten.
    invalid_before: HashMap<Uuid, (i64, i64)>,
    /// Deleted accounts → when the mark can be forgotten. Their session tokens answer
    /// "Account not found." (what Nakama answers once the row is gone); refresh finds no user.
    deleted: HashMap<Uuid, i64>,
    /// Per user: token pairs issued in the latest second, so "log out everything" can also
    /// reach tokens issued earlier in the same second.
    recent: HashMap<Uuid, Vec<RecentToken>>,
}

/// A token pair issued recently.
struct RecentToken {
    tid: String,
    second: i64,
    session_exp: i64,
    refresh_exp: i64,
}

fn time(unix_sec: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix_sec, 0).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// An account-wide revocation row made at `now`, kept while any token it concerns can live.
fn account_mark(kind: RevocationKind, user: Uuid, now: i64, max_lifetime: i64) -> Revocation {
    Revocation { user_id: user, kind, token_id: String::new(), create_time: time(now), expire_time: time(now + max_lifetime) }
}

/// A revocation row for a token id.
fn token_row(kind: Kind, user: Uuid, tid: &str, now: i64, exp: i64) -> Revocation {
    let kind = match kind {
        Kind::Session => RevocationKind::SessionToken,
        Kind::Refresh => RevocationKind::RefreshToken,
    };
    Revocation { user_id: user, kind, token_id: tid.to_owned(), create_time: time(now), expire_time: time(exp) }
}

impl SessionCache {
    /// Whether a token may be used: `None` when it is revoked, else whether its account was
    /// deleted (one lock for both answers; this runs on every authenticated request).
    fn check(&self, kind: Kind, user: Uuid, tid: &str, exp: i64, lifetime: i64) -> Option<bool> {
        let state = self.state.lock();
        let revoked = match kind {
            Kind::Session => &state.revoked_session,
            Kind::Refresh => &state.revoked_refresh,
        };
        if revoked.contains_key(tid) {
            return None;
        }
        // Issue time is derived from expiry, as Nakama does; same-second tokens issued before the
        // mark were revoked by id.
        if state.invalid_before.get(&user).is_some_and(|(before, _)| exp - lifetime < *before) {
            return None;
        }
        Some(state.deleted.contains_key(&user))
    }

    /// Applies revocations (fresh ones, or those loaded at start-up).
    fn apply(&self, rows: &[Revocation]) {
        let mut state = self.state.lock();
        for r in rows {
            let until = r.expire_time.timestamp();
            match r.kind {
                RevocationKind::SessionToken => {
                    state.revoked_session.insert(r.token_id.clone(), until);
                }
                RevocationKind::RefreshToken => {
                    state.revoked_refresh.insert(r.token_id.clone(), until);
                }
                RevocationKind::AllBefore => {
                    let mark = (r.create_time.timestamp(), until);
                    let entry = state.invalid_before.entry(r.user_id).or_insert(mark);
                    if mark.0 > entry.0 {
                        *entry = mark;
                    }
                }
                RevocationKind::AccountDeleted => {
                    state.deleted.insert(r.user_id, until);
                }
            }
        }
    }

    /// The rows that reject every token of `user` issued before `now`. Token times are whole
    /// seconds, so the mark alone cannot tell apart tokens issued earlier in this second from
    /// ones issued after the call; the tokens issued this second are known
    /// ([`SessionCache::issued`]) and are revoked by id instead. Later tokens in the same second
    /// stay valid.
    fn invalidate_all_rows(&self, user: Uuid, now: i64, max_lifetime: i64) -> Vec<Revocation> {
        let mut rows = vec![account_mark(RevocationKind::AllBefore, user, now, max_lifetime)];
        let mut state = self.state.lock();
        if let Some(recent) = state.recent.remove(&user) {
            for t in recent.into_iter().filter(|t| t.second >= now) {
                rows.push(token_row(Kind::Session, user, &t.tid, now, t.session_exp));
                rows.push(token_row(Kind::Refresh, user, &t.tid, now, t.refresh_exp));
            }
        }
        rows
    }

    /// Records a token pair issued at `second`, keeping only this second's tokens per user.
    fn issued(&self, user: Uuid, token: RecentToken) {
        let mut state = self.state.lock();
        let recent = state.recent.entry(user).or_default();
        recent.retain(|t| t.second >= token.second);
        recent.push(token);
    }

    /// Forgets entries that can no longer matter: revoked ids past their expiry, and marks
    /// older than the longest token lifetime.
    pub(crate) fn sweep(&self, now: i64) {
        let mut state = self.state.lock();
        state.revoked_session.retain(|_, exp| *exp > now);
        state.revoked_refresh.retain(|_, exp| *exp > now);
        state.invalid_before.retain(|_, (_, until)| *until > now);
        state.deleted.retain(|_, until| *until > now);
        state.recent.retain(|_, tokens| tokens.iter().any(|t| t.second >= now));
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Core {
    /// Issues a new session token and refresh token with a new token id.
    pub fn issue_tokens(&self, user_id: Uuid, username: &str, vars: HashMap<String, String>) -> Result<TokenPair, Error> {
        let now = unix_now();
        self.sign_pair(Uuid::new_v4().to_string(), user_id, username, vars, now, now)
    }

    fn sign_pair(
        &self,
        tid: String,
        user_id: Uuid,
        username: &str,
        vars: HashMap<String, String>,
        iat: i64,
        now: i64,
    ) -> Result<TokenPair, Error> {
        let cfg = &self.inner.config.session;
        let keys = &self.inner.session_keys;
        let mut claims = SessionClaims {
            tid,
            uid: user_id.to_string(),
            usn: username.to_owned(),
            vrs: vars,
            exp: now + cfg.token_expiry_sec,
            iat,
        };
        let header = Header::new(Algorithm::HS256);
        let token = jsonwebtoken::encode(&header, &claims, &keys.session_enc)
            .map_err(|e| Error::internal("Error generating session token.", e))?;
        let session_exp = claims.exp;
        claims.exp = now + cfg.refresh_token_expiry_sec;
        let refresh_token = jsonwebtoken::encode(&header, &claims, &keys.refresh_enc)
            .map_err(|e| Error::internal("Error generating refresh token.", e))?;
        self.inner.revocations.issued(
            user_id,
            RecentToken { tid: claims.tid, second: now, session_exp, refresh_exp: claims.exp },
        );
        Ok(TokenPair { token, refresh_token })
    }

    fn parse(&self, kind: Kind, token: &str) -> Option<SessionClaims> {
        let keys = &self.inner.session_keys;
        let key = match kind {
            Kind::Session => &keys.session_dec,
            Kind::Refresh => &keys.refresh_dec,
        };
        jsonwebtoken::decode::<SessionClaims>(token, key, &keys.validation).ok().map(|d| d.claims)
    }

    fn lifetime(&self, kind: Kind) -> i64 {
        let cfg = &self.inner.config.session;
        match kind {
            Kind::Session => cfg.token_expiry_sec,
            Kind::Refresh => cfg.refresh_token_expiry_sec,
        }
    }

    /// Verifies a token of `kind`: signature, expiry, user id, revocation. Also says whether the
    /// account was deleted.
    fn verify(&self, kind: Kind, token: &str) -> Option<(SessionClaims, Uuid, bool)> {
        let claims = self.parse(kind, token)?;
        let user_id = Uuid::parse_str(&claims.uid).ok()?;
        let deleted = self.inner.revocations.check(kind, user_id, &claims.tid, claims.exp, self.lifetime(kind))?;
        Some((claims, user_id, deleted))
    }

    /// Verifies a bearer session token. Any failure is Nakama's "Auth token invalid"; the token
    /// of a deleted account answers "Account not found." (Nakama finds no account row then).
    pub fn verify_session_token(&self, token: &str) -> Result<Session, Error> {
        let (claims, user_id, deleted) =
            self.verify(Kind::Session, token).ok_or(Error::Unauthenticated("Auth token invalid".into()))?;
        if deleted {
            return Err(Error::NotFound("Account not found.".into()));
        }
        Ok(Session { user_id, username: claims.usn, vars: claims.vrs, token_id: claims.tid, expiry: claims.exp })
    }

    /// `POST /v2/account/session/refresh` — SessionRefresh. New tokens keep the token id and issue
    /// time; the username is re-read; non-empty `vars` replace the old ones. An empty map keeps
    /// them: Nakama's gateway drops an empty map before the call, and nakama-js sends `{}` by
    /// default.
    pub async fn session_refresh(&self, refresh_token: &str, vars: Option<HashMap<String, String>>) -> Result<TokenPair, Error> {
        if refresh_token.is_empty() {
            return Err(Error::invalid("Refresh token is required."));
        }
        // A deleted account's refresh token goes on to find no user ("User account not found.").
        let (claims, user_id, _) = self
            .verify(Kind::Refresh, refresh_token)
            .ok_or(Error::Unauthenticated("Refresh token invalid or expired.".into()))?;
        let user = self
            .store()
            .auth_by_id(user_id)
            .await
            .map_err(|e| Error::internal("Error finding user account.", e))?
            .ok_or(Error::NotFound("User account not found.".into()))?;
        if user.disable_time != kizuna_store::epoch() {
            return Err(Error::PermissionDenied("User account banned.".into()));
        }
        let vars = vars.filter(|v| !v.is_empty()).unwrap_or(claims.vrs);
        self.sign_pair(claims.tid, user_id, &user.username, vars, claims.iat, unix_now())
    }

    /// `POST /v2/session/logout` — SessionLogout. With neither token, logs out every session of
    /// the caller; otherwise revokes the given token ids. Acknowledged once stored.
    pub async fn session_logout(&self, caller: Uuid, token: &str, refresh_token: &str) -> Result<(), Error> {
        if token.is_empty() && refresh_token.is_empty() {
            return self.invalidate_all_sessions(caller).await;
        }
        // Validate both before revoking either, so a bad request changes nothing.
        let session = if token.is_empty() {
            None
        } else {
            match self.parse(Kind::Session, token) {
                Some(c) if c.uid == caller.to_string() => Some(c),
                _ => return Err(Error::invalid("Session token invalid.")),
            }
        };
        let refresh = if refresh_token.is_empty() {
            None
        } else {
            match self.parse(Kind::Refresh, refresh_token) {
                Some(c) if c.uid == caller.to_string() => Some(c),
                _ => return Err(Error::invalid("Refresh token invalid.")),
            }
        };
        let now = unix_now();
        let rows: Vec<Revocation> = [(Kind::Session, session), (Kind::Refresh, refresh)]
            .into_iter()
            .filter_map(|(kind, c)| c.map(|c| token_row(kind, caller, &c.tid, now, c.exp)))
            .collect();
        self.revoke(rows).await
    }

    /// Rejects every token of `user` issued before now (logout everywhere, ban, single session).
    pub async fn invalidate_all_sessions(&self, user: Uuid) -> Result<(), Error> {
        let rows = self.inner.revocations.invalidate_all_rows(user, unix_now(), self.max_token_lifetime());
        self.revoke(rows).await
    }

    /// The revocations of a deleted account, to be stored with the deletion itself. As in
    /// Nakama, tokens issued before the deletion's second are rejected ("Auth token invalid");
    /// those of the same second stay valid there and then find no account, so here they answer
    /// "Account not found." (a refresh: "User account not found.") and can write nothing.
    pub(crate) fn account_deleted_marks(&self, user: Uuid) -> Vec<Revocation> {
        let (now, lifetime) = (unix_now(), self.max_token_lifetime());
        [RevocationKind::AllBefore, RevocationKind::AccountDeleted].map(|kind| account_mark(kind, user, now, lifetime)).to_vec()
    }

    /// Applies stored revocation rows to the live cache.
    pub(crate) fn apply_revocations(&self, rows: &[Revocation]) {
        self.inner.revocations.apply(rows);
    }

    /// Applies revocations at once, then stores them; the request is acknowledged only once they
    /// are stored.
    async fn revoke(&self, rows: Vec<Revocation>) -> Result<(), Error> {
        self.inner.revocations.apply(&rows);
        self.store().session_revoke(&rows).await.or_internal("Error revoking sessions.")
    }

    /// Loads the revocations still in force from the database (at start-up, before serving).
    pub async fn restore_sessions(&self) -> Result<(), Error> {
        let rows = self.store().session_revocations(kizuna_store::now()).await.or_internal("Error loading session revocations.")?;
        self.inner.revocations.apply(&rows);
        Ok(())
    }

    fn max_token_lifetime(&self) -> i64 {
        let cfg = &self.inner.config.session;
        cfg.token_expiry_sec.max(cfg.refresh_token_expiry_sec)
    }

    /// Drops revocations that have expired, here and in the database. The server calls this
    /// periodically (every 2 × `token_expiry_sec`, as Nakama does).
    pub async fn sweep_sessions(&self) -> Result<(), Error> {
        self.inner.revocations.sweep(unix_now());
        self.store().session_revocations_sweep(kizuna_store::now()).await.or_internal("Error sweeping session revocations.")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(key: &str) -> Keys {
        Keys::new(&SessionConfig {
            encryption_key: key.into(),
            refresh_encryption_key: "r".into(),
            token_expiry_sec: 60,
            refresh_token_expiry_sec: 60,
            single_session: false,
        })
    }

    #[test]
    fn match_tokens_carry_the_match_id_until_they_expire() {
        let k = keys("defaultencryptionkey");
        let now = chrono::Utc::now().timestamp();
        let token = k.issue_match_token("m.", now + 30);
        assert_eq!(k.verify_match_token(&token).as_deref(), Some("m."));
        assert_eq!(k.verify_match_token(&k.issue_match_token("m.", now - 1)), None, "expired");
        assert_eq!(keys("other").verify_match_token(&token), None, "another key");
        assert_eq!(k.verify_match_token("not a token"), None);
        // Without `exp` a token does not expire (golang-jwt map claims).
        assert_eq!(k.verify_match_token(&k.issue_match_token("m.", 0)).as_deref(), Some("m."));
    }
}
