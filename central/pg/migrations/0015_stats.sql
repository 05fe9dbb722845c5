-- Statistics as the ministry reads them (allimi.DeliveryReports,
-- allimi.SubscriberReports, allimi.KioskRegions).

-- Where each kiosk stands, "시도" or "시도/시군구" (canonical, as
-- subsidy.CanonicalRegion writes it); '' for none.
ALTER TABLE kiosks ADD COLUMN region text NOT NULL DEFAULT '';

-- The region of the kiosk of each person's last sign-up ('' for none):
-- the dispatcher reads it with the person (allimi.Outgoing.Region).
ALTER TABLE citizens ADD COLUMN region text NOT NULL DEFAULT '';

-- The dated delivery statistics (allimi.DeliveryCell): per KST day,
-- region, type, channel and outcome; part is the send slot that wrote
-- the row (-1: the whole store), as in delivery_stats.
CREATE TABLE delivery_daily (
	day     date     NOT NULL,
	region  text     NOT NULL,
	type    text     NOT NULL,
	channel text     NOT NULL,
	outcome text     NOT NULL,
	part    smallint NOT NULL,
	n       bigint   NOT NULL,
	PRIMARY KEY (day, region, type, channel, outcome, part)
);

-- People with at least one active grant on each channel, counted once
-- here from the consents and kept by every change after.
INSERT INTO registry_counters (name, n)
SELECT 'people:' || ch, (SELECT count(DISTINCT ck) FROM consents WHERE channel = ch AND action = 'grant')
FROM unnest(ARRAY['kakao', 'naver', 'toss', 'sms']) AS ch
ON CONFLICT (name) DO NOTHING;
