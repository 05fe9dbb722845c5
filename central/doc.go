// Package central is Allimi's central service: the MQTT broker (embedded
// mochi-mqtt or an external one), the ingest of kiosk events into the
// registry of citizens and consents, signed catalog publication, and the
// HTTP API.
package central
