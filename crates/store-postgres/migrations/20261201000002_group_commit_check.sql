-- Lets one statement write a whole group of order commits and still be all or nothing.
-- The statement ends with this check of what it wrote: if a commit could not be written
-- as the committer worked it out (its key already answered, its order changed since,
-- the store's log head moved by another instance), the raise undoes the whole
-- statement, and the committer writes the group again statement by statement.
CREATE FUNCTION comanda_group_written(ok BOOLEAN) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION 'a group commit was refused in part' USING ERRCODE = 'CM001';
    END IF;
    RETURN TRUE;
END;
$$;
