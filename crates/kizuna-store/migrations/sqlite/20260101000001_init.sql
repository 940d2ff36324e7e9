-- Kizuna initial schema for the embedded SQLite store.
--
-- Same tables, column names, column order, keys, constraints and indexes as
-- migrations/postgres/20260101000001_init.sql (which mirrors Nakama's schema),
-- with PostgreSQL types mapped to what sqlx writes for SQLite:
--
--   UUID         -> BLOB     16 raw bytes; nil UUID = X'00000000000000000000000000000000'
--   TIMESTAMPTZ  -> TEXT     RFC 3339 in UTC, e.g. '1970-01-01T00:00:00+00:00'
--                            (fractional seconds appear only when non-zero; text
--                            order equals time order as long as every value uses
--                            this UTC form)
--   JSONB        -> TEXT     CHECK (json_valid(...)) on every NOT NULL column
--   BYTEA        -> BLOB
--   BOOLEAN      -> INTEGER  0 / 1
--   SMALLINT, INTEGER, BIGINT -> INTEGER
--   VARCHAR(n)   -> TEXT     CHECK (length(col) <= n), so over-long values are
--                            rejected just like on PostgreSQL
--   TEXT         -> TEXT
--
-- "Epoch" defaults are the literal '1970-01-01T00:00:00+00:00'; "now" defaults
-- use strftime in the same format (the application normally binds times itself).
--
-- Foreign keys are only enforced with PRAGMA foreign_keys = ON, which Kizuna
-- sets on every connection. Tables are not STRICT on purpose.
--
-- Not reproducible in SQLite: the pg_trgm extension and the GIN trigram index
-- users_display_name_idx on users.display_name (see the note after users).

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS users (
    id                       BLOB    NOT NULL,
    username                 TEXT    NOT NULL CHECK (length(username) <= 128),
    display_name             TEXT             CHECK (length(display_name) <= 255),
    avatar_url               TEXT             CHECK (length(avatar_url) <= 512),
    lang_tag                 TEXT    NOT NULL DEFAULT 'en' CHECK (length(lang_tag) <= 18),
    location                 TEXT             CHECK (length(location) <= 255),
    timezone                 TEXT             CHECK (length(timezone) <= 255),
    metadata                 TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    wallet                   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(wallet)),
    email                    TEXT             CHECK (length(email) <= 255),
    password                 BLOB,
    facebook_id              TEXT             CHECK (length(facebook_id) <= 128),
    google_id                TEXT             CHECK (length(google_id) <= 128),
    gamecenter_id            TEXT             CHECK (length(gamecenter_id) <= 128),
    steam_id                 TEXT             CHECK (length(steam_id) <= 128),
    custom_id                TEXT             CHECK (length(custom_id) <= 128),
    edge_count               INTEGER NOT NULL DEFAULT 0,
    create_time              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    verify_time              TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',
    disable_time             TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',
    facebook_instant_game_id TEXT             CHECK (length(facebook_instant_game_id) <= 128),
    apple_id                 TEXT             CHECK (length(apple_id) <= 128),

    CONSTRAINT users_pkey                         PRIMARY KEY (id),
    CONSTRAINT users_username_key                 UNIQUE (username),
    CONSTRAINT users_email_key                    UNIQUE (email),
    CONSTRAINT users_facebook_id_key              UNIQUE (facebook_id),
    CONSTRAINT users_google_id_key                UNIQUE (google_id),
    CONSTRAINT users_gamecenter_id_key            UNIQUE (gamecenter_id),
    CONSTRAINT users_steam_id_key                 UNIQUE (steam_id),
    CONSTRAINT users_custom_id_key                UNIQUE (custom_id),
    CONSTRAINT users_facebook_instant_game_id_key UNIQUE (facebook_instant_game_id),
    CONSTRAINT users_apple_id_key                 UNIQUE (apple_id),
    CONSTRAINT users_password_check               CHECK (length(password) < 32000),
    CONSTRAINT users_edge_count_check             CHECK (edge_count >= 0)
);

-- The system (nil UUID) user must always exist.
INSERT INTO users (id, username)
VALUES (X'00000000000000000000000000000000', '')
ON CONFLICT (id) DO NOTHING;

