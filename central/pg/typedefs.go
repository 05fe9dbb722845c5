package pg

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// PutTypeDef implements allimi.TypeDefs: the next version is taken in a
// serializable transaction, so that puts at once never share one.
func (s *Store) PutTypeDef(def allimi.TypeDef) (allimi.TypeDef, error) {
	if err := allimi.ValidateTypeID(def.ID); err != nil {
		return def, err
	}
	if len(def.File) == 0 {
		return def, fmt.Errorf("type %s: an empty file: %w", def.ID, allimi.ErrInvalid)
	}
	err := s.serial(s.ctx(), func(tx pgx.Tx) error {
		return tx.QueryRow(s.ctx(), `INSERT INTO type_defs (id, version, file, put)
			SELECT $1, coalesce(max(version), 0) + 1, $2, clock_timestamp() FROM type_defs WHERE id = $1
			RETURNING version, put`, string(def.ID), def.File).Scan(&def.Version, &def.Put)
	})
	def.Put = def.Put.UTC()
	return def, err
}

// TypeDefs implements allimi.TypeDefs.
func (s *Store) TypeDefs() ([]allimi.TypeDef, error) {
	return s.typeDefs(`SELECT DISTINCT ON (id) id, version, file, put FROM type_defs ORDER BY id, version DESC`)
}

// TypeDefVersions implements allimi.TypeDefs.
func (s *Store) TypeDefVersions(id allimi.NotificationType) ([]allimi.TypeDef, error) {
	return s.typeDefs(`SELECT id, version, file, put FROM type_defs WHERE id = $1 ORDER BY version`, string(id))
}

func (s *Store) typeDefs(sql string, args ...any) ([]allimi.TypeDef, error) {
	rows, err := s.pool.Query(s.ctx(), sql, args...)
	if err != nil {
		return nil, err
	}
	var out []allimi.TypeDef
	var d allimi.TypeDef
	var id string
	var put time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &d.Version, &d.File, &put}, func() error {
		d.ID, d.Put = allimi.NotificationType(id), put.UTC()
		d.File = append([]byte(nil), d.File...)
		out = append(out, d)
		return nil
	})
	return out, err
}
