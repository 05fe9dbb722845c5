// Package wire is what a kiosk and central say to each other over MQTT, and
// where: the topic layout (up, ack, req, reply), the event central acks and
// the ack itself, the requests a kiosk asks central and their replies, and
// the decoders central and kiosks apply to what arrives.
//
// The contract, end to end: a kiosk appends an event to its outbox (package
// allimi/sync/outbox) in the same bbolt transaction that tells the person
// "saved"; it publishes the event (QoS 1) on UpTopic; central stores it
// idempotently by (kiosk, seq) and only then publishes, on AckTopic, the
// highest sequence number up to which it holds every record; the kiosk
// deletes up to there. A broker's PUBACK only means the broker has the
// message, never that central does.
//
// The package imports nothing of the project but the domain (allimi): both
// sides, and the other packages under sync/, build on it.
package wire
