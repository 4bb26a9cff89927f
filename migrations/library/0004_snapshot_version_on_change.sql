-- A title summary is written again at every add or view of the title (its fetched_at changes), which bumped
-- the global counter each time and made every replica reload every user's seen titles. Bump it only when
-- something a user's seen titles carry changed.
DROP TRIGGER content_snapshot_bumps_version ON content_snapshot;
CREATE TRIGGER content_snapshot_bumps_version AFTER UPDATE ON content_snapshot
    FOR EACH ROW
    WHEN ((OLD.title, OLD.content_type, OLD.year, OLD.poster_url, OLD.runtime_minutes, OLD.series_id,
           OLD.season_number, OLD.episode_number)
          IS DISTINCT FROM
          (NEW.title, NEW.content_type, NEW.year, NEW.poster_url, NEW.runtime_minutes, NEW.series_id,
           NEW.season_number, NEW.episode_number))
    EXECUTE FUNCTION bump_snapshot_version();
