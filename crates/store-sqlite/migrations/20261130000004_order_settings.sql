-- What needs a manager in a store; absent until first changed (defaults apply).
CREATE TABLE order_settings (
    store_id                BLOB    NOT NULL PRIMARY KEY REFERENCES stores (id),
    discount_approval_above INTEGER NOT NULL,
    void_needs_approval     INTEGER NOT NULL CHECK (void_needs_approval IN (0, 1)),
    version                 INTEGER NOT NULL
) STRICT;
