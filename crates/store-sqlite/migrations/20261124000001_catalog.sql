-- Catalog: pricing settings, tax rates, categories, products and their variants,
-- modifier groups, and the stock ledger. Every table is owned by a store.

-- Bumped in the same transaction as every catalog change: the menu's ETag.
CREATE TABLE catalog_revisions (
    store_id BLOB    NOT NULL PRIMARY KEY REFERENCES stores (id),
    revision INTEGER NOT NULL
) STRICT;

-- Absent until first changed: the defaults follow from the store's currency.
CREATE TABLE catalog_settings (
    store_id       BLOB    NOT NULL PRIMARY KEY REFERENCES stores (id),
    pricing        TEXT    NOT NULL CHECK (pricing IN ('tax_exclusive', 'tax_inclusive')),
    rounding_scope TEXT    NOT NULL CHECK (rounding_scope IN ('line', 'order')),
    rounding_mode  TEXT    NOT NULL CHECK (rounding_mode IN ('half_up', 'half_even')),
    cash_increment INTEGER NOT NULL CHECK (cash_increment >= 1),
    version        INTEGER NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;

CREATE TABLE tax_rates (
    id         BLOB    NOT NULL PRIMARY KEY,
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('tax', 'service_charge')),
    rate       INTEGER NOT NULL CHECK (rate BETWEEN 0 AND 1000000),
    compound   INTEGER NOT NULL CHECK (compound IN (0, 1)),
    is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    status     TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    version    INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
) STRICT;

CREATE INDEX tax_rates_store ON tax_rates (store_id);

CREATE TABLE categories (
    id         BLOB    NOT NULL PRIMARY KEY,
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    parent_id  BLOB    REFERENCES categories (id),
    name       TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    station    TEXT,
    image_url  TEXT,
    version    INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
) STRICT;

CREATE INDEX categories_store ON categories (store_id, parent_id);

CREATE TABLE products (
    id             BLOB    NOT NULL PRIMARY KEY,
    store_id       BLOB    NOT NULL REFERENCES stores (id),
    category_id    BLOB    REFERENCES categories (id),
    name           TEXT    NOT NULL,
    -- Lower case without accents: prefix search and sorting.
    name_key       TEXT    NOT NULL,
    description    TEXT,
    image_url      TEXT,
    station        TEXT,
    age_restricted INTEGER CHECK (age_restricted BETWEEN 1 AND 99),
    track_stock    INTEGER NOT NULL CHECK (track_stock IN (0, 1)),
    sell_when_out  INTEGER NOT NULL CHECK (sell_when_out IN (0, 1)),
    available      INTEGER NOT NULL CHECK (available IN (0, 1)),
    status         TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    position       INTEGER NOT NULL,
    -- The rates and modifier groups the product carries, as comma-separated ids in
    -- order: read with the product in one row, and checked against this store's
    -- active rates and groups in the transaction that writes them (rates and groups
    -- are archived, never deleted). NULL tax_rate_list: the store's default rates.
    tax_rate_list       TEXT,
    modifier_group_list TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;

CREATE INDEX products_store_name ON products (store_id, name_key, id);
CREATE INDEX products_category ON products (category_id);

-- Archived variants keep their row (stock and orders refer to them) but give up their
-- SKU and barcode for reuse.
CREATE TABLE product_variants (
    id         BLOB    NOT NULL PRIMARY KEY,
    product_id BLOB    NOT NULL REFERENCES products (id),
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    name       TEXT,
    sku        TEXT,
    barcode    TEXT,
    price      INTEGER NOT NULL CHECK (price >= 0),
    position   INTEGER NOT NULL,
    archived   INTEGER NOT NULL CHECK (archived IN (0, 1))
) STRICT;

CREATE UNIQUE INDEX variants_sku ON product_variants (store_id, sku) WHERE NOT archived;
CREATE UNIQUE INDEX variants_barcode ON product_variants (store_id, barcode) WHERE NOT archived;
CREATE INDEX variants_product ON product_variants (product_id, position);

CREATE TABLE modifier_groups (
    id          BLOB    NOT NULL PRIMARY KEY,
    store_id    BLOB    NOT NULL REFERENCES stores (id),
    name        TEXT    NOT NULL,
    min_choices INTEGER NOT NULL CHECK (min_choices >= 0),
    max_choices INTEGER NOT NULL CHECK (max_choices >= 1 AND max_choices >= min_choices),
    pricing     TEXT    NOT NULL CHECK (pricing IN ('sum', 'max', 'average')),
    status      TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    version     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE INDEX modifier_groups_store ON modifier_groups (store_id);

CREATE TABLE modifier_options (
    id          BLOB    NOT NULL PRIMARY KEY,
    group_id    BLOB    NOT NULL REFERENCES modifier_groups (id),
    name        TEXT    NOT NULL,
    price_delta INTEGER NOT NULL,
    is_default  INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    position    INTEGER NOT NULL,
    archived    INTEGER NOT NULL CHECK (archived IN (0, 1))
) STRICT;

CREATE INDEX modifier_options_group ON modifier_options (group_id, position);

CREATE TABLE stock_levels (
    store_id      BLOB    NOT NULL REFERENCES stores (id),
    variant_id    BLOB    NOT NULL REFERENCES product_variants (id),
    product_id    BLOB    NOT NULL REFERENCES products (id),
    on_hand       INTEGER NOT NULL,
    low_threshold INTEGER CHECK (low_threshold >= 0),
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (store_id, variant_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX stock_levels_low ON stock_levels (store_id, variant_id)
    WHERE low_threshold IS NOT NULL AND on_hand <= low_threshold;

CREATE TABLE stock_movements (
    id            BLOB    NOT NULL PRIMARY KEY,
    store_id      BLOB    NOT NULL REFERENCES stores (id),
    variant_id    BLOB    NOT NULL REFERENCES product_variants (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('sale', 'refund', 'receipt', 'adjustment', 'transfer_out', 'transfer_in')),
    quantity      INTEGER NOT NULL CHECK (quantity <> 0),
    on_hand_after INTEGER NOT NULL,
    reason        TEXT,
    reference     TEXT,
    actor_id      BLOB,
    created_at    TEXT    NOT NULL
) STRICT;

CREATE INDEX stock_movements_variant ON stock_movements (store_id, variant_id, id);
CREATE INDEX stock_movements_store ON stock_movements (store_id, id);

-- The ledger is append-only: a correction is a new movement, never an edit.
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
BEGIN
    SELECT RAISE(ABORT, 'stock movements are append-only');
END;

CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
BEGIN
    SELECT RAISE(ABORT, 'stock movements are append-only');
END;
