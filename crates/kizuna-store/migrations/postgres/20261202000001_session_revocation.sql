-- Session revocations that outlive a restart (Kizuna only; Nakama keeps them in memory).
-- kind: 0 a session token id, 1 a refresh token id, 2 every token of the user issued before
-- create_time, 3 the account was deleted (its tokens answer "Account not found.").
-- A row is kept until expire_time, when every token it can concern has expired.
CREATE TABLE IF NOT EXISTS kizuna_session_revocation (
    user_id     UUID        NOT NULL,
    kind        SMALLINT    NOT NULL,
    token_id    VARCHAR(64) NOT NULL DEFAULT '',
    create_time TIMESTAMPTZ NOT NULL,
    expire_time TIMESTAMPTZ NOT NULL,

    CONSTRAINT kizuna_session_revocation_pkey PRIMARY KEY (user_id, kind, token_id)
);

CREATE INDEX IF NOT EXISTS kizuna_session_revocation_expire_time_idx ON kizuna_session_revocation (expire_time);
