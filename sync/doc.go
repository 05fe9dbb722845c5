// Package sync moves records between a kiosk and central over MQTT without
// losing or duplicating any: the wire messages and topics, the kiosk's bbolt
// outbox, the kiosk's MQTT sender, and signed catalog publication and
// verification.
//
// The contract, end to end: a kiosk appends an event to its outbox in the same
// bbolt transaction that tells the person "saved"; it publishes the event
// (QoS 1) on its up topic; central stores it idempotently by (kiosk, seq) and
// only then publishes, on the kiosk's ack topic, the highest sequence number
// up to which it holds every record; the kiosk deletes up to there. A broker's
// PUBACK only means the broker has the message, never that central does.
package sync
