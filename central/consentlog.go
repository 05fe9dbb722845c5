package central

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
)

// The consent log keeps, per person and event, the consent changes the
// event made and nothing else. Earlier builds kept the event's whole
// payload there, in plaintext: with a new-benefits grant that was the
// person's birth date, sex, income band, disability and household codes and
// region, readable with grep in central.db and in every backup. Those
// conditions live sealed in the profiles bucket (while the grant lasts),
// and the whole event lives sealed in the events bucket under the kiosk and
// sequence number that end the log entry's key, so the log loses nothing
// by keeping only the changes.

// consentLogEntry is what the consent log keeps of an event's payload: the
// consent changes and whether the number was verified. It is written from
// the decoded payload, not copied from the kiosk's bytes, so that no
// field the kiosk sent (known or not) reaches the file in plaintext.
func consentLogEntry(p *allimi.ConsentPayload) ([]byte, error) {
	return json.Marshal(allimi.ConsentPayload{Consents: p.Consents, Verified: p.Verified})
}

// piiFormat is the version of how personal data is kept at rest, stored
// under keyPIIFormat in the meta bucket. Version 1: the consent log holds
// no personal field, and the rejection list quotes no profile value.
// Version 2: receipt and question codes are indexed by a keyed hash.
// Each step is idempotent, so a file at any version runs them all.
const piiFormat = 2

var keyPIIFormat = []byte("pii-format")

// migratePII brings the database at path (if there is one) to piiFormat
// before it is opened for use. Whatever it rewrote is still in the file's
// free pages, which bbolt does not clear and a backup copies, so it then
// rewrites the file without them (bbolt.Compact). It runs once: a file at
// piiFormat is only read.
func migratePII(path string, keys *Keys, log *slog.Logger) error {
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
	var entries, rejections, codes int
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil // not yet a central database: OpenStore makes it one
		}
		if getU64(meta, keyPIIFormat) >= piiFormat {
			return nil
		}
		var err error
		if entries, err = stripConsentLog(tx); err != nil {
			return fmt.Errorf("consent log: %w", err)
		}
		if rejections, err = redactRejections(tx); err != nil {
			return fmt.Errorf("rejections: %w", err)
		}
		if codes, err = rekeyCodes(tx, keys.derive("receipt code index")); err != nil {
			return fmt.Errorf("receipt codes: %w", err)
		}
		return meta.Put(keyPIIFormat, u64(piiFormat))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate %s to personal-data format %d: %w", path, piiFormat, err)
	}
	if entries == 0 && rejections == 0 && codes == 0 {
		return nil
	}
	before, after, err := compactFile(path)
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("migrate %s: compact away the old plaintext: %w", path, err)
	}
	log.Info("personal data removed from the consent log and the rejection list, receipt codes indexed by keyed hash",
		"consentLogEntries", entries, "rejections", rejections, "receiptCodes", codes, "bytesBefore", before, "bytesAfter", after)
	return nil
}

// stripConsentLog rewrites the consent-log entries that hold more than
// consentLogEntry keeps, and returns how many. An entry that is not a
// payload at all (never written by central) is replaced by an empty one:
// its event, sealed, still holds what was sent.
func stripConsentLog(tx *bbolt.Tx) (int, error) {
	b := tx.Bucket(bucketConsentLog)
	if b == nil {
		return 0, nil
	}
	type rewrite struct{ k, v []byte }
	var todo []rewrite
	err := b.ForEach(func(k, v []byte) error {
		var p allimi.ConsentPayload
		if json.Unmarshal(v, &p) != nil {
			p = allimi.ConsentPayload{}
		}
		nv, err := consentLogEntry(&p)
		if err != nil {
			return err
		}
		if string(nv) != string(v) {
			todo = append(todo, rewrite{append([]byte(nil), k...), nv})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Put after the walk: bbolt forbids changing a bucket under ForEach.
	for _, r := range todo {
		if err := b.Put(r.k, r.v); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// redactRejections rewrites the reasons earlier builds gave for conditions
// they did not keep, which quoted the refused value (a birth date, a code).
// The field is no longer known from the text alone, so the reason keeps
// what was refused and withholds the rest.
func redactRejections(tx *bbolt.Tx) (int, error) {
	b := tx.Bucket(bucketRejected)
	if b == nil {
		return 0, nil
	}
	const marker = "conditions not kept: "
	type rewrite struct{ k, v []byte }
	var todo []rewrite
	err := b.ForEach(func(k, v []byte) error {
		var r Rejection
		if json.Unmarshal(v, &r) != nil {
			return nil
		}
		i := strings.Index(r.Reason, marker)
		if i < 0 || strings.HasSuffix(r.Reason, valueWithheld) {
			return nil
		}
		r.Reason = r.Reason[:i+len(marker)] + "payload.profile or payload.region: invalid " + valueWithheld
		nv, err := json.Marshal(r)
		if err != nil {
			return err
		}
		todo = append(todo, rewrite{append([]byte(nil), k...), nv})
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, r := range todo {
		if err := b.Put(r.k, r.v); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// valueWithheld ends a reason whose value is not quoted.
const valueWithheld = "(value withheld: personal data)"

// compactFile rewrites the bbolt file at path without its free pages
// (nothing may have it open) and returns its sizes before and after.
func compactFile(path string) (before, after int64, err error) {
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
