package catalog

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/sync/wire"
)

// bucketCatalogs maps a catalog name to its installed record:
//
//	format byte 1 | manifest JSON length (uint32, big endian) | manifest JSON | body
var bucketCatalogs = []byte("catalogs")

const catalogRecordFormat = 1

// errCatalogWaiting says an install must wait for the body.
var errCatalogWaiting = errors.New("catalog body not yet received")

// Store installs signed catalogs in a kiosk's bbolt file and serves
// them. It is safe for concurrent use.
//
// MQTT delivers a catalog's manifest and body as two retained messages, in
// either order, and again at every reconnect. The store keeps in memory the
// latest manifest and the latest body offered for each name, and installs
// when it holds a manifest whose signature verifies and a body of its size
// and SHA-256, in one bbolt transaction, so that the installed catalog is
// always one whole verified version. Against the installed version of that
// name, an older version is refused (ErrRollback), the same version with the
// same content changes nothing (a re-delivery), and the same version with
// other content is refused (ErrVersionConflict). A manifest naming the
// content already installed under a newer version installs with the stored
// body, without waiting for it.
//
// A refused offer never touches the installed catalog. Its error is
// returned by the offer call and kept as LastError; the refused manifest is
// dropped, while a pending body stays until a newer body replaces it, so
// that the right manifest may still claim it.
type Store struct {
	db  *bbolt.DB
	pub ed25519.PublicKey

	// OnInstalled, if set, is called after each install has been committed,
	// not after a re-delivery that changed nothing. Calls come one at a time,
	// in commit order, outside the lock that guards offers: the callback may
	// call Get, Versions and LastError, but must not offer. Set it before the
	// first offer.
	OnInstalled func(Manifest)

	mu      sync.Mutex // guards pending and lastErr; held while installing
	cbMu    sync.Mutex // serialises OnInstalled calls in commit order
	pending map[string]*pendingCatalog
	lastErr map[string]error
}

type pendingCatalog struct {
	manifest *Manifest
	body     []byte // nil when none; a private copy
	bodySum  string // lower hex SHA-256 of body
}

// NewStore prepares the catalogs bucket in db, the kiosk's bbolt file
// (shared with its outbox), and returns a store that trusts catalogs signed
// by the private key of pub.
func NewStore(db *bbolt.DB, pub ed25519.PublicKey) (*Store, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("catalog store: public key of %d bytes, an Ed25519 key has %d: %w", len(pub), ed25519.PublicKeySize, allimi.ErrInvalid)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCatalogs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog store: %w", err)
	}
	return &Store{
		db:      db,
		pub:     append(ed25519.PublicKey(nil), pub...),
		pending: make(map[string]*pendingCatalog),
		lastErr: make(map[string]error),
	}, nil
}

// Offer handles one MQTT message received on Filter: a manifest or a
// body, as the topic says. An empty payload (a cleared retained message) is
// ignored. A manifest whose name differs from its topic's is refused.
func (s *Store) Offer(topic string, payload []byte) error {
	name, isBody, ok := ParseTopic(topic)
	if !ok {
		return fmt.Errorf("catalog topic %q: %w", topic, allimi.ErrInvalid)
	}
	if len(payload) == 0 {
		return nil
	}
	if isBody {
		return s.OfferBody(name, payload)
	}
	m, err := DecodeManifest(payload)
	if err != nil {
		return s.fail(name, fmt.Errorf("catalog %s: %w", name, err))
	}
	if m.Name != name {
		return s.fail(name, fmt.Errorf("catalog %s: manifest on topic %s names catalog %q: %w", name, topic, m.Name, allimi.ErrInvalid))
	}
	return s.offerManifest(m)
}

// OfferManifest takes a manifest payload as published on Topic. It
// returns nil when the catalog is installed, was already installed, or waits
// for its body; otherwise the reason it was refused.
func (s *Store) OfferManifest(raw []byte) error {
	m, err := DecodeManifest(raw)
	if err != nil {
		return err // no trustworthy name to record it under
	}
	return s.offerManifest(m)
}

