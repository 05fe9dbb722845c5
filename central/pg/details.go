package pg

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/central/detail"
	"allimi/central/throttle"
)

// The Store keeps the detail pages' data (detail.Storage, migration
// 0010_details): the records of tokens issued with their detail, the shared
// details, and each token's wrong tries. The dispatcher's tokens have no
// record: Resolve answers for them from the recipients and their
// deliveries, as central/bolt's ResolveToken does, with the same keys (the
// same links open on either store). OpenDetails makes the store serve
// pages.

// OpenDetails makes the store serve detail pages at base, the address
// phones reach (detail.Options.BaseURL): its notifications store their
// shared detail, its recipients' token numbers are reserved through the
// returned Store, and its links (DetailLink) open on that Store's Handler,
// whose views are audited. clients, when not nil, limits wrong dates of
// birth per address across links (throttle.Limits.Detail). Call it once,
// after Open and before the store is used; it needs central's keys
// (WithKeys).
func (s *Store) OpenDetails(base string, clients *throttle.Limiter) (*detail.Store, error) {
	if s.keys == nil {
		return nil, fmt.Errorf("detail pages: %w", errNoKeys)
	}
	d, err := detail.NewStore(s, s.keys.Derive("detail pages"), detail.Options{BaseURL: base, OnView: s.auditDetailView,
		Clients: clients, Now: s.now, Logger: s.log})
	if err != nil {
		return nil, err
	}
	s.details = d
	return d, nil
}

// ViewDetails implements detail.Storage: f reads one snapshot.
func (s *Store) ViewDetails(f func(detail.Tx) error) error {
	ctx := s.ctx()
	return s.snapshot(ctx, func(tx pgx.Tx) error { return f(&detailTx{s: s, ctx: ctx, tx: tx}) })
}

// UpdateDetails implements detail.Storage: f runs in a SERIALIZABLE
// transaction, again when it conflicts with another (two wrong tries of
// one token at once both count).
func (s *Store) UpdateDetails(f func(detail.Tx) error) error {
	ctx := s.ctx()
	return s.serial(ctx, func(tx pgx.Tx) error { return f(&detailTx{s: s, ctx: ctx, tx: tx}) })
}

// PurgeDetails implements detail.Storage: the records, tries and shared
// details that expired at or before now.
func (s *Store) PurgeDetails(now time.Time) (int, error) {
	n := 0
	err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM detail_records WHERE expires <= $1`, now.Unix())
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `DELETE FROM detail_attempts WHERE expires <= $1`, now.Unix()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM detail_shared WHERE expires <= $1`, now.Unix())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge detail pages: %w", err)
	}
	return n, nil
}

// detailWriter is tx as a detail.Writer, for the notifications' own
// transactions.
func (s *Store) detailWriter(ctx context.Context, tx pgx.Tx) detail.Writer {
	return &detailTx{s: s, ctx: ctx, tx: tx}
}

// detailTx is a transaction as central/detail uses it.
type detailTx struct {
	s   *Store
	ctx context.Context
	tx  pgx.Tx
}

// detailTokensLock is the advisory lock that makes a reservation of token
// numbers one range: it is held from the reservation to the end of the
// transaction, by notifications' creations and campaigns' expansion steps.
const detailTokensLock = 0x616c6c696d690064 // "allimi", 0, 'd'

// reserveTokens sets aside n numbers of the detail_tokens sequence, base+1
// to base+n.
func reserveTokens(ctx context.Context, tx pgx.Tx, n uint64) (uint64, error) {
	if n == 0 {
		return 0, nil
	}
	// Under the lock, setval moves the sequence past the range before
	// anyone else may take a number.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(detailTokensLock)); err != nil {
		return 0, fmt.Errorf("reserve %d detail tokens: %w", n, err)
	}
	var last int64
	if err := tx.QueryRow(ctx, `SELECT setval('detail_tokens', nextval('detail_tokens') + $1 - 1)`, int64(n)).Scan(&last); err != nil {
		return 0, fmt.Errorf("reserve %d detail tokens: %w", n, err)
	}
	return uint64(last) - n, nil
}

func (t *detailTx) ReserveTokens(n uint64) (uint64, error) { return reserveTokens(t.ctx, t.tx, n) }

func (t *detailTx) PutRecord(seq uint64, expires time.Time, record []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO detail_records (seq, expires, record) VALUES ($1, $2, $3)`,
		int64(seq), expires.Unix(), record)
	return err
}

func (t *detailTx) Shared(key string) (time.Time, []byte, error) {
	var exp int64
	var v []byte
	err := t.tx.QueryRow(t.ctx, `SELECT expires, detail FROM detail_shared WHERE key = $1`, key).Scan(&exp, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil, nil
	}
	if err != nil {
		return time.Time{}, nil, err
	}
	if v == nil {
		v = []byte{}
	}
	return time.Unix(exp, 0), v, nil
}

func (t *detailTx) PutShared(key string, expires time.Time, d []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO detail_shared (key, expires, detail) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET expires = EXCLUDED.expires, detail = EXCLUDED.detail`, key, expires.Unix(), d)
	return err
}

