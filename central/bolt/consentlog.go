package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/keyring"
	"allimi/central/record"
)

// piiFormat is the version of how personal data is kept at rest, stored
// under keyPIIFormat in the meta bucket. Version 1: the consent log holds
// no personal field, and the rejection list quotes no profile value.
// Version 2: receipt and question codes are indexed by a keyed hash.
// Each step is idempotent, so a file at any version runs them all.
const piiFormat = 2

var keyPIIFormat = []byte("pii-format")

// keyPIICompactDue is set with the format a migration writes, and deleted
// once the file has been compacted: until then the rewritten plaintext is
// still on free pages, and every start tries the compaction again.
var keyPIICompactDue = []byte("pii-compact-due")

// migratePII brings the database at path (if there is one) to piiFormat
// before it is opened for use. Whatever it rewrote is still in the file's
// free pages, which bbolt does not clear and a backup copies, so it then
// rewrites the file without them (bbolt.Compact). It runs once: a file at
// piiFormat is only read. It rewrites in transactions of a bounded number
// of entries, so that a registry of millions needs no more memory than a
// batch; a stop midway leaves the marker unset, and the next start does
// the rest (each step leaves what it already rewrote as it is).
func migratePII(path string, keys *keyring.Keys, log *slog.Logger) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil // a new file is written in the current format
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return fmt.Errorf("open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	n, err := migratePIISteps(db, keys)
	due := false
	if err == nil {
		err = db.View(func(tx *bbolt.Tx) error {
			due = tx.Bucket(bucketMeta) != nil && tx.Bucket(bucketMeta).Get(keyPIICompactDue) != nil
			return nil
		})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate %s to personal-data format %d: %w", path, piiFormat, err)
	}
	if n != (piiRewrites{}) {
		log.Info("personal data removed from the consent log and the rejection list, receipt codes indexed by keyed hash",
			"consentLogEntries", n.entries, "rejections", n.rejections, "receiptCodes", n.codes)
	}
	if !due {
		return nil
	}
	before, after, err := CompactFile(path)
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	if err == nil {
		err = clearCompactDue(path)
	}
	if err != nil {
		// The data is migrated; only free pages still hold the old bytes.
		// Central starts (kiosks must not wait for a disk with no room for
		// a copy) and tries again at the next start.
		log.Error("personal data migrated, but its old plaintext is still on free pages of the file: "+
			"it is compacted away at the next start, or by `allimi central compact` with central stopped, once there is room for a copy",
			"file", path, "err", err)
		return nil
	}
	log.Info("compacted the old plaintext away", "bytesBefore", before, "bytesAfter", after)
	return nil
}

// clearCompactDue records that the compaction a migration asked for is done.
func clearCompactDue(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyPIICompactDue) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// piiRewrites counts what a migration rewrote.
type piiRewrites struct{ entries, rejections, codes int }

func migratePIISteps(db *bbolt.DB, keys *keyring.Keys) (piiRewrites, error) {
	var n piiRewrites
	current := true
	if err := db.View(func(tx *bbolt.Tx) error {
		// A file without a meta bucket is not yet a central database:
		// OpenStore makes it one, in the current format.
		meta := tx.Bucket(bucketMeta)
		current = meta == nil || getU64(meta, keyPIIFormat) >= piiFormat
		return nil
	}); err != nil || current {
		return n, err
	}
	var err error
	if n.entries, err = rewriteBucket(db, bucketConsentLog, stripConsentLogEntry); err != nil {
		return n, fmt.Errorf("consent log: %w", err)
	}
	if n.rejections, err = rewriteBucket(db, bucketRejected, redactRejection); err != nil {
		return n, fmt.Errorf("rejections: %w", err)
	}
	rekey := rekeyCode(keys.Derive("receipt code index"))
	for _, b := range [][]byte{bucketReceipts, bucketQCodes} {
		c, err := rewriteBucket(db, b, rekey)
		if err != nil {
			return n, fmt.Errorf("%s: %w", b, err)
		}
		n.codes += c
	}
	return n, db.Update(func(tx *bbolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if err := m.Put(keyPIICompactDue, u64(1)); err != nil {
			return err
		}
		return m.Put(keyPIIFormat, u64(piiFormat))
	})
}

// migrationBatch is how many entries one migration transaction visits (a
// variable for tests).
var migrationBatch = 10000

// rewriteBucket passes every entry of bucket name through edit, which
// returns the entry's new key and value, or nil ones to leave it; a new key
// replaces the old one. It returns how many entries it changed.
func rewriteBucket(db *bbolt.DB, name []byte, edit func(k, v []byte) (nk, nv []byte, err error)) (int, error) {
	changed := 0
	var after []byte // the last key visited
	for done := false; !done; {
		err := db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(name)
			if b == nil {
				done = true
				return nil
			}
			type change struct{ k, nk, nv []byte }
			var todo []change
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && string(k) == string(after) {
					k, v = c.Next()
				}
			}
			visited := 0
			for ; k != nil && visited < migrationBatch; k, v = c.Next() {
				visited++
				after = append(after[:0], k...)
				nk, nv, err := edit(k, v)
				if err != nil {
					return err
				}
				if nv != nil {
					todo = append(todo, change{append([]byte(nil), k...), append([]byte(nil), nk...), nv})
				}
			}
			done = k == nil
			// Changed after the walk: bbolt's cursors do not survive a Put.
			for _, ch := range todo {
				if string(ch.nk) != string(ch.k) {
					if err := b.Delete(ch.k); err != nil {
						return err
					}
					if b.Get(ch.nk) != nil {
						continue // a code both old and new keeps what it opened first
					}
				}
				if err := b.Put(ch.nk, ch.nv); err != nil {
					return err
				}
			}
			changed += len(todo)
			return nil
		})
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// stripConsentLogEntry rewrites a consent-log entry that holds more than
// consentLogEntry keeps. An entry that is not a payload at all (never
// written by central) is replaced by an empty one: its event, sealed,
// still holds what was sent.
func stripConsentLogEntry(k, v []byte) ([]byte, []byte, error) {
	var p allimi.ConsentPayload
	if json.Unmarshal(v, &p) != nil {
		p = allimi.ConsentPayload{}
	}
	nv, err := record.LogEntry(&p)
	if err != nil || string(nv) == string(v) {
		return nil, nil, err
	}
	return k, nv, nil
}

// redactRejection rewrites the reason earlier builds gave for conditions
// they did not keep, which quoted the refused value (a birth date, a code).
// The field is no longer known from the text alone, so the reason keeps
// what was refused and withholds the rest.
func redactRejection(k, v []byte) ([]byte, []byte, error) {
	const marker = "conditions not kept: "
	var r allimi.Rejection
	if json.Unmarshal(v, &r) != nil {
		return nil, nil, nil
	}
	i := strings.Index(r.Reason, marker)
	if i < 0 || strings.HasSuffix(r.Reason, valueWithheld) {
		return nil, nil, nil
	}
	r.Reason = r.Reason[:i+len(marker)] + "payload.profile or payload.region: invalid " + valueWithheld
	nv, err := json.Marshal(r)
	return k, nv, err
}

// valueWithheld ends a reason whose value is not quoted.
const valueWithheld = "(value withheld: personal data)"

// CompactFile rewrites the bbolt file at path without its free pages
// (nothing may have it open) and returns its sizes before and after.
func CompactFile(path string) (before, after int64, err error) {
	src, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return 0, 0, fmt.Errorf("open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, err
	}
	if err := bbolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	nfi, err := os.Stat(tmp)
	if err != nil {
		return 0, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, err
	}
	return fi.Size(), nfi.Size(), nil
}
