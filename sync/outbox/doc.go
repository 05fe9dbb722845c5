// Package outbox is the kiosk's durable queue of records for central: each
// sign-up, consent change, "was this helpful?" answer and question is
// appended (Outbox.Append) in the bbolt transaction that tells the person
// "saved", stays in the kiosk's file (OpenDB) until central acknowledges
// it (Outbox.Ack), and is then deleted, its bytes overwritten on the file's
// free pages. Records are stored as they go on the wire (allimi/sync/wire):
// outboxes already on kiosks' disks keep being read as they were written.
package outbox
