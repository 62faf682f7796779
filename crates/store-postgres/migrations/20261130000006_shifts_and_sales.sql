-- Shifts (a terminal's cash drawer), running sales totals folded from the order log, and
-- the Z reports that close business days. A business day is a stretch of the log: the
-- totals of a day cover the events after the previous Z's sequence up to its own.

CREATE TABLE shifts (
    id        UUID        NOT NULL PRIMARY KEY,
    store_id  UUID        NOT NULL REFERENCES stores (id),
    number    BIGINT      NOT NULL,
    device_id UUID        NOT NULL,
    status    TEXT        NOT NULL,
    day       BIGINT,
    opened_at TIMESTAMPTZ NOT NULL,
    version   BIGINT      NOT NULL,
    document  TEXT        NOT NULL
);

CREATE UNIQUE INDEX shifts_number ON shifts (store_id, number);
-- One open shift per terminal.
CREATE UNIQUE INDEX shifts_open_device ON shifts (store_id, device_id) WHERE status = 'open';
CREATE INDEX shifts_day ON shifts (store_id, day);

-- How far each store's totals have read its log, and the business day they add to.
CREATE TABLE sales_positions (
    store_id      UUID        NOT NULL PRIMARY KEY REFERENCES stores (id),
    applied_seq   BIGINT      NOT NULL,
    day           BIGINT      NOT NULL,
    day_from_seq  BIGINT      NOT NULL,
    day_opened_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE sales_totals (
    store_id  UUID   NOT NULL REFERENCES stores (id),
    day       BIGINT NOT NULL,
    dimension TEXT   NOT NULL,
    key       TEXT   NOT NULL,
    label     TEXT   NOT NULL,
    count     BIGINT NOT NULL,
    quantity  BIGINT NOT NULL,
    amount    BIGINT NOT NULL,
    tax       BIGINT NOT NULL,
    extra     BIGINT NOT NULL,
    PRIMARY KEY (store_id, day, dimension, key)
);

-- Closed business days: numbered, and never changed.
CREATE TABLE z_reports (
    store_id  UUID        NOT NULL REFERENCES stores (id),
    number    BIGINT      NOT NULL,
    from_seq  BIGINT      NOT NULL,
    to_seq    BIGINT      NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ NOT NULL,
    closed_by UUID,
    document  TEXT        NOT NULL,
    PRIMARY KEY (store_id, number)
);

CREATE FUNCTION z_reports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Z reports are immutable';
END;
$$;

CREATE TRIGGER z_reports_immutable BEFORE UPDATE OR DELETE ON z_reports
    FOR EACH ROW EXECUTE FUNCTION z_reports_immutable();
