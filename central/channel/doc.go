// Package channel sends rendered notifications to the messenger and SMS
// providers — KakaoTalk AlimTalk through NHN Cloud, Naver Cloud SENS, Toss
// push and NHN Cloud SMS/LMS — one Adapter per provider, each speaking the
// provider's published HTTP shape (the shape and its source are described at
// the top of kakao.go, naver.go, sms.go and toss.go).
//
// The providers cannot be reached from a development machine, so the package
// also holds Fake: one HTTP server that speaks all four shapes, checks
// credentials and signatures, deduplicates by idempotency key, can be told to
// be slow, fail, rate-limit or lose users, posts delivery receipts to
// central's webhook, and shows each phone's inbox for the demo
// (`allimi fake-providers`).
//
// The dispatcher sees only Adapter.Send: one batch in, one Result per message
// out, or a whole-batch error (*RateLimitedError, *UnavailableError,
// *ProviderError).
package channel
