// Package api is central's HTTP side: the API agencies, officials, kiosks
// being enrolled and providers' receipts call, and the pages people
// (receipts) and officials (questions, sign-in) open — with the limits,
// timeouts, headers and sessions that guard them. Its handlers call the
// stores and services central gives it (Server); none reaches into the
// dispatcher or the broker.
package api
