-- Catering: caterer and client companies, contracts between them (served from a
-- caterer's store), and each contract's service days. Documents are JSON; the columns
-- beside them are what rows are found by.

CREATE TABLE companies (
    id       BLOB    NOT NULL PRIMARY KEY,
    kind     TEXT    NOT NULL CHECK (kind IN ('caterer', 'client')),
    name     TEXT    NOT NULL,
    store_id BLOB    REFERENCES stores (id),
    version  INTEGER NOT NULL,
    document TEXT    NOT NULL
) STRICT;

CREATE INDEX companies_name ON companies (kind, name);

CREATE TABLE contracts (
    id         BLOB    NOT NULL PRIMARY KEY,
    caterer_id BLOB    NOT NULL REFERENCES companies (id),
    client_id  BLOB    NOT NULL REFERENCES companies (id),
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    version    INTEGER NOT NULL,
    document   TEXT    NOT NULL
) STRICT;

CREATE INDEX contracts_caterer ON contracts (caterer_id);
CREATE INDEX contracts_client ON contracts (client_id);

CREATE TABLE service_days (
    contract_id BLOB    NOT NULL REFERENCES contracts (id),
    day         TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    document    TEXT    NOT NULL,
    PRIMARY KEY (contract_id, day)
) STRICT;