func (s *Store) offerManifest(m Manifest) error {
	if err := m.checkHeader(); err != nil {
		if ValidateName(m.Name) == nil {
			return s.fail(m.Name, err)
		}
		return err
	}
	if err := m.checkSignature(s.pub); err != nil {
		return s.fail(m.Name, err)
	}
	s.mu.Lock()
	p := s.pendingFor(m.Name)
	p.manifest = &m
	installed, err := s.settle(m.Name, p)
	return s.done(installed, err)
}

// OfferBody takes a catalog body as published on BodyTopic(name). It
// returns nil when the body installs a catalog, is already installed, or
// waits for its manifest; otherwise the reason it was refused. Only the
// latest body of each name waits; one above MaxBodySize is refused.
// The store keeps a copy: the caller may reuse body.
func (s *Store) OfferBody(name string, body []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if len(body) > MaxBodySize {
		return s.fail(name, fmt.Errorf("catalog %s: body of %d bytes, at most %d: %w", name, len(body), MaxBodySize, wire.ErrOversize))
	}
	sum := sha256.Sum256(body)
	own := append(make([]byte, 0, len(body)), body...)
	s.mu.Lock()
	p := s.pendingFor(name)
	p.body, p.bodySum = own, hex.EncodeToString(sum[:])
	installed, err := s.settle(name, p)
	return s.done(installed, err)
}

// LastError returns the error of the latest refused offer of catalog name,
// or nil when there was none since the latest install or re-delivery of a
// good catalog.
func (s *Store) LastError(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr[name]
}

// Get returns the installed manifest and body of catalog name, or an error
// wrapping allimi.ErrNotFound. It checks the body against the manifest's
// size and SHA-256 (not the signature, which was checked at install, so that
// a kiosk keeps its catalogs across a rotation of central's key).
func (s *Store) Get(name string) (Manifest, []byte, error) {
	var (
		m    Manifest
		body []byte
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCatalogs).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("catalog %q: %w", name, allimi.ErrNotFound)
		}
		var b []byte
		var err error
		if m, b, err = decodeCatalogRecord(v); err != nil {
			return fmt.Errorf("catalog %s: stored record: %w", name, err)
		}
		body = append(make([]byte, 0, len(b)), b...)
		return nil
	})
	if err != nil {
		return Manifest{}, nil, err
	}
	if int64(len(body)) != m.Size {
		return Manifest{}, nil, fmt.Errorf("catalog %s v%d: stored body is %d bytes, manifest says %d: %w", m.Name, m.Version, len(body), m.Size, ErrSizeMismatch)
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != m.SHA256 {
		return Manifest{}, nil, fmt.Errorf("catalog %s v%d: stored body does not match its sha256: %w", m.Name, m.Version, ErrHashMismatch)
	}
	return m, body, nil
}

