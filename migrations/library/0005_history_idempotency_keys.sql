-- The client's idempotency keys of recorded views (`Idempotency-Key` of POST /users/me/history): a key
-- records one view per user, and a retry with it answers the entry it recorded instead of recording again.
-- A table of its own rather than a column of viewing_history: several views of a title on one UTC day are
-- merged into one row, so one row may have been recorded by several keys, and each must keep answering it.
-- The primary key makes concurrent recordings with one key record one view: the first to commit keeps its
-- key; the others find it taken (INSERT ... ON CONFLICT DO NOTHING) and roll their view back.
-- Personal data: a key goes with its entry (deleting the entry or erasing the user deletes it).
CREATE TABLE viewing_history_keys (
    user_id UUID NOT NULL,
    idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    entry_id UUID NOT NULL REFERENCES viewing_history (id) ON DELETE CASCADE,
    -- What the first answer said: true when that view updated the day's row rather than adding one.
    updated BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key)
);

-- The cascade from a deleted entry.
CREATE INDEX viewing_history_keys_entry_idx ON viewing_history_keys (entry_id);
