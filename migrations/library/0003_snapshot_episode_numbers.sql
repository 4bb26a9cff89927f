-- An episode's season and number in its series, as the catalogue gives them, so "where do I know them from"
-- can name the episode ("S1E2") without asking the catalogue. Rows stored before this migration get them at
-- the next add or view of the title; until then they read as unknown.
ALTER TABLE content_snapshot ADD COLUMN season_number INTEGER, ADD COLUMN episode_number INTEGER;
