-- Each store's own compression dictionaries (see comanda_store::packed): the generic
-- dictionary followed by the store's recent orders, so the menu's identifiers and
-- names an order shares with the orders before it cost a few bytes. Values packed with
-- one name its number; a release that does not know this format cannot read them, so
-- this migration is one-way. Rows are never changed: every value packed with one needs
-- it byte for byte.

CREATE TABLE packing_dictionaries (
    number     INTEGER NOT NULL PRIMARY KEY,
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    made_at    TEXT    NOT NULL,
    last_order INTEGER NOT NULL,
    content    BLOB    NOT NULL
) STRICT;

CREATE INDEX packing_dictionaries_store ON packing_dictionaries (store_id, number);

CREATE TRIGGER packing_dictionaries_no_update BEFORE UPDATE ON packing_dictionaries
BEGIN
    SELECT RAISE(ABORT, 'packing dictionaries are never changed');
END;

CREATE TRIGGER packing_dictionaries_no_delete BEFORE DELETE ON packing_dictionaries
BEGIN
    SELECT RAISE(ABORT, 'packing dictionaries are never changed');
END;
