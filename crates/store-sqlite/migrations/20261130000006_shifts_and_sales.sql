-- Shifts (a terminal's cash drawer), running sales totals folded from the order log, and
-- the Z reports that close business days. A business day is a stretch of the log: the
-- totals of a day cover the events after the previous Z's sequence up to its own.

CREATE TABLE shifts (
    id        BLOB    NOT NULL PRIMARY KEY,
    store_id  BLOB    NOT NULL REFERENCES stores (id),
    number    INTEGER NOT NULL,
    device_id BLOB    NOT NULL,
    status    TEXT    NOT NULL,
    day       INTEGER,
    opened_at TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    document  TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX shifts_number ON shifts (store_id, number);
-- One open shift per terminal.
CREATE UNIQUE INDEX shifts_open_device ON shifts (store_id, device_id) WHERE status = 'open';
CREATE INDEX shifts_day ON shifts (store_id, day);

-- How far each store's totals have read its log, and the business day they add to.
CREATE TABLE sales_positions (
    store_id      BLOB    NOT NULL PRIMARY KEY REFERENCES stores (id),
    applied_seq   INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    day_from_seq  INTEGER NOT NULL,
    day_opened_at TEXT    NOT NULL
) STRICT;

CREATE TABLE sales_totals (
    store_id  BLOB    NOT NULL REFERENCES stores (id),
    day       INTEGER NOT NULL,
    dimension TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    label     TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    quantity  INTEGER NOT NULL,
    amount    INTEGER NOT NULL,
    tax       INTEGER NOT NULL,
    extra     INTEGER NOT NULL,
    PRIMARY KEY (store_id, day, dimension, key)
) STRICT;

-- Closed business days: numbered, and never changed.
CREATE TABLE z_reports (
    store_id  BLOB    NOT NULL REFERENCES stores (id),
    number    INTEGER NOT NULL,
    from_seq  INTEGER NOT NULL,
    to_seq    INTEGER NOT NULL,
    opened_at TEXT    NOT NULL,
    closed_at TEXT    NOT NULL,
    closed_by BLOB,
    document  TEXT    NOT NULL,
    PRIMARY KEY (store_id, number)
) STRICT;

CREATE TRIGGER z_reports_no_update BEFORE UPDATE ON z_reports
BEGIN
    SELECT RAISE(ABORT, 'Z reports are immutable');
END;

CREATE TRIGGER z_reports_no_delete BEFORE DELETE ON z_reports
BEGIN
    SELECT RAISE(ABORT, 'Z reports are immutable');
END;
