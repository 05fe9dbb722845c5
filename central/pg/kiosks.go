package pg

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central/keyring"
)

// newKioskPassword is a fresh password and its bcrypt hash.
func newKioskPassword() (pw string, hash []byte, err error) {
	pw = keyring.Token(24)
	hash, err = bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return pw, hash, err
}

// upsertKiosk is the statement that gives kiosk $1 the password hash $3.
const upsertKiosk = `INSERT INTO kiosks (id, username, password_hash, created) VALUES ($1, $2, $3, $4)
	ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, password_hash = EXCLUDED.password_hash, created = EXCLUDED.created`

// AddKiosk registers a kiosk and returns its fresh credentials. Adding an id
// again issues a new password and revokes the old one.
func (s *Store) AddKiosk(id string) (allimi.KioskCredentials, error) {
	if err := allimi.ValidateKioskID(id); err != nil {
		return allimi.KioskCredentials{}, err
	}
	pw, hash, err := newKioskPassword()
	if err != nil {
		return allimi.KioskCredentials{}, err
	}
	user := allimi.KioskUsername(id)
	if _, err := s.pool.Exec(s.ctx(), upsertKiosk, id, user, string(hash), s.now().UTC()); err != nil {
		return allimi.KioskCredentials{}, fmt.Errorf("store kiosk %s: %w", id, err)
	}
	return allimi.KioskCredentials{ID: id, Username: user, Password: pw}, nil
}

// CheckKiosk returns the kiosk id whose credentials these are. Every
// answer costs one bcrypt comparison, whether the kiosk exists or not.
func (s *Store) CheckKiosk(username, password string) (string, bool) {
	id, ok := strings.CutPrefix(username, "kiosk-")
	var user, hash string
	err := s.pool.QueryRow(s.ctx(), `SELECT username, password_hash FROM kiosks WHERE id = $1`, id).Scan(&user, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		// Refused, as bbolt's store refuses a record it cannot read; the
		// comparison below still costs what a known kiosk's does.
		hash = ""
	}
	known := ok && err == nil && user == username
	h := []byte(hash)
	if !known {
		h = dummyKioskHash
	}
	if !passwordMatches(h, password) || !known {
		return "", false
	}
	return id, true
}

// KioskUsers lists the kiosks' broker logins by id, with their bcrypt
// hashes, for the NATS servers' configuration (central nats-config).
func (s *Store) KioskUsers() ([]allimi.KioskUser, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT id, username, password_hash FROM kiosks ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	defer rows.Close()
	var users []allimi.KioskUser
	for rows.Next() {
		var u allimi.KioskUser
		if err := rows.Scan(&u.ID, &u.Username, &u.PasswordHash); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}
