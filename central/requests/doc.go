// Package requests answers what kiosks ask central over MQTT and need an
// answer to at once (sync/wire's Request and Reply): send a verification
// code by SMS and check it, list the consent conflicts a kiosk's officials
// may settle and settle one, and look up the answer to a question by its
// receipt code. Codes are limited per kiosk and per number, and SMS per
// kiosk per hour and day.
package requests
