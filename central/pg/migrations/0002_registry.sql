-- The registry (central/bolt's registry part): what kiosks record, the
-- people and consents it changes, conflicts between kiosks, receipts,
-- confirmations to send, refusals, counters and feedback; and the audit
-- log, which every change of a person's data appends to. People are kept
-- under central's keyed hash of mobile number and birth date (ck); their
-- name and number only sealed (keyring.SealCitizen).

-- Every kiosk record stored, once: (kiosk, seq), sealed under that key.
CREATE TABLE events (
	kiosk  text   NOT NULL,
	seq    bigint NOT NULL,
	sealed bytea  NOT NULL,
	PRIMARY KEY (kiosk, seq)
);

-- Each kiosk's high-water mark: every record up to it is stored.
CREATE TABLE kiosk_hw (
	kiosk text   PRIMARY KEY,
	hw    bigint NOT NULL
);

CREATE TABLE citizens (
	ck       bytea       PRIMARY KEY,
	pii      bytea       NOT NULL,
	verified boolean     NOT NULL,
	active   integer     NOT NULL, -- active grants
	created  timestamptz NOT NULL,
	updated  timestamptz NOT NULL
);

-- A person's consent per type and channel: the change that won
-- (allimi.ConsentState).
CREATE TABLE consents (
	ck          bytea       NOT NULL,
	type        text        NOT NULL,
	channel     text        NOT NULL,
	action      text        NOT NULL,
	hlc         bigint      NOT NULL,
	kiosk       text        NOT NULL,
	seq         bigint      NOT NULL,
	by_kind     text        NOT NULL,
	by_official text        NOT NULL,
	by_method   text        NOT NULL,
	at          timestamptz NOT NULL,
	PRIMARY KEY (ck, type, channel)
);
-- Campaigns read the people with an active grant of a type.
CREATE INDEX consents_granted ON consents (type, ck) WHERE action = 'grant';

-- Every change as the record carried it, in clock order per person,
-- without personal data (the JSON of an allimi.ConsentPayload's consents
-- and verified flag).
CREATE TABLE consent_log (
	ck    bytea  NOT NULL,
	hlc   bigint NOT NULL,
	kiosk text   NOT NULL,
	seq   bigint NOT NULL,
	entry bytea  NOT NULL,
	PRIMARY KEY (ck, hlc, kiosk, seq)
);

-- Conflicts (allimi.Conflict as JSON, its person apart).
CREATE TABLE conflicts (
	id       bigserial PRIMARY KEY,
	ck       bytea     NOT NULL,
	body     bytea     NOT NULL,
	resolved boolean   NOT NULL DEFAULT false
);
CREATE INDEX conflicts_open ON conflicts (id) WHERE NOT resolved;

-- Receipt codes, by keyed hash (keyring.CodeIndex), and the sign-up each
-- opens: the person, the record's clock and kiosk.
CREATE TABLE receipts (
	code_key bytea  PRIMARY KEY,
	ck       bytea  NOT NULL,
	hlc      bigint NOT NULL,
	kiosk    text   NOT NULL
);

-- Sign-ups made without a verified number, until their owners are told.
CREATE TABLE confirmations (
	key bytea       PRIMARY KEY, -- the record's kiosk 0x00 seq
	ck  bytea       NOT NULL,
	at  timestamptz NOT NULL
);

-- Refused records (the latest 10,000; the counter keeps counting).
CREATE TABLE rejections (
	id     bigserial   PRIMARY KEY,
	at     timestamptz NOT NULL,
	kiosk  text        NOT NULL,
	reason text        NOT NULL
);

CREATE TABLE registry_counters (
	name text   PRIMARY KEY,
	n    bigint NOT NULL
);
INSERT INTO registry_counters (name, n) VALUES ('stored', 0), ('duplicates', 0), ('rejected', 0), ('subscribers', 0);

-- Active grants per type and channel.
CREATE TABLE active_grants (
	type    text   NOT NULL,
	channel text   NOT NULL,
	n       bigint NOT NULL,
	PRIMARY KEY (type, channel)
);

-- What people said of knowledge-base entries.
CREATE TABLE feedback (
	entry       text   PRIMARY KEY,
	helpful     bigint NOT NULL,
	not_helpful bigint NOT NULL
);

-- The new-benefits conditions of people granting new-benefits, sealed.
CREATE TABLE profiles (
	ck     bytea PRIMARY KEY,
	sealed bytea NOT NULL
);

-- The audit log: a hash chain (allimi.AuditEntry as JSON). audit_head,
-- one row, is the chain's end; every append locks it, so that entries
-- chain in one order however many processes write.
CREATE TABLE audit (
	seq   bigint PRIMARY KEY,
	entry bytea  NOT NULL
);
CREATE TABLE audit_head (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq  bigint  NOT NULL,
	hash text    NOT NULL
);
INSERT INTO audit_head (one, seq, hash) VALUES (true, 0, '');
