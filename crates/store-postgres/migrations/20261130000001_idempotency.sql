-- Answers to retried writes, by caller and Idempotency-Key. Instants are Unix
-- milliseconds. A row without a status is a request still running (or one that died:
-- its lease runs out and a retry takes the key over).
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL COLLATE "C",
    key          TEXT    NOT NULL COLLATE "C",
    request_hash BYTEA   NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BYTEA,
    created_at   BIGINT  NOT NULL,
    lease_until  BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