-- NOTE: PostgreSQL also has a GIN trigram index (pg_trgm) on
-- users.display_name for console search. SQLite has neither GIN nor trigram
-- operator classes, so it is left out; display-name search scans the table.

CREATE TABLE IF NOT EXISTS user_device (
    id                 TEXT NOT NULL CHECK (length(id) <= 128),
    user_id            BLOB NOT NULL,
    preferences        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(preferences)),
    push_token_amazon  TEXT NOT NULL DEFAULT '' CHECK (length(push_token_amazon) <= 512),
    push_token_android TEXT NOT NULL DEFAULT '' CHECK (length(push_token_android) <= 512),
    push_token_huawei  TEXT NOT NULL DEFAULT '' CHECK (length(push_token_huawei) <= 512),
    push_token_ios     TEXT NOT NULL DEFAULT '' CHECK (length(push_token_ios) <= 512),
    push_token_web     TEXT NOT NULL DEFAULT '' CHECK (length(push_token_web) <= 512),

    CONSTRAINT user_device_pkey           PRIMARY KEY (id),
    CONSTRAINT user_device_user_id_id_key UNIQUE (user_id, id),
    CONSTRAINT user_device_user_id_fkey   FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS user_tombstone (
    user_id     BLOB NOT NULL,
    create_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT user_tombstone_pkey        PRIMARY KEY (create_time, user_id),
    CONSTRAINT user_tombstone_user_id_key UNIQUE (user_id)
);

