//! The `users` table: accounts, identity columns, profile fields. Corresponds to the SQL in
//! Nakama's `core_authenticate.go`, `core_account.go`, `core_user.go`, `core_link.go` and
//! `core_unlink.go`.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::QueryBuilder;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::{Store, StoreError};

/// Every column of `users` that the API exposes, in one row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub lang_tag: String,
    pub location: Option<String>,
    pub timezone: Option<String>,
    #[sqlx(json)]
    pub metadata: Box<RawValue>,
    #[sqlx(json)]
    pub wallet: Box<RawValue>,
    pub email: Option<String>,
    pub apple_id: Option<String>,
    pub facebook_id: Option<String>,
    pub facebook_instant_game_id: Option<String>,
    pub google_id: Option<String>,
    pub gamecenter_id: Option<String>,
    pub steam_id: Option<String>,
    pub custom_id: Option<String>,
    pub edge_count: i32,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub verify_time: DateTime<Utc>,
    pub disable_time: DateTime<Utc>,
}

pub(crate) const USER_COLUMNS: &str = "id, username, display_name, avatar_url, lang_tag, location, timezone, metadata, \
    wallet, email, apple_id, facebook_id, facebook_instant_game_id, google_id, gamecenter_id, steam_id, \
    custom_id, edge_count, create_time, update_time, verify_time, disable_time";

/// What authentication needs to know about an existing account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthRow {
    pub id: Uuid,
    pub username: String,
    pub password: Option<Vec<u8>>,
    pub disable_time: DateTime<Utc>,
}

/// The identity columns an account can be found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdColumn {
    Custom,
    Email,
    Apple,
    Facebook,
    FacebookInstantGame,
    Google,
    GameCenter,
    Steam,
}

impl IdColumn {
    /// Every identity column stored on `users` (devices live in `user_device`).
    pub const ALL: [IdColumn; 8] = [
        IdColumn::Custom,
        IdColumn::Email,
        IdColumn::Apple,
        IdColumn::Facebook,
        IdColumn::FacebookInstantGame,
        IdColumn::Google,
        IdColumn::GameCenter,
        IdColumn::Steam,
    ];

    /// The column's name in `users`.
    pub fn column(self) -> &'static str {
        match self {
            IdColumn::Custom => "custom_id",
            IdColumn::Email => "email",
            IdColumn::Apple => "apple_id",
            IdColumn::Facebook => "facebook_id",
            IdColumn::FacebookInstantGame => "facebook_instant_game_id",
            IdColumn::Google => "google_id",
            IdColumn::GameCenter => "gamecenter_id",
            IdColumn::Steam => "steam_id",
        }
    }
}

/// A new account. `device_id`, when set, is inserted into `user_device` in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub id: Uuid,
    pub username: String,
    pub custom_id: Option<String>,
    pub email: Option<String>,
    pub facebook_instant_game_id: Option<String>,
    pub password: Option<Vec<u8>>,
    pub device_id: Option<String>,
    pub create_time: DateTime<Utc>,
}

/// A partial profile update. `None` leaves a column alone; `Some(None)` sets it to NULL.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    pub username: Option<String>,
    pub display_name: Option<Option<String>>,
    pub timezone: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub lang_tag: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    /// A JSON object; only the server's authority may set it.
    pub metadata: Option<String>,
}

impl AccountUpdate {
    /// Whether the update names no field at all.
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.display_name.is_none()
            && self.timezone.is_none()
            && self.location.is_none()
            && self.lang_tag.is_none()
            && self.avatar_url.is_none()
            && self.metadata.is_none()
    }
}

