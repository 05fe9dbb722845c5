package pg

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// Officials answer people's questions on central's web pages. Each has an
// id and a token, printed once by `allimi central official add`; the
// database keeps only the token's SHA-256 (the token is 256 random bits,
// so a plain hash is as good as a slow one).

var officialIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// sessionLifetime is how long a session lasts after sign-in.
const sessionLifetime = 12 * time.Hour

// random256 is 256 random bits, base64url.
func random256() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// AddOfficial registers an official, or gives an existing one a new token
// when rotate is set, and returns the token. A new token ends the
// sessions of the old one (OfficialBySession compares them).
func (s *Store) AddOfficial(id string, rotate bool) (allimi.OfficialCredentials, error) {
	if !officialIDPattern.MatchString(id) {
		return allimi.OfficialCredentials{}, fmt.Errorf("official id %q: use 1-63 lower-case letters, digits, dots, dashes and underscores: %w", id, allimi.ErrInvalid)
	}
	tok, err := random256()
	if err != nil {
		return allimi.OfficialCredentials{}, err
	}
	q := `INSERT INTO officials (id, token_hash, created) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`
	if rotate {
		q = `INSERT INTO officials (id, token_hash, created) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created = EXCLUDED.created`
	}
	tag, err := s.pool.Exec(s.ctx(), q, id, sha(tok), s.now().UTC())
	if err != nil {
		return allimi.OfficialCredentials{}, fmt.Errorf("store official %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return allimi.OfficialCredentials{}, fmt.Errorf("official %q already exists: use --rotate to give them a new token: %w", id, allimi.ErrInvalid)
	}
	return allimi.OfficialCredentials{ID: id, Token: tok}, nil
}

// OfficialByToken returns the id of the official with token, "" if none.
func (s *Store) OfficialByToken(tok string) (string, error) {
	var id string
	err := s.pool.QueryRow(s.ctx(), `SELECT id FROM officials WHERE token_hash = $1`, sha(tok)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// OfficialCheck checks an id and token pair, as typed on the sign-in page.
func (s *Store) OfficialCheck(id, tok string) (bool, error) {
	got, err := s.OfficialByToken(tok)
	return err == nil && got != "" && got == id, err
}

// Officials' web sessions live in the database, so that signing out ends
// a session for good and sessions survive a restart of central. The
// cookie holds a random session id; the database keeps its SHA-256, the
// official, the hash of the official's token at sign-in (a new token ends
// every session of the old one) and the expiry.

// StartOfficialSession opens a session for official and returns its id.
// Expired sessions are swept out on the way.
func (s *Store) StartOfficialSession(official string, now time.Time) (string, time.Time, error) {
	id, err := random256()
	if err != nil {
		return "", time.Time{}, err
	}
	// PostgreSQL keeps microseconds: the expiry given back is the one kept.
	exp := now.Add(sessionLifetime).UTC().Truncate(time.Microsecond)
	ctx := s.ctx()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM official_sessions WHERE expires <= $1`, now); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO official_sessions (id_hash, official, token_hash, expires)
		SELECT $1, id, token_hash, $3 FROM officials WHERE id = $2`, sha(id), official, exp)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", time.Time{}, fmt.Errorf("start session: official %q: %w", official, allimi.ErrNotFound)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return id, exp, nil
}

// OfficialBySession returns the official of a live session, "" if none.
func (s *Store) OfficialBySession(id string, now time.Time) (string, error) {
	var official string
	err := s.pool.QueryRow(s.ctx(), `SELECT o.id FROM official_sessions s JOIN officials o ON o.id = s.official
		WHERE s.id_hash = $1 AND s.expires > $2 AND o.token_hash = s.token_hash`, sha(id), now).Scan(&official)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return official, err
}

// EndOfficialSession deletes a session: signing out.
func (s *Store) EndOfficialSession(id string) error {
	_, err := s.pool.Exec(s.ctx(), `DELETE FROM official_sessions WHERE id_hash = $1`, sha(id))
	return err
}
