package detail

import "time"

// Storage keeps what the pages need: the token numbers reserved, the
// records of tokens issued with their detail (Issue, IssueRef), the shared
// details (PutShared), and the wrong tries and locks of each token. Bolt is
// central's bbolt file; central/pg keeps them in PostgreSQL. The Store
// makes, seals, checks and shows them: a Storage only keeps what it is
// given, as it is given, and answers for reserved tokens that have no
// record (Tx.Resolve) from its caller's own records.
type Storage interface {
	// ViewDetails runs f in a read-only transaction: one snapshot, no
	// writes.
	ViewDetails(f func(Tx) error) error
	// UpdateDetails runs f in a write transaction, committed when f
	// returns nil. Two of them that count a wrong try of the same token
	// behave as if run one after the other: both tries count. f may be
	// run again (after a conflict with another writer), from the start.
	UpdateDetails(f func(Tx) error) error
	// PurgeDetails deletes the records of tokens that expired at or before
	// now, with their tries, the tries of the tokens without record that
	// expired then too where the Storage knows their expiry, and the
	// shared details that expired at or before now; it returns the number
	// of records deleted.
	PurgeDetails(now time.Time) (int, error)
}

// Writer is what issuing needs of a transaction: the caller's own (the
// dispatcher issues tokens inside the transactions it already runs; see
// BoltTx), or a Storage's (Tx).
type Writer interface {
	// ReserveTokens sets aside n token numbers, base+1 to base+n, that no
	// other reservation gets (those of a transaction rolled back may be
	// given again, or not).
	ReserveTokens(n uint64) (base uint64, err error)
	// PutRecord stores the record of token number seq, which expires at
	// expires (whole seconds); the record never changes.
	PutRecord(seq uint64, expires time.Time, record []byte) error
	// Shared returns the shared detail stored under key (encoded), and its
	// expiry; nil when there is none.
	Shared(key string) (expires time.Time, detail []byte, err error)
	// PutShared stores, or replaces, the shared detail under key.
	PutShared(key string, expires time.Time, detail []byte) error
}

// Tx is a transaction of a Storage.
type Tx interface {
	Writer
	// Record returns the record of token number seq as PutRecord stored
	// it; nil when there is none.
	Record(seq uint64) ([]byte, error)
	// Resolve answers for token number seq, which has no record, from
	// the caller's own records (see Resolver): ok is false when it does not
	// know the token or the secret part does not match.
	Resolve(seq uint64, secret [16]byte) (r Resolved, ok bool, err error)
	// Attempts returns token number seq's try counter; ok is false when
	// none is stored.
	Attempts(seq uint64) (a Attempts, ok bool, err error)
	// PutAttempts stores token number seq's try counter; expires is the
	// token's, after which PurgeDetails may delete the counter.
	PutAttempts(seq uint64, a Attempts, expires time.Time) error
	// DeleteAttempts deletes it.
	DeleteAttempts(seq uint64) error
}

// Resolved is a token answered for by the caller's records: the
// recipient's own fields, the key of the shared detail (PutShared), their
// date of birth (YYYY-MM-DD), when the page expires and their language.
type Resolved struct {
	Fields    []Field
	Shared    string
	BirthDate string
	Expires   time.Time
	// Lang is the recipient's language (one of allimi.Languages; empty
	// is Korean), in which their page speaks.
	Lang string
}

// Attempts is a token's try counter: wrong dates of birth since the last
// right one, and until when it is locked (zero: not locked), in whole
// seconds.
type Attempts struct {
	Failures    int
	LockedUntil time.Time
}
