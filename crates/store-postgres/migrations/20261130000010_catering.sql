-- Catering: caterer and client companies, contracts between them (served from a
-- caterer's store), and each contract's service days. Documents are JSON; the columns
-- beside them are what rows are found by.

CREATE TABLE companies (
    id       UUID    NOT NULL PRIMARY KEY,
    kind     TEXT    NOT NULL CHECK (kind IN ('caterer', 'client')),
    name     TEXT    NOT NULL,
    store_id UUID    REFERENCES stores (id),
    version  BIGINT  NOT NULL,
    document TEXT    NOT NULL
);

CREATE INDEX companies_name ON companies (kind, name);

CREATE TABLE contracts (
    id         UUID    NOT NULL PRIMARY KEY,
    caterer_id UUID    NOT NULL REFERENCES companies (id),
    client_id  UUID    NOT NULL REFERENCES companies (id),
    store_id   UUID    NOT NULL REFERENCES stores (id),
    version    BIGINT  NOT NULL,
    document   TEXT    NOT NULL
);

CREATE INDEX contracts_caterer ON contracts (caterer_id);
CREATE INDEX contracts_client ON contracts (client_id);

CREATE TABLE service_days (
    contract_id UUID    NOT NULL REFERENCES contracts (id),
    day         DATE    NOT NULL,
    version     BIGINT  NOT NULL,
    document    TEXT    NOT NULL,
    PRIMARY KEY (contract_id, day)
);
