-- Who registered a company: a store-scoped person sees the client companies registered
-- by people of their stores, beside those their stores hold contracts with.
ALTER TABLE companies ADD COLUMN created_by UUID REFERENCES users (id);
