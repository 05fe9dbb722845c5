-- The catalogs central publishes to kiosks (central/bolt's catalogs part):
-- each one's signed manifest (sync/catalog.Manifest as JSON) and body.
CREATE TABLE catalogs (
	name     text   PRIMARY KEY,
	version  bigint NOT NULL,
	manifest bytea  NOT NULL,
	body     bytea  NOT NULL
);
