-- Several centrals send at once (pg.Store.Share, pg.Slot): a
-- notification's recipients are dealt, 1,000 consecutive ones at a time,
-- to 8 send slots (slot = (notification + (seq - 1) / 1000) % 8), each
-- leased by one central at a time (leases, named send/0 to send/7).
-- slot_progress is each slot's progress per channel: the last recipient
-- sequence number it has handed over (allimi.Notification.Progress, one
-- slot's share); a notification is done when every slot has been through
-- every recipient on every channel.
CREATE TABLE slot_progress (
	notification bigint   NOT NULL,
	slot         smallint NOT NULL,
	channel      text     NOT NULL,
	seq          integer  NOT NULL,
	PRIMARY KEY (notification, slot, channel)
);

-- Each slot counts its deliveries in rows of its own (part: the slot, -1
-- for what is counted outside the slots, such as receipts), so that the
-- slots' transactions never wait for one another on a shared counter.
ALTER TABLE delivery_stats ADD COLUMN part smallint NOT NULL DEFAULT -1;
ALTER TABLE delivery_stats DROP CONSTRAINT delivery_stats_pkey;
ALTER TABLE delivery_stats ADD PRIMARY KEY (type, channel, outcome, part);

-- Providers' rate limits for the whole cluster: one token bucket per
-- channel (pg.Store.TakeTokens), the tokens there were at "at" (below
-- zero: taken ahead, the takers wait for them).
CREATE TABLE rate_buckets (
	channel text             PRIMARY KEY,
	tokens  double precision NOT NULL,
	at      timestamptz      NOT NULL
);

-- Notifications being sent when this migration runs were sent in order
-- by one central: what it handed over, each slot has.
INSERT INTO slot_progress (notification, slot, channel, seq)
SELECT n.id, s.slot, pr.key, pr.value::integer
FROM notifications n CROSS JOIN generate_series(0, 7) AS s(slot)
	CROSS JOIN LATERAL jsonb_each_text(COALESCE(n.body->'progress', '{}'::jsonb)) AS pr
WHERE n.active;
