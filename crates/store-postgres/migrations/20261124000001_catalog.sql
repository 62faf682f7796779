-- Catalog: pricing settings, tax rates, categories, products and their variants,
-- modifier groups, and the stock ledger. Every table is owned by a store.

-- Bumped in the same transaction as every catalog change: the menu's ETag.
CREATE TABLE catalog_revisions (
    store_id UUID    NOT NULL PRIMARY KEY REFERENCES stores (id),
    revision BIGINT NOT NULL
);

-- Absent until first changed: the defaults follow from the store's currency.
CREATE TABLE catalog_settings (
    store_id       UUID    NOT NULL PRIMARY KEY REFERENCES stores (id),
    pricing        TEXT    NOT NULL CHECK (pricing IN ('tax_exclusive', 'tax_inclusive')),
    rounding_scope TEXT    NOT NULL CHECK (rounding_scope IN ('line', 'order')),
    rounding_mode  TEXT    NOT NULL CHECK (rounding_mode IN ('half_up', 'half_even')),
    cash_increment BIGINT NOT NULL CHECK (cash_increment >= 1),
    version        BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE tax_rates (
    id         UUID    NOT NULL PRIMARY KEY,
    store_id   UUID    NOT NULL REFERENCES stores (id),
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('tax', 'service_charge')),
    rate       BIGINT NOT NULL CHECK (rate BETWEEN 0 AND 1000000),
    compound   BOOLEAN NOT NULL,
    is_default BOOLEAN NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX tax_rates_store ON tax_rates (store_id);

CREATE TABLE categories (
    id         UUID    NOT NULL PRIMARY KEY,
    store_id   UUID    NOT NULL REFERENCES stores (id),
    parent_id  UUID    REFERENCES categories (id),
    name       TEXT    NOT NULL,
    position   BIGINT NOT NULL,
    station    TEXT,
    image_url  TEXT,
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX categories_store ON categories (store_id, parent_id);

CREATE TABLE products (
    id             UUID    NOT NULL PRIMARY KEY,
    store_id       UUID    NOT NULL REFERENCES stores (id),
    category_id    UUID    REFERENCES categories (id),
    name           TEXT    NOT NULL,
    -- Lower case without accents: prefix search and sorting.
    name_key       TEXT    COLLATE "C" NOT NULL,
    description    TEXT,
    image_url      TEXT,
    station        TEXT,
    age_restricted BIGINT CHECK (age_restricted BETWEEN 1 AND 99),
    track_stock    BOOLEAN NOT NULL,
    sell_when_out  BOOLEAN NOT NULL,
    available      BOOLEAN NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    position       BIGINT NOT NULL,
    -- The rates and modifier groups the product carries, as comma-separated ids in
    -- order: read with the product in one row, and checked against this store's
    -- active rates and groups in the transaction that writes them (rates and groups
    -- are archived, never deleted). NULL tax_rate_list: the store's default rates.
    tax_rate_list       TEXT,
    modifier_group_list TEXT    NOT NULL,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE INDEX products_store_name ON products (store_id, name_key, id);
CREATE INDEX products_category ON products (category_id);

-- Archived variants keep their row (stock and orders refer to them) but give up their
-- SKU and barcode for reuse.
CREATE TABLE product_variants (
    id         UUID    NOT NULL PRIMARY KEY,
    product_id UUID    NOT NULL REFERENCES products (id),
    store_id   UUID    NOT NULL REFERENCES stores (id),
    name       TEXT,
    sku        TEXT    COLLATE "C",
    barcode    TEXT    COLLATE "C",
    price      BIGINT NOT NULL CHECK (price >= 0),
    position   BIGINT NOT NULL,
    archived   BOOLEAN NOT NULL
);

CREATE UNIQUE INDEX variants_sku ON product_variants (store_id, sku) WHERE NOT archived;
CREATE UNIQUE INDEX variants_barcode ON product_variants (store_id, barcode) WHERE NOT archived;
CREATE INDEX variants_product ON product_variants (product_id, position);

CREATE TABLE modifier_groups (
    id          UUID    NOT NULL PRIMARY KEY,
    store_id    UUID    NOT NULL REFERENCES stores (id),
    name        TEXT    NOT NULL,
    min_choices BIGINT NOT NULL CHECK (min_choices >= 0),
    max_choices BIGINT NOT NULL CHECK (max_choices >= 1 AND max_choices >= min_choices),
    pricing     TEXT    NOT NULL CHECK (pricing IN ('sum', 'max', 'average')),
    status      TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX modifier_groups_store ON modifier_groups (store_id);

CREATE TABLE modifier_options (
    id          UUID    NOT NULL PRIMARY KEY,
    group_id    UUID    NOT NULL REFERENCES modifier_groups (id),
    name        TEXT    NOT NULL,
    price_delta BIGINT NOT NULL,
    is_default  BOOLEAN NOT NULL,
    position    BIGINT NOT NULL,
    archived    BOOLEAN NOT NULL
);

CREATE INDEX modifier_options_group ON modifier_options (group_id, position);

CREATE TABLE stock_levels (
    store_id      UUID    NOT NULL REFERENCES stores (id),
    variant_id    UUID    NOT NULL REFERENCES product_variants (id),
    product_id    UUID    NOT NULL REFERENCES products (id),
    on_hand       BIGINT NOT NULL,
    low_threshold BIGINT CHECK (low_threshold >= 0),
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, variant_id)
);

CREATE INDEX stock_levels_low ON stock_levels (store_id, variant_id)
    WHERE low_threshold IS NOT NULL AND on_hand <= low_threshold;

CREATE TABLE stock_movements (
    id            UUID    NOT NULL PRIMARY KEY,
    store_id      UUID    NOT NULL REFERENCES stores (id),
    variant_id    UUID    NOT NULL REFERENCES product_variants (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('sale', 'refund', 'receipt', 'adjustment', 'transfer_out', 'transfer_in')),
    quantity      BIGINT NOT NULL CHECK (quantity <> 0),
    on_hand_after BIGINT NOT NULL,
    reason        TEXT,
    reference     TEXT,
    actor_id      UUID,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX stock_movements_variant ON stock_movements (store_id, variant_id, id);
CREATE INDEX stock_movements_store ON stock_movements (store_id, id);

-- The ledger is append-only: a correction is a new movement, never an edit.
CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only';
END;
$$;

CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
