-- Who was told of which Subsidy 24 service turning eligible for them, and
-- at which catalog version (central/bolt's benefit-notified bucket): the
-- next catalog tells them only of more.
CREATE TABLE benefit_notified (
	ck      bytea  NOT NULL,
	service text   NOT NULL,
	version bigint NOT NULL,
	PRIMARY KEY (ck, service)
);
