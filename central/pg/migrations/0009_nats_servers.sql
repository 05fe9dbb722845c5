-- The NATS servers `allimi central nats-config --store` wrote a
-- configuration for: by server name, its client listener (central's
-- --uplink) and its MQTT listener, through which central publishes the
-- retained acks and catalogs kiosks read when they connect (a retained
-- MQTT message cannot be made by a NATS publish).
CREATE TABLE nats_servers (
	name       text PRIMARY KEY,
	listen     text NOT NULL,
	mqtt       text NOT NULL,
	written_at timestamptz NOT NULL DEFAULT now()
);
