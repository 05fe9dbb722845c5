package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// The types part of the store keeps the notification types administrators
// put (allimi.TypeDefs). Its bucket, and what its keys and values hold:
var (
	// type id 0x00 version (8 bytes big-endian) → storedTypeDef (JSON)
	bucketTypeDefs = []byte("type-defs")
)

// typesPart creates it when the store opens.
var typesPart = part{"types", [][]byte{bucketTypeDefs}}

// storedTypeDef is a version as the bucket keeps it.
type storedTypeDef struct {
	File []byte    `json:"file"`
	Put  time.Time `json:"put"`
}

// PutTypeDef implements allimi.TypeDefs.
func (s *Store) PutTypeDef(def allimi.TypeDef) (allimi.TypeDef, error) {
	if err := allimi.ValidateTypeID(def.ID); err != nil {
		return def, err
	}
	if len(def.File) == 0 {
		return def, fmt.Errorf("type %s: an empty file: %w", def.ID, allimi.ErrInvalid)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTypeDefs)
		prefix := typeDefPrefix(def.ID)
		def.Version = 1
		if err := eachTypeDef(tx, prefix, func(d allimi.TypeDef) { def.Version = d.Version + 1 }); err != nil {
			return err
		}
		def.Put = s.now().UTC()
		v, err := json.Marshal(storedTypeDef{File: def.File, Put: def.Put})
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(prefix, def.Version), v)
	})
	return def, err
}

// TypeDefs implements allimi.TypeDefs.
func (s *Store) TypeDefs() ([]allimi.TypeDef, error) {
	var out []allimi.TypeDef
	err := s.db.View(func(tx *bbolt.Tx) error {
		return eachTypeDef(tx, nil, func(d allimi.TypeDef) {
			if n := len(out); n > 0 && out[n-1].ID == d.ID {
				out[n-1] = d // a later version of the same type
				return
			}
			out = append(out, d)
		})
	})
	return out, err
}

// TypeDefVersions implements allimi.TypeDefs.
func (s *Store) TypeDefVersions(id allimi.NotificationType) ([]allimi.TypeDef, error) {
	var out []allimi.TypeDef
	err := s.db.View(func(tx *bbolt.Tx) error {
		return eachTypeDef(tx, typeDefPrefix(id), func(d allimi.TypeDef) { out = append(out, d) })
	})
	return out, err
}

func typeDefPrefix(id allimi.NotificationType) []byte { return append([]byte(id), 0) }

// eachTypeDef calls f with every version stored under prefix (nil: all),
// in key order: by type id, then version.
func eachTypeDef(tx *bbolt.Tx, prefix []byte, f func(allimi.TypeDef)) error {
	b := tx.Bucket(bucketTypeDefs)
	if b == nil {
		return nil // a file from before types could be put
	}
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		id, ver, ok := bytes.Cut(k, []byte{0})
		if !ok || len(ver) != 8 {
			return fmt.Errorf("type-defs: damaged key %q", k)
		}
		var st storedTypeDef
		if err := json.Unmarshal(v, &st); err != nil {
			return fmt.Errorf("type-defs %s: %w", id, err)
		}
		f(allimi.TypeDef{ID: allimi.NotificationType(id), Version: binary.BigEndian.Uint64(ver), File: st.File, Put: st.Put})
	}
	return nil
}
