-- Foundation: stores, the first users, and the bootstrap marker.
-- Conventions for SQLite: STRICT tables; UUIDs as 16-byte BLOBs; timestamps as
-- RFC 3339 UTC text (always "+00:00", so text order is time order); booleans 0/1.

CREATE TABLE stores (
    id          BLOB    NOT NULL PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    locale      TEXT    NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE TABLE users (
    id                   BLOB    NOT NULL PRIMARY KEY,
    login                TEXT    NOT NULL UNIQUE,
    display_name         TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    role                 TEXT    NOT NULL
        CHECK (role IN ('owner', 'admin', 'manager', 'cashier', 'waiter', 'kitchen')),
    all_stores           INTEGER NOT NULL DEFAULT 0 CHECK (all_stores IN (0, 1)),
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    disabled_at          TEXT,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
) STRICT;

CREATE TABLE user_stores (
    user_id  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    store_id BLOB NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, store_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX user_stores_store ON user_stores (store_id);

-- One row, ever: proves first-run setup happened, even if its store is later renamed.
CREATE TABLE bootstrap (
    id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    store_id     BLOB    NOT NULL,
    owner_id     BLOB    NOT NULL,
    completed_at TEXT    NOT NULL
) STRICT;
