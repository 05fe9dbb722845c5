-- Questions kiosks could not answer (central/bolt's questions part): their
-- audio chunks until the question arrives, the questions (sealed as JSON:
-- what a person asks may say as much about them as their number), the
-- codes on their slips (by keyed hash), their recordings until the
-- retention policy deletes them, and the answers still to send.

-- A question's audio chunks, until it arrives: idx 4294967295 marks that
-- one arrived twice. received is when, in ms since 1970.
CREATE TABLE question_chunks (
	kiosk    text   NOT NULL,
	code     text   NOT NULL,
	idx      bigint NOT NULL,
	received bigint NOT NULL,
	sealed   bytea,
	PRIMARY KEY (kiosk, code, idx)
);

CREATE TABLE questions (
	id       bigserial PRIMARY KEY,
	answered boolean   NOT NULL DEFAULT false,
	sealed   bytea     NOT NULL
);

CREATE TABLE question_codes (
	code_key bytea  PRIMARY KEY,
	id       bigint NOT NULL REFERENCES questions (id)
);

CREATE TABLE question_audio (
	id     bigint PRIMARY KEY REFERENCES questions (id),
	sealed bytea  NOT NULL
);

-- Answers still to send on the person's channel.
CREATE TABLE question_send (
	id bigint PRIMARY KEY REFERENCES questions (id)
);
