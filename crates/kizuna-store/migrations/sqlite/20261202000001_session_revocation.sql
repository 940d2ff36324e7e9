-- Session revocations that outlive a restart (Kizuna only; see the PostgreSQL migration).
CREATE TABLE IF NOT EXISTS kizuna_session_revocation (
    user_id     BLOB    NOT NULL,
    kind        INTEGER NOT NULL,
    token_id    TEXT    NOT NULL DEFAULT '' CHECK (length(token_id) <= 64),
    create_time TEXT    NOT NULL,
    expire_time TEXT    NOT NULL,

    CONSTRAINT kizuna_session_revocation_pkey PRIMARY KEY (user_id, kind, token_id)
);

CREATE INDEX IF NOT EXISTS kizuna_session_revocation_expire_time_idx ON kizuna_session_revocation (expire_time);
