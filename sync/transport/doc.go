// Package transport is how a kiosk and central connect to an MQTT broker:
// the client options both sides share (a persistent session, manual
// acknowledgement, reconnection with backoff) and the TLS configuration of
// a kiosk's connection.
package transport
