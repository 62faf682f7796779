-- Identity: second factor, PINs, sessions with rotating refresh tokens, terminals,
-- API keys, and the security log.

ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN pin_hash TEXT;

-- Single-use recovery codes, stored as SHA-256 (they carry 80 random bits).
CREATE TABLE recovery_codes (
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE devices (
    id          BLOB NOT NULL PRIMARY KEY,
    store_id    BLOB NOT NULL REFERENCES stores (id),
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

CREATE INDEX devices_store ON devices (store_id);

-- A session is one sign-in; its refresh tokens form a family that is revoked as a whole
-- when a rotated token is presented again.
CREATE TABLE sessions (
    id           BLOB    NOT NULL PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('password', 'pin')),
    device_id    BLOB    REFERENCES devices (id),
    mfa_verified INTEGER NOT NULL CHECK (mfa_verified IN (0, 1)),
    created_at   TEXT    NOT NULL,
    last_used_at TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    revoked_at   TEXT,
    revoked_reason TEXT,
    ip           TEXT,
    user_agent   TEXT
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_device ON sessions (device_id);

-- Looked up by id; the secret is compared by its SHA-256 (it carries 256 random bits).
CREATE TABLE refresh_tokens (
    id          BLOB NOT NULL PRIMARY KEY,
    session_id  BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
) STRICT;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id           BLOB    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL,
    permissions  TEXT    NOT NULL,
    all_stores   INTEGER NOT NULL CHECK (all_stores IN (0, 1)),
    created_by   BLOB    NOT NULL REFERENCES users (id),
    created_at   TEXT    NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;

CREATE TABLE api_key_stores (
    api_key_id BLOB NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    store_id   BLOB NOT NULL REFERENCES stores (id),
    PRIMARY KEY (api_key_id, store_id)
) STRICT, WITHOUT ROWID;

-- Keys the server generates for itself (token signing), shared by every instance.
CREATE TABLE server_secrets (
    name       TEXT NOT NULL PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE security_events (
    id               BLOB NOT NULL PRIMARY KEY,
    at               TEXT NOT NULL,
    kind             TEXT NOT NULL,
    actor_user_id    BLOB,
    actor_api_key_id BLOB,
    store_id         BLOB,
    subject_user_id  BLOB,
    login            TEXT,
    ip               TEXT,
    request_id       TEXT,
    details          TEXT NOT NULL
) STRICT;

CREATE INDEX security_events_subject ON security_events (subject_user_id);
