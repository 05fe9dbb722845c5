package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
)

// The audit part of the store keeps the audit log. Its buckets, and what
// their keys and values hold:
var (
	bucketAudit = []byte("audit") // seq(8) → AuditEntry JSON
)

// auditPart creates them when the store opens.
var auditPart = part{"audit", [][]byte{
	bucketAudit}}

// The audit log records every consent change and every view of a person's
// data (a detail page, a receipt page), each entry chained to the one
// before by SHA-256: changing or removing an entry breaks every later
// hash, which VerifyAudit finds. Entries name people only by a keyed
// pseudonym, never by name or number.

var keyAuditHead = []byte("auditHead") // in meta: the last entry's hash

// pseudonym names a person in the audit log.
func (s *Store) pseudonym(ck []byte) string { return s.keys.Pseudonym(ck) }

// audit appends an entry in tx.
func (s *Store) audit(tx *bbolt.Tx, kind string, ck []byte, by, what string) error {
	e := allimi.AuditEntry{Kind: kind, By: by, What: what}
	if ck != nil {
		e.Person = s.pseudonym(ck)
	}
	return s.appendAudit(tx, e)
}

// auditBatch appends one entry for a batch's items: an entry of the
// classic form when there is one item, none when there is none.
func (s *Store) auditBatch(tx *bbolt.Tx, kind string, items []allimi.AuditItem) error {
	switch len(items) {
	case 0:
		return nil
	case 1:
		it := items[0]
		return s.appendAudit(tx, allimi.AuditEntry{Kind: kind, Person: it.Person, By: it.By, What: it.What})
	}
	return s.appendAudit(tx, allimi.AuditEntry{Kind: kind, Items: items})
}

// appendAudit numbers e, chains it to the head and stores it.
func (s *Store) appendAudit(tx *bbolt.Tx, e allimi.AuditEntry) error {
	b, meta := tx.Bucket(bucketAudit), tx.Bucket(bucketMeta)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq, e.At, e.Prev = seq, s.now().UTC(), string(meta.Get(keyAuditHead))
	e.Hash = e.Digest()
	v, _ := json.Marshal(e)
	b.FillPercent = 1 // append only
	if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
		return err
	}
	return meta.Put(keyAuditHead, []byte(e.Hash))
}

// AuditView records a view of a person's data in its own transaction.
func (s *Store) AuditView(kind string, ck []byte, what string) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return s.audit(tx, kind, ck, "web", what) })
}

// VerifyAudit walks the chain from the first entry.
func (s *Store) VerifyAudit() (allimi.AuditReport, error) {
	var r allimi.AuditReport
	err := s.db.View(func(tx *bbolt.Tx) error {
		prev := ""
		var want uint64 = 1
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e allimi.AuditEntry
			seq := binary.BigEndian.Uint64(k)
			switch {
			case json.Unmarshal(v, &e) != nil:
				r.Broken, r.Reason = seq, "not an entry"
			case seq != want || e.Seq != seq:
				r.Broken, r.Reason = want, fmt.Sprintf("entry %d missing", want)
			case e.Prev != prev:
				r.Broken, r.Reason = seq, "does not follow the entry before"
			case e.Digest() != e.Hash:
				r.Broken, r.Reason = seq, "changed after it was written"
			}
			if r.Broken != 0 {
				return nil
			}
			prev, want = e.Hash, want+1
			r.Entries++
		}
		r.Head = prev
		if head := string(tx.Bucket(bucketMeta).Get(keyAuditHead)); head != prev {
			r.Broken, r.Reason = want, "the last entries are missing"
		}
		return nil
	})
	if err == nil && r.Broken != 0 {
		err = fmt.Errorf("%w at entry %d: %s", allimi.ErrAuditBroken, r.Broken, r.Reason)
	}
	return r, err
}
