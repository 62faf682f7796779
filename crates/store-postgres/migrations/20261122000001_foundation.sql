-- Foundation: stores, the first users, and the bootstrap marker.
-- Unique constraints are named explicitly: the backend maps a violated constraint's
-- name to the field the API reports (comanda_store::rows::UNIQUE_KEYS).

CREATE TABLE stores (
    id          UUID        NOT NULL PRIMARY KEY,
    code        TEXT        NOT NULL CONSTRAINT stores_code_key UNIQUE,
    name        TEXT        NOT NULL,
    currency    TEXT        NOT NULL,
    timezone    TEXT        NOT NULL,
    locale      TEXT        NOT NULL,
    version     BIGINT      NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id                   UUID        NOT NULL PRIMARY KEY,
    login                TEXT        NOT NULL CONSTRAINT users_login_key UNIQUE,
    display_name         TEXT        NOT NULL,
    password_hash        TEXT        NOT NULL,
    role                 TEXT        NOT NULL
        CHECK (role IN ('owner', 'admin', 'manager', 'cashier', 'waiter', 'kitchen')),
    all_stores           BOOLEAN     NOT NULL DEFAULT FALSE,
    must_change_password BOOLEAN     NOT NULL DEFAULT FALSE,
    disabled_at          TIMESTAMPTZ,
    version              BIGINT      NOT NULL DEFAULT 1,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_stores (
    user_id  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    store_id UUID NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, store_id)
);

CREATE INDEX user_stores_store ON user_stores (store_id);

-- One row, ever: proves first-run setup happened, even if its store is later renamed.
CREATE TABLE bootstrap (
    id           SMALLINT    NOT NULL PRIMARY KEY CHECK (id = 1),
    store_id     UUID        NOT NULL,
    owner_id     UUID        NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL
);
