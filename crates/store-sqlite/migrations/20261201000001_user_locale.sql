-- A person's own language for the apps; none means the store's (or the browser's).
ALTER TABLE users ADD COLUMN locale TEXT;
