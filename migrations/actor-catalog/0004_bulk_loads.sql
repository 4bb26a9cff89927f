-- Bulk first loads of credits (services/actor-catalog/src/bulk.rs): a load stages its credits in a table of its
-- own (stage_table, no indexes), then publishes them all at once. Idempotent statements.

CREATE TABLE IF NOT EXISTS bulk_loads (
    -- The caller's id of the load (the ingest job id).
    id              TEXT PRIMARY KEY,
    stage_table     TEXT NOT NULL,
    state           VARCHAR(20) NOT NULL CHECK (state IN ('staging', 'finishing', 'finished')),
    staged          BIGINT NOT NULL DEFAULT 0,
    credits_written BIGINT NOT NULL DEFAULT 0,
    duplicates      BIGINT NOT NULL DEFAULT 0,
    rejected_count  BIGINT NOT NULL DEFAULT 0,
    -- The first rejected credits: [{"line": 12, "key": "nm1/tt2", "reason": "unknown actor"}].
    rejected        JSONB NOT NULL DEFAULT '[]',
    -- The last failure of a finish (retried at the next FinishCreditsLoad).
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ
);

-- The chunks staged so far, so a chunk sent again (a retry, a resumed job) is staged once.
CREATE TABLE IF NOT EXISTS bulk_load_chunks (
    load_id    TEXT NOT NULL REFERENCES bulk_loads (id) ON DELETE CASCADE,
    first_line BIGINT NOT NULL,
    last_line  BIGINT NOT NULL,
    rows       INTEGER NOT NULL,
    PRIMARY KEY (load_id, first_line, last_line)
);

-- filmography (actor_id) duplicated the leading column of UNIQUE (actor_id, content_id, role_name), which serves
-- every "credits of an actor" read as well: one index less to keep up per credit written or bulk-built.
DROP INDEX IF EXISTS filmography_actor_idx;
