-- Scrape jobs: one row per queued import, the single source of truth about it. The RabbitMQ message of a job
-- only names it (job id and attempt); its state, counts, checkpoint and progress live here.

CREATE TABLE scrape_jobs (
    id UUID PRIMARY KEY,                          -- UUID v7: newest jobs sort last
    kind TEXT NOT NULL CHECK (kind IN ('imdb_dataset', 'tmdb_person', 'tmdb_title')),
    payload JSONB NOT NULL,                       -- the job's parameters, by kind ({"dir": "..."})
    -- queued → running → succeeded | failed (an attempt failed, its retry is scheduled) → … | dead (given up)
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,          -- attempts started; a resumed attempt is not a new one
    max_attempts INTEGER NOT NULL,
    -- Per file, in import order: counts (read/written/unchanged/rejected/skipped), the first rejected lines with
    -- their numbers and reasons (capped), a read error, whether the file is complete and its committed line.
    files JSONB NOT NULL DEFAULT '[]'::jsonb,
    -- The last committed batch: every line up to checkpoint_line of checkpoint_file is imported.
    checkpoint_file TEXT,
    checkpoint_line BIGINT,
    -- What the running attempt reads now (file, bytes, rows, rows/s), refreshed about once a second.
    progress JSONB,
    last_error TEXT,
    -- When the retry of a failed attempt is due (its message waits in a retry queue until then).
    retry_at TIMESTAMPTZ,
    -- The worker running the job, until lease_until (renewed with the progress); a stopped worker clears it.
    lease_owner UUID,
    lease_until TIMESTAMPTZ,
    -- The request id of the call that enqueued the job (it travels on every message of the job).
    request_id TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX scrape_jobs_state ON scrape_jobs (state, id DESC);
