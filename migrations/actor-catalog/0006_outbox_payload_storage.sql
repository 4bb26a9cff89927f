-- The catalogue's outbox payloads stored without compression. A bulk load announces every actor and title
-- (3M ids in 600 messages of 5,000, ~110 MB of JSON) inside its swap's transaction: pglz compressed them at
-- ~35 MB/s (3 of the swap's 4 seconds, measured), for rows the relay deletes moments later. Small payloads
-- (under the 2 kB TOAST threshold) are stored inline as before. Idempotent.
ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL;