func (t *detailTx) Record(seq uint64) ([]byte, error) {
	var v []byte
	err := t.tx.QueryRow(t.ctx, `SELECT record FROM detail_records WHERE seq = $1`, int64(seq)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

// Resolve answers for a recipient's token: the page exists once a
// provider has accepted the message on some channel, as on central/bolt,
// in the language the person last signed up in.
func (t *detailTx) Resolve(seq uint64, secret [16]byte) (detail.Resolved, bool, error) {
	s := t.s
	if s.keys == nil {
		return detail.Resolved{}, false, nil
	}
	type row struct {
		id     int64
		seq    int32
		ck     []byte
		params []byte
		pii    []byte
	}
	var rs []row
	var r row
	rows, err := t.tx.Query(t.ctx, `SELECT r.notification, r.seq, r.ck, r.params, c.pii
		FROM recipients r LEFT JOIN citizens c ON c.ck = r.ck
		WHERE r.token = $1 AND EXISTS (SELECT 1 FROM deliveries d
			WHERE d.notification = r.notification AND d.seq = r.seq AND d.state IN ($2, $3))`,
		int64(seq), int16(allimi.DeliveryAccepted), int16(allimi.DeliveryDelivered))
	if err != nil {
		return detail.Resolved{}, false, err
	}
	if _, err := pgx.ForEachRow(rows, []any{&r.id, &r.seq, &r.ck, &r.params, &r.pii}, func() error {
		rs = append(rs, r)
		return nil
	}); err != nil {
		return detail.Resolved{}, false, err
	}
	for _, r := range rs {
		want := linkSecret(s.linkKey, uint64(r.id), uint32(r.seq))
		if !hmac.Equal(want[:], secret[:]) {
			continue
		}
		n, err := getNotification(t.ctx, t.tx, uint64(r.id), false)
		if errors.Is(err, allimi.ErrNotFound) {
			return detail.Resolved{}, false, nil // purged
		}
		if err != nil {
			return detail.Resolved{}, false, err
		}
		if r.pii == nil {
			return detail.Resolved{}, false, fmt.Errorf("recipient %d of notification %d: no such citizen", r.seq, r.id)
		}
		c, lang, err := s.keys.OpenPerson(r.pii, r.ck)
		if err != nil {
			return detail.Resolved{}, false, fmt.Errorf("recipient %d of notification %d: %w", r.seq, r.id, err)
		}
		var params map[string]string
		if len(r.params) > 0 {
			if err := json.Unmarshal(r.params, &params); err != nil {
				return detail.Resolved{}, false, fmt.Errorf("recipient %d of notification %d params: %w", r.seq, r.id, err)
			}
		}
		return detail.Resolved{Fields: detail.RecipientFieldsIn(&n, params, lang), Shared: detail.NoticeKey(n.ID),
			BirthDate: c.BirthDate, Expires: n.ExpiresAt, Lang: lang}, true, nil
	}
	return detail.Resolved{}, false, nil
}

func (t *detailTx) Attempts(seq uint64) (detail.Attempts, bool, error) {
	var failures int16
	var until int64
	err := t.tx.QueryRow(t.ctx, `SELECT failures, locked_until FROM detail_attempts WHERE seq = $1`, int64(seq)).Scan(&failures, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return detail.Attempts{}, false, nil
	}
	if err != nil {
		return detail.Attempts{}, false, err
	}
	a := detail.Attempts{Failures: int(failures)}
	if until != 0 {
		a.LockedUntil = time.Unix(until, 0)
	}
	return a, true, nil
}

func (t *detailTx) PutAttempts(seq uint64, a detail.Attempts, expires time.Time) error {
	var until int64
	if !a.LockedUntil.IsZero() {
		until = a.LockedUntil.Unix()
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO detail_attempts (seq, failures, locked_until, expires) VALUES ($1, $2, $3, $4)
		ON CONFLICT (seq) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until, expires = EXCLUDED.expires`,
		int64(seq), int16(a.Failures), until, expires.Unix())
	return err
}

func (t *detailTx) DeleteAttempts(seq uint64) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM detail_attempts WHERE seq = $1`, int64(seq))
	return err
}

// auditDetailView is the detail pages' OnView: one audit entry per page
// shown, as central/bolt writes it.
func (s *Store) auditDetailView(seq uint64) error {
	return s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		var id int64
		var ck []byte
		what := fmt.Sprintf("detail token %d", seq)
		err := tx.QueryRow(ctx, `SELECT notification, ck FROM recipients WHERE token = $1 ORDER BY notification DESC LIMIT 1`,
			int64(seq)).Scan(&id, &ck)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			ck = nil
		case err != nil:
			return err
		default:
			n, err := getNotification(ctx, tx, uint64(id), false)
			switch {
			case errors.Is(err, allimi.ErrNotFound):
				ck = nil
			case err != nil:
				return err
			default:
				what = fmt.Sprintf("notification %d (%s)", n.ID, n.Type)
			}
		}
		return s.audit(ctx, tx, allimi.AuditDetailView, ck, "web", what)
	})
}
