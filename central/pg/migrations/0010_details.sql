-- The detail pages (central/detail's Storage). Records and details are
-- stored as central/detail encodes and seals them; expiries are Unix
-- seconds.

-- Records of tokens issued with their detail (detail.Store's Issue and
-- IssueRef), by token number. The dispatcher's tokens have none: they are
-- answered from the recipients (by the index below) and the deliveries.
CREATE TABLE detail_records (
	seq     bigint PRIMARY KEY,
	expires bigint NOT NULL,
	record  bytea  NOT NULL
);
CREATE INDEX detail_records_expires ON detail_records (expires);

-- What every recipient of a notice sees (detail.Store's PutShared), by
-- the caller's key ("n" and the notification's id).
CREATE TABLE detail_shared (
	key     text   PRIMARY KEY,
	expires bigint NOT NULL,
	detail  bytea  NOT NULL
);

-- Wrong dates of birth per token since the last right one, and until when
-- the token is locked (0: not locked); expires is the token's, after
-- which the count is purged.
CREATE TABLE detail_attempts (
	seq          bigint   PRIMARY KEY,
	failures     smallint NOT NULL,
	locked_until bigint   NOT NULL,
	expires      bigint   NOT NULL
);
CREATE INDEX detail_attempts_expires ON detail_attempts (expires);

-- A page finds its recipient by token number. Not unique: a bbolt file
-- ported from a central that ran without links numbered each
-- notification's recipients from 1.
CREATE INDEX recipients_token ON recipients (token);
