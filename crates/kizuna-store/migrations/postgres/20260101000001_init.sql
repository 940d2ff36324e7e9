-- Kizuna initial schema for PostgreSQL (15+).
--
-- Goal: a database created by this file has the same tables, columns, types,
-- defaults, constraint names and indexes as one created by Nakama's own
-- migrations, so either server can run against it. Column order follows the
-- order Nakama ends up with after all of its migrations (columns added by later
-- migrations come last), which keeps `SELECT *` results identical.
--
-- Constraint names are spelled out explicitly and match what PostgreSQL
-- generated for Nakama; Nakama (and Kizuna) recognise some errors by name,
-- e.g. users_pkey, users_username_key, user_device_pkey, leaderboard_record_pkey.
--
-- "Unset" timestamps are stored as the Unix epoch, never NULL.
-- The nil UUID 00000000-0000-0000-0000-000000000000 is the system user.
--
-- sqlx runs this file inside one transaction, so indexes are created without
-- CONCURRENTLY (all tables are empty at this point anyway).

------------------------------------------------------------------------------
-- Accounts
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS users (
    id                       UUID         NOT NULL,
    username                 VARCHAR(128) NOT NULL,
    display_name             VARCHAR(255),
    avatar_url               VARCHAR(512),
    lang_tag                 VARCHAR(18)  NOT NULL DEFAULT 'en',  -- BCP 47 tag
    location                 VARCHAR(255),
    timezone                 VARCHAR(255),
    metadata                 JSONB        NOT NULL DEFAULT '{}',
    wallet                   JSONB        NOT NULL DEFAULT '{}',
    email                    VARCHAR(255),
    password                 BYTEA,                               -- bcrypt hash
    facebook_id              VARCHAR(128),
    google_id                VARCHAR(128),
    gamecenter_id            VARCHAR(128),
    steam_id                 VARCHAR(128),
    custom_id                VARCHAR(128),
    edge_count               INTEGER      NOT NULL DEFAULT 0,     -- friend count
    create_time              TIMESTAMPTZ  NOT NULL DEFAULT now(),
    update_time              TIMESTAMPTZ  NOT NULL DEFAULT now(),
    verify_time              TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    disable_time             TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    facebook_instant_game_id VARCHAR(128),
    apple_id                 VARCHAR(128),

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

-- The system user: owns "system" storage objects, is the default owner of
-- purchases/subscriptions whose user was deleted, and must always exist.
INSERT INTO users (id, username)
VALUES ('00000000-0000-0000-0000-000000000000', '')
ON CONFLICT (id) DO NOTHING;

-- Trigram search on display names (used by console user search). pg_trgm is
-- optional for Kizuna: if the extension cannot be installed (not shipped with
-- the server, or no privilege), log a notice and carry on without the index.
DO $kizuna_trgm$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'kizuna: pg_trgm not available (%); skipping users_display_name_idx', SQLERRM;
    END;

    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
            CREATE INDEX IF NOT EXISTS users_display_name_idx
                ON users USING gin (display_name gin_trgm_ops);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'kizuna: could not create users_display_name_idx (%)', SQLERRM;
        END;
    END IF;
END
$kizuna_trgm$;

CREATE TABLE IF NOT EXISTS user_device (
    id                 VARCHAR(128) NOT NULL,  -- device id supplied by the client
    user_id            UUID         NOT NULL,
    preferences        JSONB        NOT NULL DEFAULT '{}',
    push_token_amazon  VARCHAR(512) NOT NULL DEFAULT '',
    push_token_android VARCHAR(512) NOT NULL DEFAULT '',
    push_token_huawei  VARCHAR(512) NOT NULL DEFAULT '',
    push_token_ios     VARCHAR(512) NOT NULL DEFAULT '',
    push_token_web     VARCHAR(512) NOT NULL DEFAULT '',

    CONSTRAINT user_device_pkey           PRIMARY KEY (id),
    CONSTRAINT user_device_user_id_id_key UNIQUE (user_id, id),
    CONSTRAINT user_device_user_id_fkey   FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- Written only when an account is deleted with the "record deletion" option.
CREATE TABLE IF NOT EXISTS user_tombstone (
    user_id     UUID        NOT NULL,
    create_time TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT user_tombstone_pkey        PRIMARY KEY (create_time, user_id),
    CONSTRAINT user_tombstone_user_id_key UNIQUE (user_id)
);

-- Append-only history of wallet changes.
CREATE TABLE IF NOT EXISTS wallet_ledger (
    id          UUID        NOT NULL,
    user_id     UUID        NOT NULL,
    changeset   JSONB       NOT NULL,
    metadata    JSONB       NOT NULL,
    create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    update_time TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT wallet_ledger_pkey         PRIMARY KEY (user_id, create_time, id),
    CONSTRAINT wallet_ledger_id_key       UNIQUE (id),
    CONSTRAINT wallet_ledger_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

------------------------------------------------------------------------------
-- Friends
------------------------------------------------------------------------------

-- One row per direction. state: 0 friend, 1 invite sent, 2 invite received,
-- 3 blocked. position orders a user's edges within one state.
CREATE TABLE IF NOT EXISTS user_edge (
    source_id      UUID        NOT NULL,
    position       BIGINT      NOT NULL,
    update_time    TIMESTAMPTZ NOT NULL DEFAULT now(),
    destination_id UUID        NOT NULL,
    state          SMALLINT    NOT NULL DEFAULT 0,
    metadata       JSONB       NOT NULL DEFAULT '{}',

    CONSTRAINT user_edge_pkey                         PRIMARY KEY (source_id, state, position),
    CONSTRAINT user_edge_source_id_destination_id_key UNIQUE (source_id, destination_id),
    CONSTRAINT user_edge_source_id_check
        CHECK (source_id <> '00000000-0000-0000-0000-000000000000'),
    CONSTRAINT user_edge_destination_id_check
        CHECK (destination_id <> '00000000-0000-0000-0000-000000000000'),
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

-- code: negative values are reserved for the server itself.
CREATE TABLE IF NOT EXISTS notification (
    id          UUID         NOT NULL,
    user_id     UUID         NOT NULL,
    subject     VARCHAR(255) NOT NULL,
    content     JSONB        NOT NULL DEFAULT '{}',
    code        SMALLINT     NOT NULL,
    sender_id   UUID         NOT NULL,  -- no foreign key: may be the nil UUID
    create_time TIMESTAMPTZ  NOT NULL DEFAULT now(),

    CONSTRAINT notification_pkey         PRIMARY KEY (user_id, create_time, id),
    CONSTRAINT notification_id_key       UNIQUE (id),
    CONSTRAINT notification_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

------------------------------------------------------------------------------
-- Storage engine
------------------------------------------------------------------------------

-- read: 0 no read, 1 owner read, 2 public read. write: 0 no write, 1 owner write.
CREATE TABLE IF NOT EXISTS storage (
    collection  VARCHAR(128) NOT NULL,
    key         VARCHAR(128) NOT NULL,
    user_id     UUID         NOT NULL,
    value       JSONB        NOT NULL DEFAULT '{}',
    version     VARCHAR(32)  NOT NULL,  -- hash of the stored value
    read        SMALLINT     NOT NULL DEFAULT 1,
    write       SMALLINT     NOT NULL DEFAULT 1,
    create_time TIMESTAMPTZ  NOT NULL DEFAULT now(),
    update_time TIMESTAMPTZ  NOT NULL DEFAULT now(),

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

-- Persisted channel messages. The stream_* columns identify the channel;
-- unused UUID parts hold the nil UUID. code: 0 chat, 1 update, 2 remove,
-- 3..7 group events (join, add, leave, kick, promote).
CREATE TABLE IF NOT EXISTS message (
    id                UUID         NOT NULL,
    code              SMALLINT     NOT NULL DEFAULT 0,
    sender_id         UUID         NOT NULL,
    username          VARCHAR(128) NOT NULL,
    stream_mode       SMALLINT     NOT NULL,
    stream_subject    UUID         NOT NULL,
    stream_descriptor UUID         NOT NULL,
    stream_label      VARCHAR(128) NOT NULL,
    content           JSONB        NOT NULL DEFAULT '{}',
    create_time       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    update_time       TIMESTAMPTZ  NOT NULL DEFAULT now(),

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

-- A tournament is a leaderboard row with duration > 0.
-- sort_order: 0 ascending, 1 descending.
-- operator: 0 best, 1 set, 2 increment, 3 decrement.
CREATE TABLE IF NOT EXISTS leaderboard (
    id             VARCHAR(128) NOT NULL,
    authoritative  BOOLEAN      NOT NULL DEFAULT FALSE,
    sort_order     SMALLINT     NOT NULL DEFAULT 1,
    operator       SMALLINT     NOT NULL DEFAULT 0,
    reset_schedule VARCHAR(64),             -- cron expression, NULL = never
    metadata       JSONB        NOT NULL DEFAULT '{}',
    create_time    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    category       SMALLINT     NOT NULL DEFAULT 0,
    description    VARCHAR(255) NOT NULL DEFAULT '',
    duration       INTEGER      NOT NULL DEFAULT 0,  -- seconds; 0 = plain leaderboard
    end_time       TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',  -- epoch = no end
    join_required  BOOLEAN      NOT NULL DEFAULT FALSE,
    max_size       INTEGER      NOT NULL DEFAULT 100000000,
    max_num_score  INTEGER      NOT NULL DEFAULT 1000000,
    title          VARCHAR(255) NOT NULL DEFAULT '',
    size           INTEGER      NOT NULL DEFAULT 0,
    start_time     TIMESTAMPTZ  NOT NULL DEFAULT now(),
    enable_ranks   BOOLEAN               DEFAULT TRUE,  -- nullable, as in Nakama

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

-- owner_id has no foreign key: records may belong to groups or arbitrary ids.
CREATE TABLE IF NOT EXISTS leaderboard_record (
    leaderboard_id VARCHAR(128) NOT NULL,
    owner_id       UUID         NOT NULL,
    username       VARCHAR(128),
    score          BIGINT       NOT NULL DEFAULT 0,
    subscore       BIGINT       NOT NULL DEFAULT 0,
    num_score      INTEGER      NOT NULL DEFAULT 1,
    metadata       JSONB        NOT NULL DEFAULT '{}',
    create_time    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    update_time    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    expiry_time    TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',  -- epoch = never expires
    max_num_score  INTEGER      NOT NULL DEFAULT 1000000,

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

-- state: 0 open, 1 closed. edge_count is the member count; note that its
-- default (0) does not satisfy groups_check, so inserts must set it (>= 1).
CREATE TABLE IF NOT EXISTS groups (
    id           UUID         NOT NULL,
    creator_id   UUID         NOT NULL,
    name         VARCHAR(255) NOT NULL,
    description  VARCHAR(255),
    avatar_url   VARCHAR(512),
    lang_tag     VARCHAR(18)  NOT NULL DEFAULT 'en',
    metadata     JSONB        NOT NULL DEFAULT '{}',
    state        SMALLINT     NOT NULL DEFAULT 0,
    edge_count   INTEGER      NOT NULL DEFAULT 0,
    max_count    INTEGER      NOT NULL DEFAULT 100,
    create_time  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    update_time  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    disable_time TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',

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

-- Membership edges, stored in both directions (group -> user and user -> group).
-- state: 0 superadmin, 1 admin, 2 member, 3 join request, 4 banned.
-- No foreign keys: source/destination may be a group or a user.
CREATE TABLE IF NOT EXISTS group_edge (
    source_id      UUID        NOT NULL,
    position       BIGINT      NOT NULL,
    update_time    TIMESTAMPTZ NOT NULL DEFAULT now(),
    destination_id UUID        NOT NULL,
    state          SMALLINT    NOT NULL DEFAULT 0,

    CONSTRAINT group_edge_pkey                         PRIMARY KEY (source_id, state, position),
    CONSTRAINT group_edge_source_id_destination_id_key UNIQUE (source_id, destination_id),
    CONSTRAINT group_edge_source_id_check
        CHECK (source_id <> '00000000-0000-0000-0000-000000000000'),
    CONSTRAINT group_edge_destination_id_check
        CHECK (destination_id <> '00000000-0000-0000-0000-000000000000')
);

------------------------------------------------------------------------------
-- In-app purchases
------------------------------------------------------------------------------

-- store: StoreProvider enum value (0 Apple App Store, 1 Google Play, 2 Huawei, ...).
-- environment: 0 unknown, 1 sandbox, 2 production.
-- When the owning user is deleted, user_id falls back to the nil (system) user.
CREATE TABLE IF NOT EXISTS purchase (
    create_time    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    environment    SMALLINT     NOT NULL DEFAULT 0,
    product_id     VARCHAR(512) NOT NULL,
    purchase_time  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    raw_response   JSONB        NOT NULL DEFAULT '{}',
    store          SMALLINT     NOT NULL DEFAULT 0,
    transaction_id VARCHAR(512) NOT NULL,
    update_time    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    user_id        UUID         NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    refund_time    TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',

    CONSTRAINT purchase_pkey                 PRIMARY KEY (transaction_id),
    CONSTRAINT purchase_transaction_id_check CHECK (length(transaction_id) > 0),
    CONSTRAINT purchase_user_id_fkey         FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET DEFAULT
);

CREATE INDEX IF NOT EXISTS purchase_time_user_id_transaction_id_idx
    ON purchase (purchase_time DESC, user_id DESC, transaction_id DESC);

CREATE TABLE IF NOT EXISTS subscription (
    original_transaction_id VARCHAR(512) NOT NULL,
    create_time             TIMESTAMPTZ  NOT NULL DEFAULT now(),
    update_time             TIMESTAMPTZ  NOT NULL DEFAULT now(),
    environment             SMALLINT     NOT NULL DEFAULT 0,
    product_id              VARCHAR(512) NOT NULL,
    purchase_time           TIMESTAMPTZ  NOT NULL DEFAULT now(),
    store                   SMALLINT     NOT NULL DEFAULT 0,
    user_id                 UUID         NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    expire_time             TIMESTAMPTZ  NOT NULL,
    raw_response            JSONB        NOT NULL DEFAULT '{}',
    raw_notification        JSONB        NOT NULL DEFAULT '{}',
    refund_time             TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',

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

-- Console accounts. acl replaced an older "role" column in Nakama.
CREATE TABLE IF NOT EXISTS console_user (
    create_time        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    disable_time       TIMESTAMPTZ  NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    email              VARCHAR(255) NOT NULL,
    id                 UUID         NOT NULL,
    metadata           JSONB        NOT NULL DEFAULT '{}',
    password           BYTEA,
    update_time        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    username           VARCHAR(128) NOT NULL,
    mfa_secret         BYTEA                 DEFAULT NULL,
    mfa_recovery_codes BYTEA                 DEFAULT NULL,
    mfa_required       BOOLEAN               DEFAULT FALSE,  -- nullable, as in Nakama
    acl                JSONB        NOT NULL DEFAULT '{"admin":false}',

    CONSTRAINT console_user_pkey           PRIMARY KEY (id),
    CONSTRAINT console_user_email_uniq     UNIQUE (email),
    CONSTRAINT console_user_username_uniq  UNIQUE (username),
    CONSTRAINT console_user_password_check CHECK (length(password) < 32000)
);

-- Console key/value settings. In Nakama the primary key itself carries the
-- name setting_name_uniq.
CREATE TABLE IF NOT EXISTS setting (
    name        VARCHAR(64) NOT NULL,
    value       JSONB       NOT NULL DEFAULT '{}',
    update_time TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT setting_name_uniq  PRIMARY KEY (name),
    CONSTRAINT setting_name_check CHECK (length(name) > 0)
);

INSERT INTO setting (name, value)
VALUES ('utc_toggle', 'false')
ON CONFLICT (name) DO NOTHING;

-- Free-text notes about a player, written by console users
-- (create_id / update_id: the console user who wrote / last edited the note).
CREATE TABLE IF NOT EXISTS users_notes (
    id          UUID        NOT NULL,
    user_id     UUID        NOT NULL,
    create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    update_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    note        TEXT        NOT NULL,
    create_id   UUID                 DEFAULT NULL,
    update_id   UUID                 DEFAULT NULL,

    CONSTRAINT users_notes_pkey         PRIMARY KEY (user_id, create_time, id),
    CONSTRAINT users_notes_id_key       UNIQUE (id),
    CONSTRAINT users_notes_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS console_audit_log (
    create_time      TIMESTAMPTZ NOT NULL DEFAULT now(),
    id               UUID        NOT NULL,
    console_user_id  UUID        NOT NULL,
    console_username TEXT        NOT NULL,
    email            TEXT        NOT NULL,
    action           TEXT        NOT NULL,
    resource         TEXT        NOT NULL,
    message          TEXT        NOT NULL,
    metadata         JSONB       NOT NULL DEFAULT '{}',

    CONSTRAINT console_audit_log_pkey
        PRIMARY KEY (create_time, console_username, action, resource, id),
    CONSTRAINT console_audit_log_id_key UNIQUE (id)
);

CREATE TABLE IF NOT EXISTS console_acl_template (
    id          UUID        NOT NULL,
    name        VARCHAR(64) NOT NULL,
    description VARCHAR(64) NOT NULL DEFAULT '',
    acl         JSONB       NOT NULL DEFAULT '{}',
    create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
    update_time TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT console_acl_template_pkey       PRIMARY KEY (id),
    CONSTRAINT template_name_uniq              UNIQUE (name),
    CONSTRAINT console_acl_template_name_check CHECK (length(name) > 0)
);
