package central

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central/throttle"
	"allimi/sync/catalog"
)

// Enrolment: an official runs `allimi central kiosk enrol --id ID`, which
// prints a one-time code; the new kiosk sends the code to central and gets
// its credentials, so nobody types a secret. Central keeps only a hash of
// the code.
var bucketEnrolments = []byte("enrolments") // SHA-256(code) → enrolment JSON

type enrolment struct {
	Kiosk   string     `json:"kiosk"`
	Expires time.Time  `json:"expires"`
	Used    *time.Time `json:"used,omitempty"`
}

// Enrolment errors, as the kiosk's screen and the log say them.
var (
	ErrEnrolUnknown = errors.New("enrolment code unknown: check it, or ask for a new one")
	ErrEnrolUsed    = errors.New("enrolment code already used: ask the official for a new one")
	ErrEnrolExpired = errors.New("enrolment code expired: ask the official for a new one")
)

// newEnrolCode is 12 characters (60 bits), shown XXXX-XXXX-XXXX.
func newEnrolCode() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(allimi.CodeAlphabet[int(c)%len(allimi.CodeAlphabet)]) // 256 is a multiple of 32: no bias
	}
	return s.String()
}

// normalizeEnrolCode accepts what a person types: any case, spaces, no dashes.
func normalizeEnrolCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if strings.ContainsRune(allimi.CodeAlphabet, r) {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) != 12 {
		return c
	}
	return c[:4] + "-" + c[4:8] + "-" + c[8:]
}

func enrolKey(code string) []byte {
	h := sha256.Sum256([]byte(normalizeEnrolCode(code)))
	return h[:]
}

// AddEnrolment issues a one-time code for kiosk id, valid for ttl.
func (s *Store) AddEnrolment(id string, ttl time.Duration) (code string, expires time.Time, err error) {
	if err := allimi.ValidateKioskID(id); err != nil {
		return "", time.Time{}, err
	}
	if ttl <= 0 || ttl > 30*24*time.Hour {
		return "", time.Time{}, fmt.Errorf("ttl %s: between 1 s and 30 days: %w", ttl, allimi.ErrInvalid)
	}
	code, expires = newEnrolCode(), s.now().UTC().Add(ttl).Truncate(time.Second)
	v, _ := json.Marshal(enrolment{Kiosk: id, Expires: expires})
	err = s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketEnrolments).Put(enrolKey(code), v) })
	return code, expires, err
}

// RedeemEnrolment spends code: the kiosk gets fresh credentials (a kiosk
// enrolled again gets a new password, and the old one stops working).
func (s *Store) RedeemEnrolment(code string) (KioskCredentials, error) {
	var cred KioskCredentials
	pw := token(24)
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return cred, err
	}
	now := s.now().UTC()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEnrolments)
		k := enrolKey(code)
		v := b.Get(k)
		if v == nil {
			return ErrEnrolUnknown
		}
		var e enrolment
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		switch {
		case e.Used != nil:
			return fmt.Errorf("%w (on %s)", ErrEnrolUsed, e.Used.In(kst).Format("2006-01-02 15:04"))
		case !now.Before(e.Expires):
			return fmt.Errorf("%w (at %s)", ErrEnrolExpired, e.Expires.In(kst).Format("2006-01-02 15:04"))
		}
		e.Used = &now
		nv, _ := json.Marshal(e)
		if err := b.Put(k, nv); err != nil {
			return err
		}
		rec := kioskRecord{ID: e.Kiosk, Username: KioskUsername(e.Kiosk), PasswordHash: hash, Created: now}
		rv, _ := json.Marshal(rec)
		cred = KioskCredentials{ID: e.Kiosk, Username: rec.Username, Password: pw,
			CatalogKey: catalog.EncodePublicKey(s.keys.CatalogPublicKey())}
		return tx.Bucket(bucketKiosks).Put([]byte(e.Kiosk), rv)
	})
	return cred, err
}

// EnrolResponse is what a kiosk gets for its code: its config file.
type EnrolResponse struct {
	KioskCredentials
	Broker string `json:"broker"`
	// TLS, when the embedded broker runs TLS: the CA to trust the broker
	// by, and the kiosk's client certificate and key, all PEM.
	TLS *EnrolTLS `json:"tls,omitempty"`
}

