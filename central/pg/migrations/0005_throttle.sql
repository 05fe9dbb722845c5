-- The counts of central's attempt limiters (central/throttle): per limiter
-- name, the keyed id of a key or client, its failures (or uses) in the
-- window, and the window's start and the lock's end in Unix nanoseconds.
CREATE TABLE throttle_counts (
	name  text   NOT NULL,
	id    bytea  NOT NULL,
	n     bigint NOT NULL,
	since bigint NOT NULL,
	until bigint NOT NULL,
	PRIMARY KEY (name, id)
);
