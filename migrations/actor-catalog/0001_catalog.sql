-- The catalogue: actors, content (movies, series, episodes) and the credits between them.
-- Idempotent: every statement can run again on a database that already has it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE IF NOT EXISTS actors (
    id                       UUID PRIMARY KEY,
    imdb_id                  VARCHAR(20) UNIQUE,
    tmdb_id                  INTEGER UNIQUE NULL,
    name                     VARCHAR(255) NOT NULL CHECK (length(trim(name)) > 0),
    birth_date               DATE,
    death_date               DATE,
    birth_year               SMALLINT,
    death_year               SMALLINT,
    biography                TEXT,
    profile_image_url        TEXT,
    professions              TEXT[] NOT NULL DEFAULT '{}',
    known_for_imdb_ids       TEXT[] NOT NULL DEFAULT '{}',
    popularity_score         NUMERIC(5,2) NOT NULL DEFAULT 0 CHECK (popularity_score BETWEEN 0 AND 100),
    has_valid_photo          BOOLEAN NOT NULL DEFAULT false,
    has_complete_filmography BOOLEAN NOT NULL DEFAULT false,
    has_birth_date           BOOLEAN NOT NULL DEFAULT false,
    has_bio                  BOOLEAN NOT NULL DEFAULT false,
    last_scraped_at          TIMESTAMPTZ,
    scrape_source            VARCHAR(20) CHECK (scrape_source IN ('api', 'scraper', 'manual')),
    -- Maintained by the trigger below: PostgreSQL 15 rejects a generated column over array_to_string.
    search_vector            TSVECTOR,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (death_year IS NULL OR birth_year IS NULL OR death_year >= birth_year)
);

CREATE INDEX IF NOT EXISTS actors_search_vector_idx ON actors USING gin (search_vector);
CREATE INDEX IF NOT EXISTS actors_popularity_idx ON actors (popularity_score DESC);

CREATE OR REPLACE FUNCTION actors_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', unaccent(coalesce(NEW.name, ''))), 'A')
        || setweight(to_tsvector('simple', array_to_string(NEW.professions, ' ')), 'C');
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER actors_search_vector_trg
    BEFORE INSERT OR UPDATE OF name, professions ON actors
    FOR EACH ROW EXECUTE FUNCTION actors_search_vector();

CREATE TABLE IF NOT EXISTS content (
    id                UUID PRIMARY KEY,
    imdb_id           VARCHAR(20) UNIQUE,
    tmdb_id           INTEGER NULL,
    title             VARCHAR(500) NOT NULL CHECK (length(trim(title)) > 0),
    original_title    VARCHAR(500),
    content_type      VARCHAR(20) NOT NULL CHECK (content_type IN ('movie', 'series', 'episode')),
    release_year      SMALLINT,
    end_year          SMALLINT,
    runtime_minutes   INTEGER CHECK (runtime_minutes IS NULL OR runtime_minutes > 0),
    genres            TEXT[] NOT NULL DEFAULT '{}',
    overview          TEXT,
    poster_url        TEXT,
    is_adult          BOOLEAN NOT NULL DEFAULT false,
    rating            NUMERIC(3,1) NULL CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
    vote_count        INTEGER,
    parent_id         UUID NULL REFERENCES content (id) ON DELETE CASCADE,
    season_number     INTEGER CHECK (season_number IS NULL OR season_number >= 0),
    episode_number    INTEGER CHECK (episode_number IS NULL OR episode_number >= 0),
    popularity_score  NUMERIC(5,2) NOT NULL DEFAULT 0 CHECK (popularity_score BETWEEN 0 AND 100),
    has_poster        BOOLEAN NOT NULL DEFAULT false,
    has_overview      BOOLEAN NOT NULL DEFAULT false,
    has_complete_cast BOOLEAN NOT NULL DEFAULT false,
    has_release_date  BOOLEAN NOT NULL DEFAULT false,
    last_scraped_at   TIMESTAMPTZ,
    scrape_source     VARCHAR(20) CHECK (scrape_source IN ('api', 'scraper', 'manual')),
    search_vector     TSVECTOR,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (content_type = 'episode' OR parent_id IS NULL)
);

CREATE INDEX IF NOT EXISTS content_search_vector_idx ON content USING gin (search_vector);
CREATE INDEX IF NOT EXISTS content_type_year_idx ON content (content_type, release_year);
CREATE INDEX IF NOT EXISTS content_parent_idx ON content (parent_id);
CREATE INDEX IF NOT EXISTS content_popularity_idx ON content (popularity_score DESC);

CREATE OR REPLACE FUNCTION content_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', unaccent(coalesce(NEW.title, ''))), 'A')
        || setweight(to_tsvector('simple', unaccent(coalesce(NEW.original_title, ''))), 'B');
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER content_search_vector_trg
    BEFORE INSERT OR UPDATE OF title, original_title ON content
    FOR EACH ROW EXECUTE FUNCTION content_search_vector();

CREATE TABLE IF NOT EXISTS filmography (
    id            UUID PRIMARY KEY,
    actor_id      UUID NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    content_id    UUID NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    -- The first character name; '' when the source has none (part of the natural key, so never NULL).
    role_name     VARCHAR(500) NOT NULL DEFAULT '',
    characters    TEXT[] NOT NULL DEFAULT '{}',
    category      VARCHAR(30) NOT NULL CHECK (category IN ('actor', 'actress', 'self')),
    credit_order  INTEGER,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (actor_id, content_id, role_name)
);

CREATE INDEX IF NOT EXISTS filmography_actor_idx ON filmography (actor_id);
CREATE INDEX IF NOT EXISTS filmography_content_idx ON filmography (content_id, credit_order);