CREATE TABLE IF NOT EXISTS wallet_ledger (
    id          BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    changeset   TEXT NOT NULL CHECK (json_valid(changeset)),
    metadata    TEXT NOT NULL CHECK (json_valid(metadata)),
    create_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT wallet_ledger_pkey         PRIMARY KEY (user_id, create_time, id),
    CONSTRAINT wallet_ledger_id_key       UNIQUE (id),
    CONSTRAINT wallet_ledger_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

------------------------------------------------------------------------------
-- Friends (state: 0 friend, 1 invite sent, 2 invite received, 3 blocked)
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS user_edge (
    source_id      BLOB    NOT NULL,
    position       INTEGER NOT NULL,
    update_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    destination_id BLOB    NOT NULL,
    state          INTEGER NOT NULL DEFAULT 0,
    metadata       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),

    CONSTRAINT user_edge_pkey                         PRIMARY KEY (source_id, state, position),
    CONSTRAINT user_edge_source_id_destination_id_key UNIQUE (source_id, destination_id),
    CONSTRAINT user_edge_source_id_check
        CHECK (source_id <> X'00000000000000000000000000000000'),
    CONSTRAINT user_edge_destination_id_check
        CHECK (destination_id <> X'00000000000000000000000000000000'),
    CONSTRAINT user_edge_source_id_fkey FOREIGN KEY (source_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_edge_destination_id_fkey FOREIGN KEY (destination_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS user_edge_auto_index_fk_destination_id_ref_users
    ON user_edge (destination_id);

------------------------------------------------------------------------------
-- Notifications
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS notification (
    id          BLOB    NOT NULL,
    user_id     BLOB    NOT NULL,
    subject     TEXT    NOT NULL CHECK (length(subject) <= 255),
    content     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(content)),
    code        INTEGER NOT NULL,
    sender_id   BLOB    NOT NULL,
    create_time TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT notification_pkey         PRIMARY KEY (user_id, create_time, id),
    CONSTRAINT notification_id_key       UNIQUE (id),
    CONSTRAINT notification_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

------------------------------------------------------------------------------
-- Storage engine
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS storage (
    collection  TEXT    NOT NULL CHECK (length(collection) <= 128),
    key         TEXT    NOT NULL CHECK (length(key) <= 128),
    user_id     BLOB    NOT NULL,
    value       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(value)),
    version     TEXT    NOT NULL CHECK (length(version) <= 32),
    read        INTEGER NOT NULL DEFAULT 1,
    write       INTEGER NOT NULL DEFAULT 1,
    create_time TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT storage_pkey         PRIMARY KEY (collection, key, user_id),
    CONSTRAINT storage_read_check   CHECK (read >= 0),
    CONSTRAINT storage_write_check  CHECK (write >= 0),
    CONSTRAINT storage_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS collection_read_user_id_key_idx
    ON storage (collection, read, user_id, key);
CREATE INDEX IF NOT EXISTS collection_read_key_user_id_idx
    ON storage (collection, read, key, user_id);
CREATE INDEX IF NOT EXISTS collection_user_id_read_key_idx
    ON storage (collection, user_id, read, key);
CREATE INDEX IF NOT EXISTS storage_auto_index_fk_user_id_ref_users
    ON storage (user_id);

------------------------------------------------------------------------------
-- Chat
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS message (
    id                BLOB    NOT NULL,
    code              INTEGER NOT NULL DEFAULT 0,
    sender_id         BLOB    NOT NULL,
    username          TEXT    NOT NULL CHECK (length(username) <= 128),
    stream_mode       INTEGER NOT NULL,
    stream_subject    BLOB    NOT NULL,
    stream_descriptor BLOB    NOT NULL,
    stream_label      TEXT    NOT NULL CHECK (length(stream_label) <= 128),
    content           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(content)),
    create_time       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT message_pkey
        PRIMARY KEY (stream_mode, stream_subject, stream_descriptor, stream_label, create_time, id),
    CONSTRAINT message_id_key           UNIQUE (id),
    CONSTRAINT message_sender_id_id_key UNIQUE (sender_id, id),
    CONSTRAINT message_sender_id_fkey   FOREIGN KEY (sender_id)
        REFERENCES users (id) ON DELETE CASCADE
);

------------------------------------------------------------------------------
-- Leaderboards and tournaments
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS leaderboard (
    id             TEXT    NOT NULL CHECK (length(id) <= 128),
    authoritative  INTEGER NOT NULL DEFAULT 0,
    sort_order     INTEGER NOT NULL DEFAULT 1,
    operator       INTEGER NOT NULL DEFAULT 0,
    reset_schedule TEXT             CHECK (length(reset_schedule) <= 64),
    metadata       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    create_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    category       INTEGER NOT NULL DEFAULT 0,
    description    TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 255),
    duration       INTEGER NOT NULL DEFAULT 0,
    end_time       TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',
    join_required  INTEGER NOT NULL DEFAULT 0,
    max_size       INTEGER NOT NULL DEFAULT 100000000,
    max_num_score  INTEGER NOT NULL DEFAULT 1000000,
    title          TEXT    NOT NULL DEFAULT '' CHECK (length(title) <= 255),
    size           INTEGER NOT NULL DEFAULT 0,
    start_time     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    enable_ranks   INTEGER          DEFAULT 1,  -- nullable, as on PostgreSQL

    CONSTRAINT leaderboard_pkey                PRIMARY KEY (id),
    CONSTRAINT leaderboard_category_check      CHECK (category >= 0),
    CONSTRAINT leaderboard_duration_check      CHECK (duration >= 0),
    CONSTRAINT leaderboard_max_size_check      CHECK (max_size > 0),
    CONSTRAINT leaderboard_max_num_score_check CHECK (max_num_score > 0)
);

CREATE INDEX IF NOT EXISTS duration_start_time_end_time_category_idx
    ON leaderboard (duration, start_time, end_time DESC, category);
CREATE INDEX IF NOT EXISTS leaderboard_create_time_id_idx
    ON leaderboard (create_time, id);

CREATE TABLE IF NOT EXISTS leaderboard_record (
    leaderboard_id TEXT    NOT NULL CHECK (length(leaderboard_id) <= 128),
    owner_id       BLOB    NOT NULL,
    username       TEXT             CHECK (length(username) <= 128),
    score          INTEGER NOT NULL DEFAULT 0,
    subscore       INTEGER NOT NULL DEFAULT 0,
    num_score      INTEGER NOT NULL DEFAULT 1,
    metadata       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    create_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    expiry_time    TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',
    max_num_score  INTEGER NOT NULL DEFAULT 1000000,

    CONSTRAINT leaderboard_record_pkey
        PRIMARY KEY (leaderboard_id, expiry_time, score, subscore, owner_id),
    CONSTRAINT leaderboard_record_owner_id_leaderboard_id_expiry_time_key
        UNIQUE (owner_id, leaderboard_id, expiry_time),
    CONSTRAINT leaderboard_record_score_check         CHECK (score >= 0),
    CONSTRAINT leaderboard_record_subscore_check      CHECK (subscore >= 0),
    CONSTRAINT leaderboard_record_num_score_check     CHECK (num_score >= 0),
    CONSTRAINT leaderboard_record_max_num_score_check CHECK (max_num_score > 0),
    CONSTRAINT leaderboard_record_leaderboard_id_fkey FOREIGN KEY (leaderboard_id)
        REFERENCES leaderboard (id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS owner_id_expiry_time_leaderboard_id_idx
    ON leaderboard_record (owner_id, expiry_time, leaderboard_id);

------------------------------------------------------------------------------
-- Groups
------------------------------------------------------------------------------

-- As on PostgreSQL, edge_count's default (0) fails groups_check: inserts must
-- set edge_count >= 1.
CREATE TABLE IF NOT EXISTS groups (
    id           BLOB    NOT NULL,
    creator_id   BLOB    NOT NULL,
    name         TEXT    NOT NULL CHECK (length(name) <= 255),
    description  TEXT             CHECK (length(description) <= 255),
    avatar_url   TEXT             CHECK (length(avatar_url) <= 512),
    lang_tag     TEXT    NOT NULL DEFAULT 'en' CHECK (length(lang_tag) <= 18),
    metadata     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    state        INTEGER NOT NULL DEFAULT 0,
    edge_count   INTEGER NOT NULL DEFAULT 0,
    max_count    INTEGER NOT NULL DEFAULT 100,
    create_time  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    disable_time TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',

    CONSTRAINT groups_pkey            PRIMARY KEY (disable_time, lang_tag, edge_count, id),
    CONSTRAINT groups_id_key          UNIQUE (id),
    CONSTRAINT groups_name_key        UNIQUE (name),
    CONSTRAINT groups_state_check     CHECK (state >= 0),
    CONSTRAINT groups_check           CHECK (edge_count >= 1 AND edge_count <= max_count),
    CONSTRAINT groups_max_count_check CHECK (max_count >= 1)
);

CREATE INDEX IF NOT EXISTS edge_count_update_time_id_idx
    ON groups (disable_time, edge_count, update_time, id);
CREATE INDEX IF NOT EXISTS update_time_edge_count_id_idx
    ON groups (disable_time, update_time, edge_count, id);

-- state: 0 superadmin, 1 admin, 2 member, 3 join request, 4 banned. No FKs.
CREATE TABLE IF NOT EXISTS group_edge (
    source_id      BLOB    NOT NULL,
    position       INTEGER NOT NULL,
    update_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    destination_id BLOB    NOT NULL,
    state          INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT group_edge_pkey                         PRIMARY KEY (source_id, state, position),
    CONSTRAINT group_edge_source_id_destination_id_key UNIQUE (source_id, destination_id),
    CONSTRAINT group_edge_source_id_check
        CHECK (source_id <> X'00000000000000000000000000000000'),
    CONSTRAINT group_edge_destination_id_check
        CHECK (destination_id <> X'00000000000000000000000000000000')
);

------------------------------------------------------------------------------
-- In-app purchases (user_id falls back to the nil user when the owner is deleted)
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS purchase (
    create_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    environment    INTEGER NOT NULL DEFAULT 0,
    product_id     TEXT    NOT NULL CHECK (length(product_id) <= 512),
    purchase_time  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    raw_response   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(raw_response)),
    store          INTEGER NOT NULL DEFAULT 0,
    transaction_id TEXT    NOT NULL CHECK (length(transaction_id) <= 512),
    update_time    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    user_id        BLOB    NOT NULL DEFAULT X'00000000000000000000000000000000',
    refund_time    TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',

    CONSTRAINT purchase_pkey                 PRIMARY KEY (transaction_id),
    CONSTRAINT purchase_transaction_id_check CHECK (length(transaction_id) > 0),
    CONSTRAINT purchase_user_id_fkey         FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET DEFAULT
);

CREATE INDEX IF NOT EXISTS purchase_time_user_id_transaction_id_idx
    ON purchase (purchase_time DESC, user_id DESC, transaction_id DESC);

CREATE TABLE IF NOT EXISTS subscription (
    original_transaction_id TEXT    NOT NULL CHECK (length(original_transaction_id) <= 512),
    create_time             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    environment             INTEGER NOT NULL DEFAULT 0,
    product_id              TEXT    NOT NULL CHECK (length(product_id) <= 512),
    purchase_time           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    store                   INTEGER NOT NULL DEFAULT 0,
    user_id                 BLOB    NOT NULL DEFAULT X'00000000000000000000000000000000',
    expire_time             TEXT    NOT NULL,
    raw_response            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(raw_response)),
    raw_notification        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(raw_notification)),
    refund_time             TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',

    CONSTRAINT subscription_pkey PRIMARY KEY (original_transaction_id),
    CONSTRAINT subscription_original_transaction_id_check
        CHECK (length(original_transaction_id) > 0),
    CONSTRAINT subscription_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET DEFAULT
);

