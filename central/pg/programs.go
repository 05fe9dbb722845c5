package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// CreateEnrolment implements allimi.Enrolments.
func (s *Store) CreateEnrolment(e allimi.Enrolment, idemKey string) (allimi.Enrolment, bool, error) {
	var ik *string
	if idemKey != "" {
		ik = &idemKey
	}
	var out allimi.Enrolment
	repeat := false
	err := s.serial(s.ctx(), func(tx pgx.Tx) error {
		ctx := s.ctx()
		repeat = false
		if ik != nil {
			var body []byte
			err := tx.QueryRow(ctx, `SELECT body FROM program_enrolments WHERE agency = $1 AND idem_key = $2`, e.Agency, idemKey).Scan(&body)
			if err == nil {
				repeat = true
				out = allimi.Enrolment{}
				return json.Unmarshal(body, &out)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		body, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO program_enrolments (id, agency, idem_key, body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, e.ID, e.Agency, ik, body)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("enrolment %s: %w", e.ID, allimi.ErrEnrolmentExists)
		}
		out = e
		return putStepsDue(ctx, tx, &e)
	})
	if err != nil {
		return allimi.Enrolment{}, false, err
	}
	return out, repeat, nil
}

// GetEnrolment implements allimi.Enrolments.
func (s *Store) GetEnrolment(id string) (allimi.Enrolment, error) {
	return getEnrolment(s.ctx(), s.pool, id, false)
}

// UpdateEnrolment implements allimi.Enrolments: the enrolment's row is
// locked from the read to the commit.
func (s *Store) UpdateEnrolment(id string, fn func(*allimi.Enrolment) error) (allimi.Enrolment, error) {
	return s.updateEnrolment(nil, id, fn)
}

// UpdateEnrolment implements allimi.Enrolments under the lease: the
// scheduler of a leader whose lease is gone changes no step.
func (f *Fenced) UpdateEnrolment(id string, fn func(*allimi.Enrolment) error) (allimi.Enrolment, error) {
	return f.updateEnrolment(&f.lease, id, fn)
}

func (s *Store) updateEnrolment(l *Lease, id string, fn func(*allimi.Enrolment) error) (allimi.Enrolment, error) {
	var e allimi.Enrolment
	err := s.retried(s.ctx(), pgx.ReadCommitted, func(tx pgx.Tx) error {
		ctx := s.ctx()
		if l != nil {
			if err := checkLease(ctx, tx, *l); err != nil {
				return err
			}
		}
		old, err := getEnrolment(ctx, tx, id, true)
		if err != nil {
			return err
		}
		e = old.Clone()
		if err := fn(&e); err != nil {
			return err
		}
		if e.ID != id {
			return fmt.Errorf("enrolment %s: an update may not change its id", id)
		}
		body, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE program_enrolments SET body = $2 WHERE id = $1`, id, body); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM program_due WHERE enrolment = $1`, id); err != nil {
			return err
		}
		return putStepsDue(ctx, tx, &e)
	})
	if err != nil {
		return allimi.Enrolment{}, err
	}
	return e, nil
}

// DueSteps implements allimi.Enrolments.
func (s *Store) DueSteps(now time.Time, limit int) ([]allimi.DueStep, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT at_ms, enrolment, step FROM program_due WHERE at_ms <= $1
		ORDER BY at_ms, enrolment, step LIMIT $2`, now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	var out []allimi.DueStep
	var at int64
	var d allimi.DueStep
	_, err = pgx.ForEachRow(rows, []any{&at, &d.Enrolment, &d.Step}, func() error {
		d.At = time.UnixMilli(at).UTC()
		out = append(out, d)
		return nil
	})
	return out, err
}

// NextStepDue implements allimi.Enrolments.
func (s *Store) NextStepDue() (time.Time, bool, error) {
	var at *int64
	if err := s.pool.QueryRow(s.ctx(), `SELECT min(at_ms) FROM program_due`).Scan(&at); err != nil || at == nil {
		return time.Time{}, false, err
	}
	return time.UnixMilli(*at).UTC(), true, nil
}

func getEnrolment(ctx context.Context, q querier, id string, lock bool) (allimi.Enrolment, error) {
	var e allimi.Enrolment
	sql := `SELECT body FROM program_enrolments WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var body []byte
	err := q.QueryRow(ctx, sql, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("enrolment %q: %w", id, allimi.ErrNotFound)
	}
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("enrolment %q: %w", id, err)
	}
	return e, nil
}

// putStepsDue indexes e's steps to act on.
func putStepsDue(ctx context.Context, tx execer, e *allimi.Enrolment) error {
	var ats []int64
	var steps []string
	for i := range e.Steps {
		if at, ok := e.Steps[i].DueAt(); ok {
			ats, steps = append(ats, at.UnixMilli()), append(steps, e.Steps[i].Step)
		}
	}
	if len(ats) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO program_due (at_ms, enrolment, step)
		SELECT a, $1, s FROM unnest($2::bigint[], $3::text[]) AS u(a, s) ON CONFLICT DO NOTHING`, e.ID, ats, steps)
	return err
}
