-- The transactional outbox (iknow_messaging::outbox::MIGRATION_SQL, copied verbatim): each job's first message,
-- written in the transaction that creates the job, and dead-lettered jobs, written with their `dead` state;
-- published by the relay.

CREATE TABLE outbox (
    id UUID PRIMARY KEY,             -- UUID v7: publication follows insertion order
    exchange TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    payload JSONB NOT NULL,
    headers JSONB NOT NULL DEFAULT '{}'::jsonb,   -- string values only (request id, trace context)
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
