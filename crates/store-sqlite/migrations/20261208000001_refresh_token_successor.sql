-- The token that replaced a spent refresh token. A second use within a few seconds of the
-- first (two tabs, a page reloading while its stream renewed) is answered with that same
-- successor instead of being taken for theft.
ALTER TABLE refresh_tokens ADD COLUMN replaced_by BLOB;