// EnrolTLS is a kiosk's TLS material, as its config file holds it.
type EnrolTLS struct {
	CA   string `json:"ca"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Why central refused a code, in the "reason" of its answer: the kiosk
// says it in the person's language, the "error" says it in English.
const (
	EnrolReasonUnknown    = "unknown"
	EnrolReasonUsed       = "used"
	EnrolReasonExpired    = "expired"
	EnrolReasonThrottled  = "throttled"
	EnrolReasonBadRequest = "bad-request"
)

// EnrolError is central's answer to a refused code.
type EnrolError struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

func writeEnrolError(w http.ResponseWriter, code int, reason string, err error) {
	writeJSON(w, code, EnrolError{Error: err.Error(), Reason: reason})
}

// handleEnrol: POST /api/v1/enrol {"code":"…"}.
func (s *Server) handleEnrol(w http.ResponseWriter, r *http.Request) {
	// Wrong codes are counted per address: one address guessing does not
	// keep another kiosk from enrolling (limits.go).
	tries, client := s.store.limits.enrol, clientAddr(r.RemoteAddr)
	if err := tries.Allow(client, ""); err != nil {
		writeEnrolError(w, http.StatusTooManyRequests, EnrolReasonThrottled, fmt.Errorf("%w: wait, then try the code again", err))
		return
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil { // under the route's limit (httplimits.go)
		if limit, ok := bodyTooLarge(r); ok {
			writeEnrolError(w, http.StatusRequestEntityTooLarge, EnrolReasonBadRequest, fmt.Errorf(`body larger than %d bytes: want {"code":"XXXX-XXXX-XXXX"}`, limit))
			return
		}
		writeEnrolError(w, http.StatusBadRequest, EnrolReasonBadRequest, fmt.Errorf(`body: want {"code":"XXXX-XXXX-XXXX"}: %v`, err))
		return
	}
	cred, err := s.store.RedeemEnrolment(body.Code)
	switch {
	case errors.Is(err, ErrEnrolUnknown):
		if _, err := tries.Count(client, ""); err != nil && !errors.Is(err, throttle.ErrBusy) {
			s.log.Error("enrolment: counting a wrong code", "err", err)
		}
		writeEnrolError(w, http.StatusNotFound, EnrolReasonUnknown, err)
	case errors.Is(err, ErrEnrolUsed):
		writeEnrolError(w, http.StatusGone, EnrolReasonUsed, err)
	case errors.Is(err, ErrEnrolExpired):
		writeEnrolError(w, http.StatusGone, EnrolReasonExpired, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		resp := EnrolResponse{KioskCredentials: cred, Broker: s.publicBroker()}
		if s.kioskCA != nil {
			cert, key, err := s.kioskCA.issue(cred.Username)
			if err != nil {
				s.log.Error("kiosk enrolled without its client certificate", "kiosk", cred.ID, "err", err)
				writeError(w, http.StatusInternalServerError, fmt.Errorf("client certificate: %w (ask for a new code)", err))
				return
			}
			resp.TLS = &EnrolTLS{CA: string(s.serverCA), Cert: string(cert), Key: string(key)}
		}
		s.log.Info("kiosk enrolled", "kiosk", cred.ID, "clientCert", resp.TLS != nil)
		writeJSON(w, http.StatusOK, resp)
	}
}

// handleAddEnrolment: POST /api/v1/kiosks/{id}/enrol (admin) {"ttl":"24h"}.
func (s *Server) handleAddEnrolment(w http.ResponseWriter, r *http.Request) {
	ttl := 24 * time.Hour
	var body struct {
		TTL string `json:"ttl"`
	}
	err := json.NewDecoder(r.Body).Decode(&body) // under the route's limit (httplimits.go)
	if writeTooLarge(w, r) {
		return
	}
	if err == nil && body.TTL != "" {
		d, err := time.ParseDuration(body.TTL)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("ttl %q: %v", body.TTL, err))
			return
		}
		ttl = d
	}
	code, expires, err := s.store.AddEnrolment(r.PathValue("id"), ttl)
	switch {
	case errors.Is(err, allimi.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"kiosk": r.PathValue("id"), "code": code, "expires": expires})
	}
}

// publicBroker is the broker address kiosks are told to use.
func (s *Server) publicBroker() string {
	if s.cfg.PublicBroker != "" {
		return s.cfg.PublicBroker
	}
	if s.cfg.Broker != "" {
		return s.cfg.Broker
	}
	if s.cfg.TLSCert != "" {
		return "ssl://" + s.cfg.MQTT
	}
	return "tcp://" + s.cfg.MQTT
}
