-- Users and their refresh-token families (user-identity service database).

CREATE TABLE users (
    id UUID PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    username VARCHAR(30) NOT NULL,
    password_hash TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    -- SHA-256 (hex) of the emailed tokens; the tokens themselves are never stored.
    email_verification_token_hash TEXT,
    email_verification_expires TIMESTAMPTZ,
    password_reset_token_hash TEXT,
    password_reset_expires TIMESTAMPTZ,
    last_login TIMESTAMPTZ,
    login_count INTEGER NOT NULL DEFAULT 0,
    preferences JSONB NOT NULL DEFAULT '{
        "notifications": {"email": true, "push": false, "newEpisodes": true, "weeklyDigest": false},
        "privacy": {"profileVisibility": "private", "shareWatchHistory": false},
        "discovery": {"showSpoilers": false, "includeAdult": false, "preferredLanguages": ["en"]},
        "ui": {"theme": "system", "language": "en"}
    }'::jsonb,
    subscription_tier TEXT NOT NULL DEFAULT 'free' CHECK (subscription_tier IN ('free', 'premium', 'family')),
    subscription_expires TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_email_verification_idx ON users (email_verification_token_hash)
    WHERE email_verification_token_hash IS NOT NULL;
CREATE INDEX users_password_reset_idx ON users (password_reset_token_hash) WHERE password_reset_token_hash IS NOT NULL;

CREATE TABLE refresh_tokens (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id UUID NOT NULL,
    -- SHA-256 of the opaque token; the token itself is never stored.
    token_hash BYTEA NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
