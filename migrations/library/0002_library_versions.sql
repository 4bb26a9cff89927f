-- A counter per user, bumped by every change to that user's watchlist or history, and one global counter
-- (the nil user id) bumped when a stored title summary changes. Each replica caches what it derives from a
-- user's rows (the titles they have seen) under these two numbers, and one primary-key read tells it whether
-- its copy is still true, whichever replica made the change.
CREATE TABLE IF NOT EXISTS library_versions (
    user_id UUID PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE OR REPLACE FUNCTION bump_library_version(owner UUID) RETURNS void AS $$
    INSERT INTO library_versions AS v (user_id, version) VALUES (owner, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
$$ LANGUAGE sql;

-- Watchlist and history rows: the owner's counter (a row never moves to another user).
CREATE OR REPLACE FUNCTION bump_user_library_version() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM bump_library_version(OLD.user_id);
    ELSE
        PERFORM bump_library_version(NEW.user_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Title summaries are shared by every user: the global counter.
CREATE OR REPLACE FUNCTION bump_snapshot_version() RETURNS trigger AS $$
BEGIN
    PERFORM bump_library_version('00000000-0000-0000-0000-000000000000');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER watchlist_bumps_version AFTER INSERT OR UPDATE OR DELETE ON watchlist
    FOR EACH ROW EXECUTE FUNCTION bump_user_library_version();
CREATE TRIGGER viewing_history_bumps_version AFTER INSERT OR UPDATE OR DELETE ON viewing_history
    FOR EACH ROW EXECUTE FUNCTION bump_user_library_version();
-- Per row: an INSERT ... ON CONFLICT DO UPDATE that inserts fires statement-level UPDATE triggers too, and a
-- new title's summary changes nobody's seen titles.
CREATE TRIGGER content_snapshot_bumps_version AFTER UPDATE ON content_snapshot
    FOR EACH ROW EXECUTE FUNCTION bump_snapshot_version();
