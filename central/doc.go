// Package central is Allimi's central service, as wiring: it reads the
// configuration, opens the store (central/bolt), starts the MQTT broker
// (embedded mochi-mqtt with its limits, or an external one), ingests kiosk
// records into the registry, publishes signed catalogs, and starts the
// notifications' dispatcher (central/notify), the senders of confirmations
// and answers, and the HTTP side (central/api).
package central
