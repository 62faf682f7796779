-- Catering: a client company's people sign in too (role `client`, one company, no store).
-- Widening a CHECK and adding a nullable column: no rewrite, old binaries keep working.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('owner', 'admin', 'manager', 'cashier', 'waiter', 'kitchen', 'client'));
ALTER TABLE users ADD COLUMN company_id UUID REFERENCES companies (id);
ALTER TABLE users ADD CONSTRAINT users_company_only_for_clients
    CHECK ((role = 'client') = (company_id IS NOT NULL));
CREATE INDEX users_company ON users (company_id) WHERE company_id IS NOT NULL;
