// Package channel sends rendered notifications to the messenger and SMS
// providers, one Adapter per channel: KakaoTalk AlimTalk through NHN Cloud,
// failing over to Naver Cloud SENS AlimTalk while NHN is down
// (failover.go), a notice in the Naver app, Toss push and NHN Cloud SMS/LMS.
// Each provider's adapter speaks its published HTTP shape, or for the Naver
// app and Toss, which publish none, an assumed webhook (the shape and its
// source are described at the top of kakao.go, sens.go, naver.go, sms.go and
// toss.go).
//
// The providers cannot be reached from a development machine, so the package
// also holds Fake: one HTTP server that speaks all five shapes, checks
// credentials and signatures, deduplicates by idempotency key, can be told to
// be slow, fail, rate-limit or lose users, posts delivery receipts to
// central's webhook, and shows each phone's inbox for the demo
// (`allimi fake-providers`).
//
// The dispatcher sees only Adapter.Send: one batch in, one Result per message
// out, or a whole-batch error (*RateLimitedError, *UnavailableError,
// *ProviderError).
package channel
