-- The notification types administrators put (allimi.TypeDef): every
-- version of each, its file as given.
CREATE TABLE type_defs (
	id      text        NOT NULL,
	version bigint      NOT NULL,
	file    bytea       NOT NULL,
	put     timestamptz NOT NULL,
	PRIMARY KEY (id, version)
);
