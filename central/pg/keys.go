package pg

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"allimi/central/keyring"
)

// ErrOtherKeys: the database was written under another keys.json than
// the one given (WithKeys).
var ErrOtherKeys = errors.New("the database was written under other keys")

// keysCheck is what keys_check holds for keys: a keyed hash of a fixed
// text, which tells keys apart and reveals nothing of them.
func keysCheck(k *keyring.Keys) []byte {
	m := hmac.New(sha256.New, k.HashKey)
	m.Write([]byte("allimi keys check"))
	return m.Sum(nil)
}

// checkKeys records the keys' check value the first time keys are given,
// and refuses keys whose value differs from the one recorded.
func checkKeys(ctx context.Context, pool *pgxpool.Pool, db string, k *keyring.Keys) error {
	want := keysCheck(k)
	if _, err := pool.Exec(ctx, `INSERT INTO keys_check (check_value) VALUES ($1) ON CONFLICT DO NOTHING`, want); err != nil {
		return fmt.Errorf("database %s: keys check: %w", db, err)
	}
	var got []byte
	if err := pool.QueryRow(ctx, `SELECT check_value FROM keys_check`).Scan(&got); err != nil {
		return fmt.Errorf("database %s: keys check: %w", db, err)
	}
	if !hmac.Equal(got, want) {
		return fmt.Errorf("database %s: %w than the keys.json given: everything personal in it is sealed under those; "+
			"give every central and command on this database the same keys.json (--keys DIR, or --data DIR for serve)", db, ErrOtherKeys)
	}
	return nil
}