/// Runs an [`AccountUpdate`] on a connection or open transaction; evaluates to rows affected.
/// The row only changes (and `update_time` only moves) when some value differs.
#[macro_export]
#[doc(hidden)]
macro_rules! account_update_in_tx {
    ($conn:expr, $id:expr, $update:expr, $now:expr) => {{
        let update: &$crate::users::AccountUpdate = $update;
        let metadata: Option<&serde_json::value::RawValue> = match &update.metadata {
            Some(m) => Some(serde_json::from_str(m).map_err(|e| $crate::StoreError::Sqlx(sqlx::Error::Decode(e.into())))?),
            None => None,
        };
        let mut q = sqlx::QueryBuilder::new("UPDATE users SET update_time = ");
        q.push_bind($now);
        let mut changed: Vec<(&str, Option<&str>)> = Vec::new();
        if let Some(u) = &update.username { changed.push(("username", Some(u.as_str()))); }
        for (col, val) in [
            ("display_name", &update.display_name),
            ("timezone", &update.timezone),
            ("location", &update.location),
            ("lang_tag", &update.lang_tag),
            ("avatar_url", &update.avatar_url),
        ] {
            if let Some(v) = val { changed.push((col, v.as_deref())); }
        }
        for (col, val) in &changed {
            q.push(format!(", {col} = ")).push_bind(*val);
        }
        if let Some(m) = metadata {
            q.push(", metadata = ").push_bind(sqlx::types::Json(m));
        }
        q.push(" WHERE id = ").push_bind($id).push(" AND (1 = 0");
        for (col, val) in &changed {
            q.push(format!(" OR {col} IS DISTINCT FROM ")).push_bind(*val);
        }
        if metadata.is_some() {
            // Compared as text: JSON with different spacing counts as a change, which is
            // harmless (one extra write) and portable.
            q.push(" OR 1 = 1");
        }
        q.push(")");
        q.build().execute(&mut *$conn).await?.rows_affected()
    }};
}

/// The predicate "the account keeps at least one identifier other than `except`", used by every
/// unlink so the last way to sign in can never be removed. `$1` is the user id.
fn other_identifier_exists(except: Option<IdColumn>, keep_device: Option<&str>) -> String {
    let mut parts: Vec<String> = IdColumn::ALL
        .iter()
        .filter(|c| Some(**c) != except)
        .map(|c| format!("{} IS NOT NULL", c.column()))
        .collect();
    parts.push(match keep_device {
        Some(param) => format!("EXISTS (SELECT 1 FROM user_device WHERE user_id = $1 AND id <> {param})"),
        None => "EXISTS (SELECT 1 FROM user_device WHERE user_id = $1)".to_owned(),
    });
    format!("({})", parts.join(" OR "))
}

