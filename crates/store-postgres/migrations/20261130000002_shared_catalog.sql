-- Stores that sell from another store's catalog (one level: a chain's main store and
-- its branches), and what each branch changes about a shared product.
CREATE TABLE catalog_follows (
    store_id  UUID        NOT NULL PRIMARY KEY REFERENCES stores (id),
    source_id UUID        NOT NULL REFERENCES stores (id),
    since     TIMESTAMPTZ NOT NULL,
    CHECK (store_id <> source_id)
);

CREATE INDEX catalog_follows_source ON catalog_follows (source_id);

-- `prices`: a JSON object from variant id to price in minor units of the store's currency.
CREATE TABLE product_overrides (
    store_id   UUID        NOT NULL REFERENCES stores (id),
    product_id UUID        NOT NULL REFERENCES products (id),
    available  BOOLEAN,
    prices     TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
