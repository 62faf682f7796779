-- Identity: second factor, PINs, sessions with rotating refresh tokens, terminals,
-- API keys, and the security log.

ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN pin_hash TEXT;

-- Single-use recovery codes, stored as SHA-256 (they carry 80 random bits).
CREATE TABLE recovery_codes (
    user_id   UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BYTEA       NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE devices (
    id          UUID        NOT NULL PRIMARY KEY,
    store_id    UUID        NOT NULL REFERENCES stores (id),
    name        TEXT        NOT NULL,
    secret_hash BYTEA       NOT NULL,
    created_by  UUID        NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE INDEX devices_store ON devices (store_id);

-- A session is one sign-in; its refresh tokens form a family that is revoked as a whole
-- when a rotated token is presented again.
CREATE TABLE sessions (
    id             UUID        NOT NULL PRIMARY KEY,
    user_id        UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT        NOT NULL CHECK (kind IN ('password', 'pin')),
    device_id      UUID        REFERENCES devices (id),
    mfa_verified   BOOLEAN     NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT,
    ip             TEXT,
    user_agent     TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_device ON sessions (device_id);

-- Looked up by id; the secret is compared by its SHA-256 (it carries 256 random bits).
CREATE TABLE refresh_tokens (
    id          UUID        NOT NULL PRIMARY KEY,
    session_id  UUID        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    secret_hash BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id           UUID        NOT NULL PRIMARY KEY,
    name         TEXT        NOT NULL,
    secret_hash  BYTEA       NOT NULL,
    permissions  TEXT        NOT NULL,
    all_stores   BOOLEAN     NOT NULL,
    created_by   UUID        NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE api_key_stores (
    api_key_id UUID NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    store_id   UUID NOT NULL REFERENCES stores (id),
    PRIMARY KEY (api_key_id, store_id)
);

-- Keys the server generates for itself (token signing), shared by every instance.
CREATE TABLE server_secrets (
    name       TEXT        NOT NULL PRIMARY KEY,
    value      BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE security_events (
    id               UUID        NOT NULL PRIMARY KEY,
    at               TIMESTAMPTZ NOT NULL,
    kind             TEXT        NOT NULL,
    actor_user_id    UUID,
    actor_api_key_id UUID,
    store_id         UUID,
    subject_user_id  UUID,
    login            TEXT,
    ip               TEXT,
    request_id       TEXT,
    details          TEXT        NOT NULL
);

CREATE INDEX security_events_subject ON security_events (subject_user_id);
