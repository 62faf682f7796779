-- Stores that sell from another store's catalog (one level: a chain's main store and
-- its branches), and what each branch changes about a shared product.
CREATE TABLE catalog_follows (
    store_id  BLOB NOT NULL PRIMARY KEY REFERENCES stores (id),
    source_id BLOB NOT NULL REFERENCES stores (id),
    since     TEXT NOT NULL,
    CHECK (store_id <> source_id)
) STRICT;

CREATE INDEX catalog_follows_source ON catalog_follows (source_id);

-- `prices`: a JSON object from variant id to price in minor units of the store's currency.
CREATE TABLE product_overrides (
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    product_id BLOB    NOT NULL REFERENCES products (id),
    available  INTEGER CHECK (available IN (0, 1)),
    prices     TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (store_id, product_id)
) STRICT, WITHOUT ROWID;
