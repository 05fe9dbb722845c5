package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// The programs part of the store keeps people's enrolments in programs of
// notifications (allimi.Enrolments). Its buckets, and what their keys and
// values hold:
var (
	bucketProgramEnrolments = []byte("program-enrolments") // id → allimi.Enrolment (JSON)
	bucketProgramIdem       = []byte("program-idem")       // agency 0x00 idempotency key → id
	// due time (unix ms, 8 bytes big-endian) | id 0x00 step → nothing: the
	// steps to act on (allimi.EnrolmentStep.DueAt), earliest first.
	bucketStepsDue = []byte("program-due")
)

// programsPart creates them when the store opens.
var programsPart = part{"programs", [][]byte{
	bucketProgramEnrolments, bucketProgramIdem, bucketStepsDue}}

// CreateEnrolment implements allimi.Enrolments.
func (s *Store) CreateEnrolment(e allimi.Enrolment, idemKey string) (allimi.Enrolment, bool, error) {
	var out allimi.Enrolment
	repeat := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var ik []byte
		if idemKey != "" {
			ik = append([]byte(e.Agency+"\x00"), idemKey...)
			if id := tx.Bucket(bucketProgramIdem).Get(ik); id != nil {
				repeat = true
				var err error
				out, err = getEnrolment(tx, string(id))
				return err
			}
		}
		if tx.Bucket(bucketProgramEnrolments).Get([]byte(e.ID)) != nil {
			return fmt.Errorf("enrolment %s: %w", e.ID, allimi.ErrEnrolmentExists)
		}
		if ik != nil {
			if err := tx.Bucket(bucketProgramIdem).Put(ik, []byte(e.ID)); err != nil {
				return err
			}
		}
		out = e
		return putEnrolment(tx, nil, &e)
	})
	if err != nil {
		return allimi.Enrolment{}, false, err
	}
	return out, repeat, nil
}

// GetEnrolment implements allimi.Enrolments.
func (s *Store) GetEnrolment(id string) (allimi.Enrolment, error) {
	var e allimi.Enrolment
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		e, err = getEnrolment(tx, id)
		return err
	})
	return e, err
}

// UpdateEnrolment implements allimi.Enrolments.
func (s *Store) UpdateEnrolment(id string, fn func(*allimi.Enrolment) error) (allimi.Enrolment, error) {
	var e allimi.Enrolment
	err := s.db.Update(func(tx *bbolt.Tx) error {
		old, err := getEnrolment(tx, id)
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
		return putEnrolment(tx, &old, &e)
	})
	if err != nil {
		return allimi.Enrolment{}, err
	}
	return e, nil
}

// DueSteps implements allimi.Enrolments.
func (s *Store) DueSteps(now time.Time, limit int) ([]allimi.DueStep, error) {
	var out []allimi.DueStep
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketStepsDue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			d, err := parseStepDue(k)
			if err != nil {
				return err
			}
			if d.At.After(now) {
				break
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// NextStepDue implements allimi.Enrolments.
func (s *Store) NextStepDue() (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketStepsDue).Cursor().First()
		if k == nil {
			return nil
		}
		d, err := parseStepDue(k)
		at, ok = d.At, err == nil
		return err
	})
	return at, ok, err
}

func getEnrolment(tx *bbolt.Tx, id string) (allimi.Enrolment, error) {
	var e allimi.Enrolment
	v := tx.Bucket(bucketProgramEnrolments).Get([]byte(id))
	if v == nil {
		return e, fmt.Errorf("enrolment %q: %w", id, allimi.ErrNotFound)
	}
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("enrolment %q: %w", id, err)
	}
	return e, nil
}

// putEnrolment stores e and moves its steps' index entries from where old
// (nil: none) had them.
func putEnrolment(tx *bbolt.Tx, old, e *allimi.Enrolment) error {
	if e.ID == "" || bytes.IndexByte([]byte(e.ID), 0) >= 0 {
		return fmt.Errorf("enrolment id %q: %w", e.ID, allimi.ErrInvalid)
	}
	due := tx.Bucket(bucketStepsDue)
	if old != nil {
		for i := range old.Steps {
			if at, ok := old.Steps[i].DueAt(); ok {
				if err := due.Delete(stepDueKey(at, old.ID, old.Steps[i].Step)); err != nil {
					return err
				}
			}
		}
	}
	for i := range e.Steps {
		if at, ok := e.Steps[i].DueAt(); ok {
			if err := due.Put(stepDueKey(at, e.ID, e.Steps[i].Step), nil); err != nil {
				return err
			}
		}
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketProgramEnrolments).Put([]byte(e.ID), v)
}

func stepDueKey(at time.Time, id, step string) []byte {
	k := make([]byte, 8, 8+len(id)+1+len(step))
	binary.BigEndian.PutUint64(k, uint64(max(at.UnixMilli(), 0)))
	k = append(k, id...)
	k = append(k, 0)
	return append(k, step...)
}

func parseStepDue(k []byte) (allimi.DueStep, error) {
	if len(k) < 10 {
		return allimi.DueStep{}, errors.New("program-due: short key")
	}
	id, step, ok := bytes.Cut(k[8:], []byte{0})
	if !ok {
		return allimi.DueStep{}, errors.New("program-due: key without a step")
	}
	return allimi.DueStep{Enrolment: string(id), Step: string(step),
		At: time.UnixMilli(int64(binary.BigEndian.Uint64(k[:8]))).UTC()}, nil
}
