package pg

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/central/keyring"
)

// AddAgency registers an agency and returns its bearer token. Adding an id
// again issues a new token and revokes the old one, and keeps its policy.
// A new agency is unrestricted until SetAgencyPolicy says what it may
// send. Tokens are random 192-bit strings, so a plain SHA-256 is enough to
// store them.
func (s *Store) AddAgency(id string) (allimi.AgencyCredentials, error) {
	if err := allimi.ValidateKioskID(id); err != nil {
		return allimi.AgencyCredentials{}, fmt.Errorf("agency id %q: use 1-63 lower-case letters, digits and dashes: %w", id, allimi.ErrInvalid)
	}
	tok := keyring.Token(24)
	h := sha256.Sum256([]byte(tok))
	_, err := s.pool.Exec(s.ctx(), `INSERT INTO agencies (id, token_hash, created) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created = EXCLUDED.created`,
		id, h[:], s.now().UTC())
	if err != nil {
		return allimi.AgencyCredentials{}, fmt.Errorf("store agency %s: %w", id, err)
	}
	return allimi.AgencyCredentials{ID: id, Token: tok}, nil
}

// AgencyByToken returns the agency whose token this is.
func (s *Store) AgencyByToken(tok string) (string, bool) {
	h := sha256.Sum256([]byte(tok))
	var id string
	if err := s.pool.QueryRow(s.ctx(), `SELECT id FROM agencies WHERE token_hash = $1`, h[:]).Scan(&id); err != nil {
		return "", false
	}
	return id, true
}

// SetAgencyPolicy replaces what agency id may send; its token is unchanged.
func (s *Store) SetAgencyPolicy(id string, p allimi.AgencyPolicy) error {
	p, err := p.Checked(id)
	if err != nil {
		return err
	}
	types := make([]string, 0, len(p.Types))
	for _, t := range p.Types {
		types = append(types, string(t))
	}
	hosts := p.PaymentHosts
	tag, err := s.pool.Exec(s.ctx(), `UPDATE agencies SET types = $2, payment_hosts = $3 WHERE id = $1`, id, types, hosts)
	if err != nil {
		return fmt.Errorf("agency %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("agency %s: not registered (run `allimi central agency add`): %w", id, allimi.ErrNotFound)
	}
	return nil
}

// SetAgencyName implements allimi.Agencies.
func (s *Store) SetAgencyName(id, name string) error {
	if err := allimi.ValidateAgencyName(name); err != nil {
		return err
	}
	tag, err := s.pool.Exec(s.ctx(), `UPDATE agencies SET name = $2 WHERE id = $1`, id, strings.TrimSpace(name))
	if err != nil {
		return fmt.Errorf("agency %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("agency %s: not registered (run `allimi central agency add`): %w", id, allimi.ErrNotFound)
	}
	return nil
}

// AgencyName implements allimi.Agencies.
func (s *Store) AgencyName(id string) (string, error) {
	var name string
	err := s.pool.QueryRow(s.ctx(), `SELECT name FROM agencies WHERE id = $1`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("agency %s: %w", id, allimi.ErrNotFound)
	}
	return name, err
}

// AgencyPolicyOf returns what agency id may send.
func (s *Store) AgencyPolicyOf(id string) (allimi.AgencyPolicy, error) {
	var types, hosts []string
	err := s.pool.QueryRow(s.ctx(), `SELECT types, payment_hosts FROM agencies WHERE id = $1`, id).Scan(&types, &hosts)
	if errors.Is(err, pgx.ErrNoRows) {
		return allimi.AgencyPolicy{}, fmt.Errorf("agency %s: %w", id, allimi.ErrNotFound)
	}
	if err != nil {
		return allimi.AgencyPolicy{}, fmt.Errorf("agency %s: %w", id, err)
	}
	// Empty lists read as none, as bbolt's store gives them back.
	var p allimi.AgencyPolicy
	for _, t := range types {
		p.Types = append(p.Types, allimi.NotificationType(t))
	}
	if len(hosts) > 0 {
		p.PaymentHosts = hosts
	}
	return p, nil
}