CREATE INDEX IF NOT EXISTS subscription_time_user_id_transaction_id_idx
    ON subscription (purchase_time DESC, user_id DESC, original_transaction_id DESC);

------------------------------------------------------------------------------
-- Developer console (not used by Kizuna yet; kept for schema parity)
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS console_user (
    create_time        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    disable_time       TEXT NOT NULL DEFAULT '1970-01-01T00:00:00+00:00',
    email              TEXT NOT NULL CHECK (length(email) <= 255),
    id                 BLOB NOT NULL,
    metadata           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    password           BLOB,
    update_time        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    username           TEXT NOT NULL CHECK (length(username) <= 128),
    mfa_secret         BLOB          DEFAULT NULL,
    mfa_recovery_codes BLOB          DEFAULT NULL,
    mfa_required       INTEGER       DEFAULT 0,  -- nullable, as on PostgreSQL
    acl                TEXT NOT NULL DEFAULT '{"admin":false}' CHECK (json_valid(acl)),

    CONSTRAINT console_user_pkey           PRIMARY KEY (id),
    CONSTRAINT console_user_email_uniq     UNIQUE (email),
    CONSTRAINT console_user_username_uniq  UNIQUE (username),
    CONSTRAINT console_user_password_check CHECK (length(password) < 32000)
);

