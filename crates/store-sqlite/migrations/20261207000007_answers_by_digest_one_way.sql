-- Kept answers by a 16-byte digest of the caller and its key instead of both as text
-- (77 bytes for a user and a UUID key, kept in the row and again in the expiry index),
-- with the first 16 bytes of the request's hash. And in the order they were given: a
-- table of rowids takes each new answer at its end, where a table keyed by a digest
-- took it at a random place and kept its pages two-thirds full; since every answer is
-- kept for the same time, the oldest expire first and the purge needs no index by
-- expiry (see PURGE_ANSWERS in comanda-store-sqlite). About 250 bytes less a kept
-- answer, six answers an order.
--
-- The digest is SHA-256, which SQL here cannot compute, so the answers kept before are
-- moved over by the binary right after this migration (SqliteStorage's
-- move_answers_kept_by_name); until then they wait in `idempotency_keys_by_name`. One
-- way: an older binary would look its keys up by name.
ALTER TABLE idempotency_keys RENAME TO idempotency_keys_by_name;
DROP INDEX idempotency_keys_expiry;

CREATE TABLE idempotency_keys (
    id           BLOB    NOT NULL,
    request_hash BLOB    NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX idempotency_keys_id ON idempotency_keys (id);
