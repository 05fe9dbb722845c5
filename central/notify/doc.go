// Package notify sends agencies' notifications to people's phones: the
// dispatcher's lane per channel reads due retries and fresh recipients,
// renders each message within its channel's limits, sends it through the
// provider's adapter and records the outcome — acceptance, retry with
// backoff, fallback to SMS, dead letter, expiry — and the providers'
// delivery receipts. Send-intents make a message go out once across
// crashes. It keeps its state through allimi.Notifications and
// allimi.DeliveryQueue, so it runs on any store that implements them.
package notify
