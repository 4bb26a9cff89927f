-- Alternate titles of the catalogue's titles (IMDb title.akas): what a title is called elsewhere ("Das Boot",
-- "Le Fabuleux Destin d'Amélie Poulain"), searchable beside its title and original title. Ratings need no
-- table: they go to content.rating and content.vote_count (0001).
-- Idempotent: every statement can run again on a database that already has it.

CREATE TABLE IF NOT EXISTS content_akas (
    content_id  UUID NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    -- IMDb's number of the aka within its title; with the title, the natural key of an import.
    ordering    INTEGER NOT NULL CHECK (ordering > 0),
    title       VARCHAR(500) NOT NULL CHECK (length(trim(title)) > 0),
    -- IMDb region ("DE", "XWW") and language ("de") codes; NULL when the source has none.
    region      VARCHAR(20),
    language    VARCHAR(20),
    -- IMDb's types of the aka: imdbDisplay, original, alternative, working, festival, dvd, tv, video.
    types       TEXT[] NOT NULL DEFAULT '{}',
    is_original BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Also the index of a title's akas (content_id first) for the search documents.
    PRIMARY KEY (content_id, ordering)
);