CREATE TABLE IF NOT EXISTS setting (
    name        TEXT NOT NULL CHECK (length(name) <= 64),
    value       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(value)),
    update_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT setting_name_uniq  PRIMARY KEY (name),
    CONSTRAINT setting_name_check CHECK (length(name) > 0)
);

INSERT INTO setting (name, value)
VALUES ('utc_toggle', 'false')
ON CONFLICT (name) DO NOTHING;

CREATE TABLE IF NOT EXISTS users_notes (
    id          BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    create_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    note        TEXT NOT NULL,
    create_id   BLOB DEFAULT NULL,
    update_id   BLOB DEFAULT NULL,

    CONSTRAINT users_notes_pkey         PRIMARY KEY (user_id, create_time, id),
    CONSTRAINT users_notes_id_key       UNIQUE (id),
    CONSTRAINT users_notes_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS console_audit_log (
    create_time      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    id               BLOB NOT NULL,
    console_user_id  BLOB NOT NULL,
    console_username TEXT NOT NULL,
    email            TEXT NOT NULL,
    action           TEXT NOT NULL,
    resource         TEXT NOT NULL,
    message          TEXT NOT NULL,
    metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),

    CONSTRAINT console_audit_log_pkey
        PRIMARY KEY (create_time, console_username, action, resource, id),
    CONSTRAINT console_audit_log_id_key UNIQUE (id)
);

CREATE TABLE IF NOT EXISTS console_acl_template (
    id          BLOB NOT NULL,
    name        TEXT NOT NULL CHECK (length(name) <= 64),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 64),
    acl         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(acl)),
    create_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    update_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),

    CONSTRAINT console_acl_template_pkey       PRIMARY KEY (id),
    CONSTRAINT template_name_uniq              UNIQUE (name),
    CONSTRAINT console_acl_template_name_check CHECK (length(name) > 0)
);
