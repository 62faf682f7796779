-- Kept answers by a 16-byte digest of the caller and its key instead of both as text
-- (77 bytes for a user and a UUID key, kept in the row and again in the primary key's
-- index), with the first 16 bytes of the request's hash: about 150 bytes less a kept
-- answer, six answers an order. The answers kept before move over with their digest
-- (comanda_store::idempotency::key_id: SHA-256 of the scope, a NUL and the key), so a
-- retry after the upgrade still gets its first answer; unfinished claims are dropped
-- (their requests died with the binary being replaced). One way: an older binary would
-- look its keys up by name.
CREATE TABLE idempotency_keys_by_digest (
    id           BYTEA   NOT NULL PRIMARY KEY,
    request_hash BYTEA   NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BYTEA,
    created_at   BIGINT  NOT NULL,
    lease_until  BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);

INSERT INTO idempotency_keys_by_digest
SELECT substring(sha256(convert_to(scope, 'UTF8') || '\x00'::bytea || convert_to(key, 'UTF8')) FROM 1 FOR 16),
       substring(request_hash FROM 1 FOR 16), status, coalesce(headers, ''), body,
       created_at, lease_until, expires_at
FROM idempotency_keys
WHERE status IS NOT NULL;

DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_digest RENAME TO idempotency_keys;
ALTER INDEX idempotency_keys_by_digest_pkey RENAME TO idempotency_keys_pkey;
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
ALTER TABLE idempotency_keys SET (autovacuum_analyze_scale_factor = 0.05, autovacuum_vacuum_scale_factor = 0.05);