impl Store {
    /// An account with its device ids, in one round trip (Nakama's GetAccount reads both in one
    /// query too).
    pub async fn account_by_id(&self, id: Uuid) -> Result<Option<(UserRow, Vec<String>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            device_id: Option<String>,
        }
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let columns: Vec<String> = USER_COLUMNS.split(',').map(str::trim).map(|c| format!("u.{c} AS {c}")).collect();
            format!(
                "SELECT {}, d.id AS device_id FROM users u LEFT JOIN user_device d ON d.user_id = u.id WHERE u.id = $1 ORDER BY d.id",
                columns.join(", ")
            )
        });
        let rows: Vec<Row> = crate::dispatch_read!(self, pool => sqlx::query_as(AssertSqlSafe(SQL.as_str())).bind(id).fetch_all(pool).await?);
        let mut rows = rows.into_iter();
        let Some(first) = rows.next() else { return Ok(None) };
        let devices = first.device_id.into_iter().chain(rows.filter_map(|r| r.device_id)).collect();
        Ok(Some((first.user, devices)))
    }

    /// Accounts matching any of the ids, usernames or Facebook ids; unknown entries are skipped.
    /// The nil system user is never returned.
    pub async fn users_by_any(
        &self,
        ids: &[Uuid],
        usernames: &[String],
        facebook_ids: &[String],
    ) -> Result<Vec<UserRow>, StoreError> {
        if ids.is_empty() && usernames.is_empty() && facebook_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = crate::dispatch_read!(self, pool => {
            let mut q = QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users WHERE id <> "));
            q.push_bind(Uuid::nil()).push(" AND (1 = 0");
            if !ids.is_empty() {
                q.push(" OR id IN (");
                let mut sep = q.separated(", ");
                for id in ids { sep.push_bind(*id); }
                q.push(")");
            }
            if !usernames.is_empty() {
                q.push(" OR username IN (");
                let mut sep = q.separated(", ");
                for u in usernames { sep.push_bind(u.as_str()); }
                q.push(")");
            }
            if !facebook_ids.is_empty() {
                q.push(" OR facebook_id IN (");
                let mut sep = q.separated(", ");
                for f in facebook_ids { sep.push_bind(f.as_str()); }
                q.push(")");
            }
            q.push(")");
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// The account owning an identity value, for authentication.
    pub async fn auth_by_column(&self, column: IdColumn, value: &str) -> Result<Option<AuthRow>, StoreError> {
        let sql = format!("SELECT id, username, password, disable_time FROM users WHERE {} = $1", column.column());
        let row = crate::dispatch_read!(self, pool => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(value).fetch_optional(pool).await?);
        Ok(row)
    }

    /// The account with a username, for username + password login.
    pub async fn auth_by_username(&self, username: &str) -> Result<Option<AuthRow>, StoreError> {
        let sql = "SELECT id, username, password, disable_time FROM users WHERE username = $1";
        let row = crate::dispatch_read!(self, pool => sqlx::query_as(sql).bind(username).fetch_optional(pool).await?);
        Ok(row)
    }

    /// The account by user id, for session refresh.
    pub async fn auth_by_id(&self, id: Uuid) -> Result<Option<AuthRow>, StoreError> {
        let sql = "SELECT id, username, password, disable_time FROM users WHERE id = $1";
        let row = crate::dispatch_read!(self, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
        Ok(row)
    }

    /// The account that owns a device id.
    pub async fn auth_by_device(&self, device_id: &str) -> Result<Option<AuthRow>, StoreError> {
        let sql = "SELECT u.id, u.username, u.password, u.disable_time FROM user_device d \
                   JOIN users u ON u.id = d.user_id WHERE d.id = $1";
        let row = crate::dispatch_read!(self, pool => sqlx::query_as(sql).bind(device_id).fetch_optional(pool).await?);
        Ok(row)
    }

    /// Inserts an account (and its device, if any) in one transaction. A clash surfaces as
    /// [`StoreError::Unique`]; nothing is written then.
    pub async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "INSERT INTO users (id, username, custom_id, email, facebook_instant_game_id, password, create_time, update_time) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(user.id)
            .bind(&user.username)
            .bind(&user.custom_id)
            .bind(&user.email)
            .bind(&user.facebook_instant_game_id)
            .bind(&user.password)
            .bind(user.create_time)
            .execute(&mut *tx)
            .await?;
            if let Some(device_id) = &user.device_id {
                sqlx::query("INSERT INTO user_device (id, user_id) VALUES ($1, $2)")
                    .bind(device_id)
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Applies a profile update if any value actually changes, bumping `update_time` then.
    /// Returns whether a row changed.
    pub async fn update_account(&self, id: Uuid, update: &AccountUpdate, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let affected = crate::dispatch_write!(self, pool => {
            #[allow(unused_mut)] // needed for the PostgreSQL pool connection only
            let mut conn = sqlx::Acquire::acquire(pool).await?;
            crate::account_update_in_tx!(conn, id, update, now)
        });
        Ok(affected > 0)
    }

    /// Deletes an account; rows that reference it cascade. Friends' `edge_count` drop by the
    /// edges that go with it. Its group memberships end as in Nakama: a group where it was the
    /// only superadmin is deleted, otherwise its edges go and the member count drops. Returns
    /// whether it existed and the groups deleted.
    ///
    /// `revocations` (the marks that stop its tokens) are written in the same transaction, so no
    /// token of a deleted account outlives the deletion, even across a crash.
    pub async fn delete_user(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        revocations: &[crate::session::Revocation],
    ) -> Result<(bool, Vec<Uuid>), StoreError> {
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            // Lock the account and its friends in id order, as friend operations do.
            let mut q = QueryBuilder::new("SELECT id FROM users WHERE id = ");
            q.push_bind(id).push(" OR id IN (SELECT source_id FROM user_edge WHERE destination_id = ").push_bind(id)
                .push(") ORDER BY id").push(for_update);
            let _: Vec<(Uuid,)> = q.build_query_as().fetch_all(&mut *tx).await?;
            sqlx::query("UPDATE users SET edge_count = edge_count - 1, update_time = $2 \
                         WHERE id IN (SELECT source_id FROM user_edge WHERE destination_id = $1)")
                .bind(id).bind(now).execute(&mut *tx).await?;
            // Then its groups, in id order, as group operations lock them.
            let lock_groups = format!(
                "SELECT id FROM groups WHERE id IN (SELECT source_id FROM group_edge WHERE destination_id = $1) ORDER BY id{for_update}");
            let _: Vec<(Uuid,)> = sqlx::query_as(AssertSqlSafe(lock_groups)).bind(id).fetch_all(&mut *tx).await?;
            let memberships: Vec<(Uuid, i16)> =
                sqlx::query_as("SELECT source_id, state FROM group_edge WHERE destination_id = $1 ORDER BY source_id")
                    .bind(id).fetch_all(&mut *tx).await?;
            let mut deleted_groups = Vec::new();
            for (group, state) in memberships {
                if state == crate::group::state::SUPERADMIN && crate::group::other_superadmins!(tx, group, id) == 0 {
                    crate::group::delete_group_in_tx!(tx, group);
                    deleted_groups.push(group);
                    continue;
                }
                sqlx::query("DELETE FROM group_edge WHERE (source_id = $1 AND destination_id = $2) OR (source_id = $2 AND destination_id = $1)")
                    .bind(group).bind(id).execute(&mut *tx).await?;
                if state <= crate::group::state::MEMBER {
                    crate::group::group_count!(tx, group, -1, now);
                }
            }
            let n = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            // Leaderboard records reference owners without a foreign key (as in Nakama).
            sqlx::query("DELETE FROM leaderboard_record WHERE owner_id = $1").bind(id).execute(&mut *tx).await?;
            crate::session_revoke_in_tx!(tx, revocations);
            tx.commit().await?;
            Ok((n > 0, deleted_groups))
        })
    }

    /// Sets `disable_time` on accounts (a ban with `now`, an unban with [`crate::epoch`]); the
    /// nil system user is never touched. Returns the ids that exist.
    pub async fn users_set_disable_time(&self, ids: &[Uuid], time: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(Uuid,)> = crate::dispatch_write!(self, pool => {
            let mut q = QueryBuilder::new("UPDATE users SET disable_time = ");
            q.push_bind(time).push(" WHERE id <> ").push_bind(Uuid::nil()).push(" AND id IN (");
            let mut sep = q.separated(", ");
            for id in ids { sep.push_bind(*id); }
            q.push(") RETURNING id");
            q.build_query_as().fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Sets an identity column on `id` unless another account already holds the value.
    /// Returns false when another account has it. `password` is also set when given (email).
    pub async fn link_column(
        &self,
        id: Uuid,
        column: IdColumn,
        value: &str,
        password: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let col = column.column();
        let password_set = if password.is_some() { ", password = $4" } else { "" };
        let sql = format!(
            "UPDATE users SET {col} = $2, update_time = $3{password_set} WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE {col} = $2 AND id <> $1)"
        );
        let result = crate::dispatch_write!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(id).bind(value).bind(now);
            if let Some(p) = password { q = q.bind(p); }
            q.execute(pool).await.map(|r| r.rows_affected())
        });
        match result {
            Ok(n) => Ok(n > 0),
            // A concurrent link of the same value won the race.
            Err(e) => match StoreError::from(e) {
                StoreError::Unique(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Clears an identity column if it is set (and equals `value` when that is non-empty) and the
    /// account keeps another identifier. Email also clears the password. Returns whether it did.
    pub async fn unlink_column(&self, id: Uuid, column: IdColumn, value: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let col = column.column();
        let password_clear = if column == IdColumn::Email { ", password = NULL" } else { "" };
        let sql = format!(
            "UPDATE users SET {col} = NULL{password_clear}, update_time = $3 WHERE id = $1 \
             AND ($2 = '' OR {col} = $2) AND {}",
            other_identifier_exists(Some(column), None)
        );
        let n = crate::dispatch_write!(self, pool =>
            sqlx::query(AssertSqlSafe(sql.as_str())).bind(id).bind(value).bind(now).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }
}

/// The "keeps another identifier" predicate for removing device `$2`.
pub(crate) fn other_identifier_exists_for_device() -> String {
    other_identifier_exists(None, Some("$2"))
}
