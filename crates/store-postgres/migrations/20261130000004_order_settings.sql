-- What needs a manager in a store; absent until first changed (defaults apply).
CREATE TABLE order_settings (
    store_id                UUID    NOT NULL PRIMARY KEY REFERENCES stores (id),
    discount_approval_above INTEGER NOT NULL,
    void_needs_approval     BOOLEAN NOT NULL,
    version                 BIGINT  NOT NULL
);
