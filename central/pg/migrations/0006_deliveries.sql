-- The dispatcher's side of central (central/bolt's notifications and
-- deliveries parts): agencies' notifications and their recipients, each
-- delivery's record, the due queue, dead letters, early receipts,
-- send-intents, the durable send queues' intents and the delivery
-- statistics. Channels are named as allimi.Channel names them; times the
-- dispatcher keeps in unix milliseconds are bigint (_ms).

-- Notifications (allimi.Notification as JSON). active: expanding or
-- sending. An agency's Idempotency-Key names one notification.
CREATE TABLE notifications (
	id       bigserial PRIMARY KEY,
	agency   text      NOT NULL,
	idem_key text,
	active   boolean   NOT NULL,
	body     jsonb     NOT NULL,
	UNIQUE (agency, idem_key)
);
CREATE INDEX notifications_active ON notifications (id) WHERE active;

-- A notification's recipients, numbered from 1: the person (citizens.ck),
-- the channels they consented to (allimi.ChannelBit), the number of their
-- detail page's token, and their own parameters (NULL: none).
CREATE TABLE recipients (
	notification bigint   NOT NULL,
	seq          integer  NOT NULL,
	ck           bytea    NOT NULL,
	mask         smallint NOT NULL,
	token        bigint   NOT NULL,
	params       jsonb,
	PRIMARY KEY (notification, seq)
);
CREATE SEQUENCE detail_tokens;

-- Each delivery's record (allimi.DeliveryRecord); none while queued.
CREATE TABLE deliveries (
	notification bigint   NOT NULL,
	seq          integer  NOT NULL,
	channel      text     NOT NULL,
	state        smallint NOT NULL,
	attempts     smallint NOT NULL,
	flags        smallint NOT NULL,
	first_ms     bigint   NOT NULL,
	updated_ms   bigint   NOT NULL,
	reason       text     NOT NULL,
	PRIMARY KEY (notification, seq, channel)
);

-- The due queue: retries, fallbacks and replayed dead letters, per
-- channel in time order.
CREATE TABLE due (
	channel      text     NOT NULL,
	at_ms        bigint   NOT NULL,
	notification bigint   NOT NULL,
	seq          integer  NOT NULL,
	flags        smallint NOT NULL,
	PRIMARY KEY (channel, at_ms, notification, seq)
);

-- Dead letters (allimi.DeadLetter as JSON).
CREATE TABLE dead_letters (
	notification bigint  NOT NULL,
	seq          integer NOT NULL,
	channel      text    NOT NULL,
	body         jsonb   NOT NULL,
	PRIMARY KEY (notification, seq, channel)
);

-- Receipts that came ahead of their acceptance (allimi.ProviderReceipt as
-- JSON).
CREATE TABLE early_receipts (
	notification bigint  NOT NULL,
	seq          integer NOT NULL,
	channel      text    NOT NULL,
	body         jsonb   NOT NULL,
	PRIMARY KEY (notification, seq, channel)
);

-- Send-intents (allimi.SendIntent): a request perhaps handed to a
-- provider. grp is the uint64 group as its two's-complement bigint.
CREATE TABLE send_intents (
	channel      text     NOT NULL,
	notification bigint   NOT NULL,
	seq          integer  NOT NULL,
	at_ms        bigint   NOT NULL,
	grp          bigint   NOT NULL,
	flags        smallint NOT NULL,
	fresh        boolean  NOT NULL,
	PRIMARY KEY (channel, notification, seq)
);

-- The durable send queues' intents (allimi.QueueIntent), by channel and
-- message key.
CREATE TABLE queue_intents (
	channel text   NOT NULL,
	key     text   NOT NULL,
	at_ms   bigint NOT NULL,
	grp     bigint NOT NULL,
	PRIMARY KEY (channel, key)
);

-- What happened to messages, per type, channel and outcome (the
-- subscribers of DeliveryStats come from active_grants).
CREATE TABLE delivery_stats (
	type    text   NOT NULL,
	channel text   NOT NULL,
	outcome text   NOT NULL,
	n       bigint NOT NULL,
	PRIMARY KEY (type, channel, outcome)
);
