// Package throttle limits guessing: it counts failed attempts (a wrong
// date of birth, a wrong password, an unknown code) per target key and per
// client, locks either for a while after too many, and keeps the counts in
// central's store (a Storage: Bolt for central's bbolt file, central/pg for
// PostgreSQL) so that a restart of central unlocks nothing.
//
// Each Limiter counts on two scopes, each with its own Rule:
//
//   - Key: the thing guessed at — a receipt code, a kiosk id, an official
//     id, a pending verification. Its lock protects the target whoever
//     guesses.
//   - Client: who guesses — a network address, a kiosk. Its limit is set
//     lower than the key's, so that one client is locked before it can
//     lock a target for everyone else.
//
// Above both is a global ceiling (Options.Storm): when failures across
// every key come faster than it, clients that already failed are told to
// wait (ErrBusy) while clients that have not go on. Many addresses guessing
// together are slowed to one try each; a person who has not failed yet is
// never refused by it. The ceiling is a rate held in memory (a token
// bucket of golang.org/x/time/rate): a restart refills it, and nothing is
// locked by it.
//
// A Limiter also serves as a quota (count uses instead of failures): a Rule
// with no Lock locks until its window ends.
//
// Memory is bounded: a Limiter tracks at most Options.MaxEntries keys and
// clients together, in a map of fixed-size values (no allocation per
// entry). Entries expire when their window and lock have passed and are
// pruned when the table fills. When it is full of live entries, a key or
// client it does not track is refused (ErrBusy) rather than an old entry
// evicted: evicting would let someone unlock a target by flooding the table
// with new keys, whereas refusing only delays newcomers until entries
// expire, and the client limits make filling the table take many addresses.
//
// # Storage
//
// On bbolt (Bolt), one bucket, Bucket ("throttle"), shared by every Limiter
// of the file:
//
//	key:   name 0x00 scope id
//	         name  the Limiter's name ("receipt", "mqtt", …)
//	         scope 'k' (Key) or 'c' (Client)
//	         id    the first 16 bytes of HMAC-SHA256(Options.Secret, key):
//	               codes and addresses are not stored as they are
//	value: count uint32 | since int64 | until int64, big-endian
//	         count failures (or uses) in the window
//	         since Unix nanoseconds of the window's first failure
//	         until Unix nanoseconds the lock ends; 0 when not locked
//
// Every Count and Reset writes through in one transaction before it
// returns; Open loads the live entries of its name and deletes the dead.
package throttle
