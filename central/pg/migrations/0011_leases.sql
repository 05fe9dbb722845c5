-- The leases of the jobs one central at a time runs (pg.Store.Lead): who
-- holds it, until when, and its fence, which counts the leaderships; a
-- write under an older fence is refused.
CREATE TABLE leases (
	name    text        PRIMARY KEY,
	owner   text        NOT NULL,
	fence   bigint      NOT NULL,
	expires timestamptz NOT NULL
);
