-- The notification types administrators put (allimi.TypeDef): every
-- version of each, its file as given.
CREATE TABLE type_defs (
	id      text        NOT NULL,
	version bigint      NOT NULL,
	file    bytea       NOT NULL,
	put     timestamptz NOT NULL,
	PRIMARY KEY (id, version)
);

-- An agency's name as people read it on the pages of its notices
-- (allimi.Agencies.SetAgencyName); '' until set.
ALTER TABLE agencies ADD COLUMN name text NOT NULL DEFAULT '';
