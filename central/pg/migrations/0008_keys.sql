-- Which keys.json the database is written under: a keyed hash of a fixed
-- text under central's hash key (never a key itself). Every central on the
-- database must hold the same keys.json, or what one seals the others
-- cannot open; Open compares and refuses another keys.json.
CREATE TABLE keys_check (
	one   boolean PRIMARY KEY DEFAULT true CHECK (one),
	check_value bytea NOT NULL
);
