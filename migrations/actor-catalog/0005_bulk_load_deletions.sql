-- Deletions of actors or titles while a bulk load is open (services/actor-catalog/src/bulk/mod.rs). A load
-- resolves its credits' ids from the two tables as they were when it began; if nothing was deleted from them
-- since, no credit of the load can name a missing row, and the finish publishes with its foreign keys enforced
-- for every new write (NOT VALID) and validates the loaded rows after the swap instead of before it.
-- Statement-level, so a delete costs one small UPDATE whatever its row count. Idempotent statements.

ALTER TABLE bulk_loads ADD COLUMN IF NOT EXISTS deletions BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION bulk_loads_note_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bulk_loads SET deletions = deletions + 1 WHERE state <> 'finished';
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER actors_bulk_load_deletion
    AFTER DELETE OR TRUNCATE ON actors FOR EACH STATEMENT EXECUTE FUNCTION bulk_loads_note_deletion();
CREATE OR REPLACE TRIGGER content_bulk_load_deletion
    AFTER DELETE OR TRUNCATE ON content FOR EACH STATEMENT EXECUTE FUNCTION bulk_loads_note_deletion();
