-- Each store's own compression dictionaries (see comanda_store::packed): the generic
-- dictionary followed by the store's recent orders, so the menu's identifiers and
-- names an order shares with the orders before it cost a few bytes. Values packed with
-- one name its number; a release that does not know this format cannot read them, so
-- this migration is one-way. Rows are never changed: every value packed with one needs
-- it byte for byte.

CREATE TABLE packing_dictionaries (
    number     BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id   UUID        NOT NULL REFERENCES stores (id),
    made_at    TIMESTAMPTZ NOT NULL,
    last_order BIGINT      NOT NULL,
    content    BYTEA       NOT NULL
);

-- Already compressed by zstd: PostgreSQL's own compression would only cost time.
ALTER TABLE packing_dictionaries ALTER COLUMN content SET STORAGE EXTERNAL;

CREATE INDEX packing_dictionaries_store ON packing_dictionaries (store_id, number);

CREATE FUNCTION packing_dictionaries_never_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'packing dictionaries are never changed';
END;
$$;

CREATE TRIGGER packing_dictionaries_never_change BEFORE UPDATE OR DELETE ON packing_dictionaries
    FOR EACH ROW EXECUTE FUNCTION packing_dictionaries_never_change();
