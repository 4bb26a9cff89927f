-- A series' aggregated cast (the idea behind TMDB's aggregate_credits): one row per actor credited on the
-- series title or on any of its episodes, with every character they played, the number of episodes they are in
-- and their first and last appearance. Kept by the catalogue when credits or episode links are written
-- (`series_cast.rs`: per (series, actor) pair for credits, per series for links, all of it after a bulk load),
-- so reads never aggregate thousands of episodes per request. Idempotent.
-- One episode as the aggregation carries it (first and last appearance).
DO $$ BEGIN
    CREATE TYPE series_cast_episode AS (id UUID, season INTEGER, episode INTEGER, title VARCHAR(500), year INTEGER);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE IF NOT EXISTS series_cast (
    series_id          UUID NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    actor_id           UUID NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- Every character, most episodes first; character_episodes[i] is the episodes of characters[i].
    characters         TEXT[] NOT NULL DEFAULT '{}',
    character_episodes INTEGER[] NOT NULL DEFAULT '{}',
    -- Distinct episodes credited (a credit on the series title alone counts none).
    episode_count      INTEGER NOT NULL,
    -- Credited on the series title itself (a regular, as IMDb and TVmaze list them).
    on_series          BOOLEAN NOT NULL,
    -- Billing on the series title when credited there, else the best billing on an episode.
    credit_order       INTEGER,
    category           VARCHAR(30) NOT NULL,
    first_episode_id   UUID,
    first_season       INTEGER,
    first_episode      INTEGER,
    first_title        VARCHAR(500),
    first_year         SMALLINT,
    last_episode_id    UUID,
    last_season        INTEGER,
    last_episode       INTEGER,
    last_title         VARCHAR(500),
    last_year          SMALLINT,
    PRIMARY KEY (series_id, actor_id)
);

-- The cast in order: regulars, then most episodes, then billing.
CREATE INDEX IF NOT EXISTS series_cast_order_idx
    ON series_cast (series_id, on_series DESC, episode_count DESC, credit_order ASC NULLS LAST);
-- An actor's series (renamed actors invalidate the casts they appear in).
CREATE INDEX IF NOT EXISTS series_cast_actor_idx ON series_cast (actor_id);
