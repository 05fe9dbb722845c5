// Package storetest holds the conformance suites every storage backend of
// central passes: one exported function per storage interface of package
// allimi, written once from the interfaces' documentation and the domain
// types, and called from each backend's own tests (central/bolt;
// central/pg for the interfaces it implements so far, which is why the
// credentials', Notifications' and Deliveries' suites take any store with
// what they call;
// and central/memstore for the dispatcher's side, DeliveryQueue and
// QueueIntents, which take the smaller DeliveryBackend). Central's own
// storage interfaces have suites too, generic over the backend so that it
// gives only what they need: Throttle (throttle.Storage), Catalogs and
// Benefits, Details (detail.Storage) and DetailLinks (a store's delivery
// links open on its detail pages), and Languages (a person's language,
// kept by the registry, read by the dispatcher). A second backend
// is a matter of passing them, as a file system is of passing
// testing/fstest.TestFS.
//
// The suites are black-box: they reach a backend only through the
// interfaces, set things up the way central does (kiosk events committed
// to the Registry, requests validated by the domain types), and check
// what a caller sees, including what must be refused and with which
// error. Each test opens a fresh, empty store. A DeliveryBackend, which
// may have no registry, is given its subscribers by its harness (Seed).
package storetest
