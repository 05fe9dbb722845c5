// Package ingest takes kiosk records off the broker and stores them: a
// fair queue per kiosk that never makes the broker wait, batches committed
// to the allimi.Registry as they arrive, the broker acknowledged only after
// the commit, the kiosks' high-water marks published on their ack topics,
// and the health central reports while it cannot store. It also hands
// kiosks' requests to central/requests.
package ingest
