package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/sync/catalog"
)

// PutCatalog signs body as the next version of catalog name (or as
// version, when it is not zero) and keeps it. A version not above the kept
// one is refused: kiosks would refuse it too.
func (s *Store) PutCatalog(name string, version uint64, body []byte) (catalog.Manifest, error) {
	var m catalog.Manifest
	if err := catalog.ValidateName(name); err != nil {
		return m, err
	}
	err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		// The row lock orders two publications of one catalog.
		if _, err := tx.Exec(ctx, `INSERT INTO catalogs (name, version, manifest, body) VALUES ($1, 0, '', '')
			ON CONFLICT DO NOTHING`, name); err != nil {
			return err
		}
		var cur int64
		if err := tx.QueryRow(ctx, `SELECT version FROM catalogs WHERE name = $1 FOR UPDATE`, name).Scan(&cur); err != nil {
			return err
		}
		v := version
		if v == 0 {
			v = uint64(cur) + 1
		}
		if v <= uint64(cur) {
			return fmt.Errorf("catalog %s: version %d is not above the current %d: %w", name, v, cur, allimi.ErrInvalid)
		}
		m = catalog.Sign(s.keys.CatalogKey(), name, v, body)
		mj, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE catalogs SET version = $2, manifest = $3, body = $4 WHERE name = $1`, name, int64(v), mj, body)
		return err
	})
	return m, err
}

// Catalog returns the kept catalog name.
func (s *Store) Catalog(name string) (catalog.Stored, bool, error) {
	var c catalog.Stored
	var mj []byte
	err := s.pool.QueryRow(s.ctx(), `SELECT manifest, body FROM catalogs WHERE name = $1 AND version > 0`, name).Scan(&mj, &c.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return c, true, json.Unmarshal(mj, &c.Manifest)
}

// Catalogs returns every kept catalog, by name.
func (s *Store) Catalogs() ([]catalog.Stored, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT manifest, body FROM catalogs WHERE version > 0 ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Stored
	for rows.Next() {
		var c catalog.Stored
		var mj []byte
		if err := rows.Scan(&mj, &c.Body); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(mj, &c.Manifest); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
