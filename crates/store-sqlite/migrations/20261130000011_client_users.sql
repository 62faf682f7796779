-- Catering: a client company's people sign in too (role `client`, one company, no store).
--
-- SQLite cannot alter a CHECK constraint, and the usual table rebuild needs foreign keys
-- off, which cannot be switched inside the transaction a migration runs in (a DROP of
-- users would cascade to sessions and store grants). Widening a CHECK changes nothing
-- on disk, so the table's stored definition is edited instead, the procedure SQLite
-- documents for such changes ("Making Other Kinds Of Table Schema Changes"): every
-- existing row satisfies the new constraints. RESET reloads this connection's schema;
-- the CREATE INDEX after it bumps the schema cookie so every other connection does too.
ALTER TABLE users ADD COLUMN company_id BLOB REFERENCES companies (id);

PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
        replace(sql, '''kitchen'')', '''kitchen'', ''client'')'),
        'company_id BLOB REFERENCES companies (id)',
        'company_id BLOB REFERENCES companies (id), CHECK ((role = ''client'') = (company_id IS NOT NULL))'
    )
WHERE type = 'table' AND name = 'users';

PRAGMA writable_schema = RESET;

CREATE INDEX users_company ON users (company_id) WHERE company_id IS NOT NULL;
