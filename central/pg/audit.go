package pg

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// The audit log is a hash chain (allimi.AuditEntry): each entry carries
// the digest of the one before. audit_head holds the chain's end; an
// append locks it, so that entries chain in one order however many
// central processes write, and an append is the last thing a transaction
// does, so that the lock is held only until it commits.

// audit appends an entry in tx.
func (s *Store) audit(ctx context.Context, tx pgx.Tx, kind string, ck []byte, by, what string) error {
	e := allimi.AuditEntry{Kind: kind, By: by, What: what}
	if ck != nil {
		e.Person = s.keys.Pseudonym(ck)
	}
	return s.appendAudit(ctx, tx, e)
}

// auditBatch appends one entry for a batch's items: an entry of the
// classic form when there is one item, none when there is none.
func (s *Store) auditBatch(ctx context.Context, tx pgx.Tx, kind string, items []allimi.AuditItem) error {
	switch len(items) {
	case 0:
		return nil
	case 1:
		it := items[0]
		return s.appendAudit(ctx, tx, allimi.AuditEntry{Kind: kind, Person: it.Person, By: it.By, What: it.What})
	}
	return s.appendAudit(ctx, tx, allimi.AuditEntry{Kind: kind, Items: items})
}

// appendAudit numbers e, chains it to the head and stores it.
func (s *Store) appendAudit(ctx context.Context, tx pgx.Tx, e allimi.AuditEntry) error {
	var seq int64
	var head string
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head FOR UPDATE`).Scan(&seq, &head); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	e.Seq, e.At, e.Prev = uint64(seq+1), s.now().UTC(), head
	e.Hash = e.Digest()
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit (seq, entry) VALUES ($1, $2)`, seq+1, v); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2`, seq+1, e.Hash)
	return err
}

// AuditView records a view of a person's data in its own transaction.
func (s *Store) AuditView(kind string, ck []byte, what string) error {
	return s.inTx(func(ctx context.Context, tx pgx.Tx) error { return s.audit(ctx, tx, kind, ck, "web", what) })
}

// VerifyAudit walks the chain from the first entry.
func (s *Store) VerifyAudit() (allimi.AuditReport, error) {
	var r allimi.AuditReport
	ctx := s.ctx()
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		r, err = verifyAuditIn(ctx, tx)
		return err
	})
	if err == nil && r.Broken != 0 {
		err = fmt.Errorf("%w at entry %d: %s", allimi.ErrAuditBroken, r.Broken, r.Reason)
	}
	return r, err
}

// verifyAuditIn walks the chain in tx; a break is in the report, not an
// error.
func verifyAuditIn(ctx context.Context, tx pgx.Tx) (allimi.AuditReport, error) {
	var r allimi.AuditReport
	err := func() error {
		rows, err := tx.Query(ctx, `SELECT seq, entry FROM audit ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prev := ""
		var want uint64 = 1
		for rows.Next() {
			var seq int64
			var v []byte
			if err := rows.Scan(&seq, &v); err != nil {
				return err
			}
			var e allimi.AuditEntry
			switch {
			case json.Unmarshal(v, &e) != nil:
				r.Broken, r.Reason = uint64(seq), "not an entry"
			case uint64(seq) != want || e.Seq != uint64(seq):
				r.Broken, r.Reason = want, fmt.Sprintf("entry %d missing", want)
			case e.Prev != prev:
				r.Broken, r.Reason = uint64(seq), "does not follow the entry before"
			case e.Digest() != e.Hash:
				r.Broken, r.Reason = uint64(seq), "changed after it was written"
			}
			if r.Broken != 0 {
				return nil
			}
			prev, want = e.Hash, want+1
			r.Entries++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		r.Head = prev
		var head string
		if err := tx.QueryRow(ctx, `SELECT hash FROM audit_head`).Scan(&head); err != nil {
			return err
		}
		if head != prev {
			r.Broken, r.Reason = want, "the last entries are missing"
		}
		return nil
	}()
	return r, err
}
