// Package notify sends agencies' notifications to people's phones. The
// dispatcher runs one lane per channel: it reads due retries and fresh
// recipients (lane.go), renders each message within its channel's limits
// (render.go), sends it through the provider's adapter (send.go) and
// records the outcome — acceptance, retry with backoff, fallback to SMS,
// dead letter, expiry (record.go) — and later the providers' delivery
// receipts (receipts.go). Send-intents make a message go out once across
// crashes (sendintents.go; SendOnce does the same for central's durable
// send queues). Non-urgent notices wait out the quiet hours
// (quiethours.go).
//
// It keeps its state through allimi.Notifications and
// allimi.DeliveryQueue, so it runs on any store that implements them
// (central/bolt, and central/memstore in its tests).
//
// The Confirmer tells the owner of a number signed up without
// verification, by SMS; it and the sender of officials' answers
// (central/questions) run on a Queue, each message sent once (SendOnce).
package notify
