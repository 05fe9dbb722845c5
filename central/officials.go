package central

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// Officials answer people's questions on central's web pages. Each has an
// id and a token, printed once by `allimi central official add`; central
// keeps only the token's SHA-256 (the token is 256 random bits, so a plain
// hash is as good as a slow one). The audit log names the official who
// answered.
type officialRecord struct {
	TokenHash []byte    `json:"tokenHash"`
	Created   time.Time `json:"created"`
}

// OfficialCredentials is what `official add` prints.
type OfficialCredentials struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

var officialIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// AddOfficial registers an official, or gives an existing one a new token
// when rotate is set, and returns the token.
func (s *Store) AddOfficial(id string, rotate bool) (OfficialCredentials, error) {
	if !officialIDPattern.MatchString(id) {
		return OfficialCredentials{}, fmt.Errorf("official id %q: use 1-63 lower-case letters, digits, dots, dashes and underscores: %w", id, allimi.ErrInvalid)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return OfficialCredentials{}, err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(tok))
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketOfficials)
		if b.Get([]byte(id)) != nil && !rotate {
			return fmt.Errorf("official %q already exists: use --rotate to give them a new token: %w", id, allimi.ErrInvalid)
		}
		v, _ := json.Marshal(officialRecord{TokenHash: sum[:], Created: s.now().UTC()})
		return b.Put([]byte(id), v)
	})
	if err != nil {
		return OfficialCredentials{}, err
	}
	return OfficialCredentials{ID: id, Token: tok}, nil
}

// officialByToken returns the id of the official with token, "" if none.
func (s *Store) officialByToken(tok string) (string, error) {
	sum := sha256.Sum256([]byte(tok))
	found := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		// Every record is compared, in constant time: officials are few.
		return tx.Bucket(bucketOfficials).ForEach(func(k, v []byte) error {
			var r officialRecord
			if json.Unmarshal(v, &r) == nil && subtle.ConstantTimeCompare(r.TokenHash, sum[:]) == 1 {
				found = string(k)
			}
			return nil
		})
	})
	return found, err
}

// officialCheck checks an id and token pair, as typed on the sign-in page.
func (s *Store) officialCheck(id, tok string) (bool, error) {
	got, err := s.officialByToken(tok)
	return err == nil && got != "" && got == id, err
}

// officialTokenHash returns the hash of official id's current token, nil
// when there is no such official.
func (s *Store) officialTokenHash(id string) ([]byte, error) {
	var h []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketOfficials).Get([]byte(id))
		if v == nil {
			return nil
		}
		var r officialRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		h = r.TokenHash
		return nil
	})
	return h, err
}

// Sessions are stateless: the cookie holds the official's id and an
// expiry, signed with a key derived from keys.json over the official's
// current token hash — so a restart of central signs nobody out, and a
// new token (--rotate) signs out every session of the old one.
const (
	sessionCookie   = "allimi_official"
	sessionLifetime = 12 * time.Hour
)

func (s *Server) sessionMAC(id string, exp int64, tokenHash []byte) string {
	m := hmac.New(sha256.New, s.keys.derive("official sessions"))
	fmt.Fprintf(m, "%s\x00%d\x00", id, exp)
	m.Write(tokenHash)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) setSession(w http.ResponseWriter, id string, now time.Time) error {
	th, err := s.store.officialTokenHash(id)
	if err != nil {
		return err
	}
	exp := now.Add(sessionLifetime).Unix()
	v := base64.RawURLEncoding.EncodeToString([]byte(id)) + "." + strconv.FormatInt(exp, 10) + "." + s.sessionMAC(id, exp, th)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Expires: time.Unix(exp, 0)})
	return nil
}

// official returns the signed-in official of r: a session cookie, or an
// official's token as a bearer token (for the JSON API). "" when none.
func (s *Server) official(r *http.Request) string {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		id, err := s.store.officialByToken(tok)
		if err != nil {
			s.log.Error("official sign-in", "err", err)
			return ""
		}
		return id
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return ""
	}
	idb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() >= exp {
		return ""
	}
	th, err := s.store.officialTokenHash(string(idb))
	if err != nil || th == nil {
		return ""
	}
	if !hmac.Equal([]byte(parts[2]), []byte(s.sessionMAC(string(idb), exp, th))) {
		return ""
	}
	return string(idb)
}
