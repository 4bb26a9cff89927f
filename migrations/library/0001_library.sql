-- The library's own database: each user's watchlist and viewing history, the catalogue's summary of every
-- title they hold, and the ids of the events already consumed.

-- The catalogue's summary of a title a user added or viewed, refreshed from the catalogue's answer on each
-- add/record. Lists answer from it (titles while the catalogue is down), and an add of a title already known
-- here succeeds while the catalogue is down. Not personal data: kept when a user is erased.
CREATE TABLE content_snapshot (
    content_id UUID PRIMARY KEY,
    title TEXT NOT NULL,
    content_type TEXT NOT NULL,
    year INTEGER,
    poster_url TEXT,
    runtime_minutes INTEGER,
    -- For an episode: its series.
    series_id UUID,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE watchlist (
    id UUID PRIMARY KEY,                -- UUID v7
    user_id UUID NOT NULL,
    content_id UUID NOT NULL REFERENCES content_snapshot (content_id),
    status TEXT NOT NULL DEFAULT 'to_watch'
        CHECK (status IN ('to_watch', 'watching', 'completed', 'paused')),
    priority SMALLINT NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 10),
    notes VARCHAR(2000),
    added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the status becomes completed, cleared when it leaves completed.
    completed_at TIMESTAMPTZ,
    CONSTRAINT watchlist_user_content_key UNIQUE (user_id, content_id),
    CONSTRAINT watchlist_completed_at_check CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

-- Listing: filter by status, sort by priority (then newest added) or by added date.
CREATE INDEX watchlist_user_status_priority_idx ON watchlist (user_id, status, priority DESC, added_at DESC);
CREATE INDEX watchlist_user_added_idx ON watchlist (user_id, added_at DESC);

CREATE TABLE viewing_history (
    id UUID PRIMARY KEY,                -- UUID v7
    user_id UUID NOT NULL,
    content_id UUID NOT NULL REFERENCES content_snapshot (content_id),
    actor_id UUID,
    viewed_at TIMESTAMPTZ NOT NULL,
    -- The UTC day of viewed_at: one row per (user, title, day).
    view_date DATE GENERATED ALWAYS AS ((viewed_at AT TIME ZONE 'UTC')::date) STORED,
    -- Minutes watched.
    duration INTEGER CHECK (duration >= 0),
    -- Runtime in minutes.
    total_duration INTEGER CHECK (total_duration > 0),
    completion_percentage NUMERIC(5, 2) CHECK (completion_percentage BETWEEN 0 AND 100),
    -- {platform, season, episode}
    context JSONB CHECK (context IS NULL OR jsonb_typeof(context) = 'object'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT viewing_history_user_content_day_key UNIQUE (user_id, content_id, view_date)
);

CREATE INDEX viewing_history_user_viewed_idx ON viewing_history (user_id, viewed_at DESC);

-- Consumed events (RabbitMQ message ids), so a redelivered or republished message is applied once.
CREATE TABLE processed_events (
    message_id TEXT PRIMARY KEY,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