// Versions returns the installed version of every catalog.
func (s *Store) Versions() (map[string]uint64, error) {
	out := make(map[string]uint64)
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCatalogs).ForEach(func(k, v []byte) error {
			m, _, err := decodeCatalogRecord(v)
			if err != nil {
				return fmt.Errorf("catalog %s: stored record: %w", k, err)
			}
			out[string(k)] = m.Version
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pendingFor returns the pending entry of name, creating it. Call with s.mu held.
func (s *Store) pendingFor(name string) *pendingCatalog {
	p := s.pending[name]
	if p == nil {
		p = &pendingCatalog{}
		s.pending[name] = p
	}
	return p
}

// settle installs what the pending entry of name allows and updates the
// pending entry and the last error. It returns the manifest installed, if
// any. Call with s.mu held.
func (s *Store) settle(name string, p *pendingCatalog) (*Manifest, error) {
	defer func() {
		if p.manifest == nil && p.body == nil {
			delete(s.pending, name)
		}
	}()
	if p.manifest == nil {
		// A body alone: drop it if it is the installed content, since only a
		// manifest that describes it could claim it, and one would install
		// from the stored body anyway.
		cur, ok, err := s.installedManifest(name)
		if err == nil && ok && cur.SHA256 == p.bodySum && cur.Size == int64(len(p.body)) {
			p.body, p.bodySum = nil, ""
		}
		return nil, err
	}
	m := *p.manifest
	var body []byte
	if p.body != nil && p.bodySum == m.SHA256 && int64(len(p.body)) == m.Size {
		body = p.body
	}
	changed, err := s.install(m, body)
	switch {
	case errors.Is(err, errCatalogWaiting):
		return nil, nil
	case err != nil:
		p.manifest = nil
		s.lastErr[name] = err
		return nil, err
	}
	// Installed, or already installed: neither the manifest nor a body of
	// that content is needed any more.
	p.manifest = nil
	if p.bodySum == m.SHA256 {
		p.body, p.bodySum = nil, ""
	}
	delete(s.lastErr, name)
	if !changed {
		return nil, nil
	}
	return &m, nil
}

// install verifies m against body, or against the installed body when body
// is nil and the installed content is the one m describes, and stores it in
// one transaction. It returns errCatalogWaiting when there is no body yet,
// and changed false for a re-delivery of the installed version.
func (s *Store) install(m Manifest, body []byte) (changed bool, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error {
		changed = false
		b := tx.Bucket(bucketCatalogs)
		key := []byte(m.Name)
		if v := b.Get(key); v != nil {
			cur, curBody, err := decodeCatalogRecord(v)
			if err != nil {
				return fmt.Errorf("catalog %s: stored record: %w", m.Name, err)
			}
			same := cur.SHA256 == m.SHA256 && cur.Size == m.Size
			switch {
			case m.Version < cur.Version:
				return fmt.Errorf("catalog %s v%d: v%d is installed: %w", m.Name, m.Version, cur.Version, ErrRollback)
			case m.Version == cur.Version && same:
				return nil
			case m.Version == cur.Version:
				return fmt.Errorf("catalog %s v%d: installed sha256 %s, offered %s: %w", m.Name, m.Version, cur.SHA256, m.SHA256, ErrVersionConflict)
			}
			if body == nil && same {
				body = curBody // valid until the end of tx; Put below copies it
			}
		}
		if body == nil {
			return errCatalogWaiting
		}
		if err := m.Verify(s.pub, body); err != nil {
			return err
		}
		rec, err := encodeCatalogRecord(m, body)
		if err != nil {
			return err
		}
		if err := b.Put(key, rec); err != nil {
			return fmt.Errorf("catalog %s v%d: store: %w", m.Name, m.Version, err)
		}
		changed = true
		return nil
	})
	return changed, err
}

// installedManifest reads the installed manifest of name, if any.
func (s *Store) installedManifest(name string) (Manifest, bool, error) {
	var (
		m  Manifest
		ok bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCatalogs).Get([]byte(name))
		if v == nil {
			return nil
		}
		var err error
		m, _, err = decodeCatalogRecord(v)
		ok = err == nil
		return err
	})
	return m, ok, err
}

// fail records err as the last error of name and returns it.
func (s *Store) fail(name string, err error) error {
	s.mu.Lock()
	s.lastErr[name] = err
	s.mu.Unlock()
	return err
}

// done releases s.mu, which the caller holds, and runs the callback after an
// install. It takes cbMu before it lets go of s.mu, so that callbacks run in
// the order of the installs.
func (s *Store) done(installed *Manifest, err error) error {
	if installed == nil || s.OnInstalled == nil {
		s.mu.Unlock()
		return err
	}
	s.cbMu.Lock()
	s.mu.Unlock()
	defer s.cbMu.Unlock()
	s.OnInstalled(*installed)
	return err
}

func encodeCatalogRecord(m Manifest, body []byte) ([]byte, error) {
	mj, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	rec := make([]byte, 0, 1+4+len(mj)+len(body))
	rec = append(rec, catalogRecordFormat)
	rec = binary.BigEndian.AppendUint32(rec, uint32(len(mj)))
	rec = append(rec, mj...)
	return append(rec, body...), nil
}

// decodeCatalogRecord splits a stored record; body aliases v.
func decodeCatalogRecord(v []byte) (Manifest, []byte, error) {
	var m Manifest
	if len(v) < 5 || v[0] != catalogRecordFormat {
		return m, nil, fmt.Errorf("unknown record format: %w", wire.ErrMalformed)
	}
	n := binary.BigEndian.Uint32(v[1:5])
	if uint64(n) > uint64(len(v)-5) {
		return m, nil, fmt.Errorf("manifest length %d beyond the record: %w", n, wire.ErrMalformed)
	}
	if err := json.Unmarshal(v[5:5+n], &m); err != nil {
		return m, nil, fmt.Errorf("manifest: %v: %w", err, wire.ErrMalformed)
	}
	return m, v[5+n:], nil
}
