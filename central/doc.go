// Package central is Allimi's central service: the MQTT broker (embedded
// mochi-mqtt or an external one), the ingest of kiosk events into the
// registry of citizens and consents, signed catalog publication, and the
// HTTP API; it wires the parts below it, among them the store
// (central/bolt) and the notifications' dispatcher (central/notify).
package central
