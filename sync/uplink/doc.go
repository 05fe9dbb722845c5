// Package uplink is a kiosk's link to central over MQTT: the Sender
// publishes the kiosk's outbox (allimi/sync/outbox) on its up topic, at
// most a window of records ahead of central's ack, resends what central has
// not acknowledged, deletes what it has, and hands the signed catalogs
// central publishes to a catalog.Store; Central asks central the questions
// that need an answer now (verification codes, consent conflicts, answers
// to people's questions) over the same connection.
//
// The broker gets its PUBACK for an ack or a catalog only once what the
// message carries is committed to the kiosk's file.
package uplink
