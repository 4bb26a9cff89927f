-- The transactional outbox (iknow_messaging::outbox::MIGRATION_SQL, copied verbatim): the actor.upserted and
-- content.upserted events of each UpsertBatch, written in its transaction and published by the relay to
-- catalog.events, from which every replica drops what it holds in process.

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
