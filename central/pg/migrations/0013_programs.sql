-- People's enrolments in programs of notifications (allimi.Enrolment, as
-- JSON), with the agency's Idempotency-Key that made each.
CREATE TABLE program_enrolments (
	id       text  PRIMARY KEY,
	agency   text  NOT NULL,
	idem_key text,
	body     jsonb NOT NULL,
	UNIQUE (agency, idem_key)
);

-- The steps to act on, by due time (allimi.EnrolmentStep.DueAt): kept with
-- the enrolment's row in every write.
CREATE TABLE program_due (
	at_ms     bigint NOT NULL,
	enrolment text   NOT NULL,
	step      text   NOT NULL,
	PRIMARY KEY (at_ms, enrolment, step)
);
CREATE INDEX program_due_enrolment ON program_due (enrolment);
