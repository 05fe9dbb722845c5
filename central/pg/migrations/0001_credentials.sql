-- The credentials of kiosks, agencies and officials (central/bolt's
-- credentials part): no secret in clear, only hashes.

-- Kiosks' broker logins: the bcrypt hash of the password (text, "$2a$…").
CREATE TABLE kiosks (
	id            text        PRIMARY KEY,
	username      text        NOT NULL,
	password_hash text        NOT NULL,
	created       timestamptz NOT NULL
);

-- One-time enrolment codes, by the SHA-256 of the normalised code
-- (XXXX-XXXX-XXXX); the kiosk need not be added before.
CREATE TABLE enrolments (
	code_hash bytea       PRIMARY KEY,
	kiosk     text        NOT NULL,
	expires   timestamptz NOT NULL,
	used      timestamptz
);

-- Agencies: the SHA-256 of the bearer token, and the policy (no types:
-- unrestricted).
CREATE TABLE agencies (
	id            text        PRIMARY KEY,
	token_hash    bytea       NOT NULL UNIQUE,
	created       timestamptz NOT NULL,
	types         text[]      NOT NULL DEFAULT '{}',
	payment_hosts text[]      NOT NULL DEFAULT '{}'
);

-- Officials: the SHA-256 of the token.
CREATE TABLE officials (
	id         text        PRIMARY KEY,
	token_hash bytea       NOT NULL UNIQUE,
	created    timestamptz NOT NULL
);

-- Officials' browser sessions, by the SHA-256 of the session id; a session
-- is live while the official's token is the one it started with.
CREATE TABLE official_sessions (
	id_hash    bytea       PRIMARY KEY,
	official   text        NOT NULL REFERENCES officials (id) ON DELETE CASCADE,
	token_hash bytea       NOT NULL,
	expires    timestamptz NOT NULL
);
CREATE INDEX official_sessions_expires ON official_sessions (expires);
