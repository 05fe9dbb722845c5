package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// The errors of a database whose schema is not this build's, as Open and
// Migrate return them (errors.Is).
var (
	// ErrUnmigrated: the database lacks migrations this build needs; run
	// `allimi central migrate --store URL`.
	ErrUnmigrated = errors.New("database is not migrated")
	// ErrSchemaNewer: a newer build migrated the database further than
	// this build knows; upgrade allimi.
	ErrSchemaNewer = errors.New("database schema is newer than this build")
)

// schemaError says what is wrong with a database's schema, and is one of
// the errors above.
type schemaError struct {
	msg  string
	kind error
}

func (e *schemaError) Error() string        { return e.msg }
func (e *schemaError) Is(target error) bool { return target == e.kind }

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/: NNNN_name.sql, version NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// migrations reads the embedded files, in order. Versions run 1, 2, 3…
// without a gap: a file misnamed or missing is a bug of the build, caught
// by the tests.
func migrations() ([]migration, error) {
	return readMigrations(migrationFiles, "migrations")
}

func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, expected %d (versions run 1, 2, 3… without a gap)", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// Version is the schema version of this build: its last migration's.
func Version() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are the build's own
	}
	return len(ms)
}

// migrateLock is the advisory lock migrators take, each in each
// transaction, so that two of them never apply the same migration: the
// second waits, then finds it recorded.
const migrateLock int64 = 0x616c6c696d69 // "allimi"

// Migrate brings the database at url to this build's schema: it applies
// the migrations not yet recorded in schema_migrations, in order, each in
// one transaction with its record, and returns their versions (none when
// the schema was up to date). Migrators running at once apply each
// migration once. A database migrated by a newer build is ErrSchemaNewer,
// and left alone.
func Migrate(ctx context.Context, url string) (applied []int, err error) {
	return migrateTo(ctx, url, Version())
}

// migrateTo is Migrate up to version last (tests: a database as an
// older build left it).
func migrateTo(ctx context.Context, url string, last int) (applied []int, err error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	ms = ms[:min(last, len(ms))]
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(url), err)
	}
	defer conn.Close(context.Background())
	for _, m := range ms {
		done, err := apply(ctx, conn, m, Version())
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// apply applies m unless it is recorded, and says whether it did.
func apply(ctx context.Context, conn *pgx.Conn, m migration, latest int) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return false, fmt.Errorf("lock for migrations: %w", err)
	}
	// Created under the lock: two first migrators at once would both
	// create it otherwise, and one would fail.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	var recorded bool
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0), coalesce(bool_or(version = $1), false) FROM schema_migrations`,
		m.version).Scan(&newest, &recorded); err != nil {
		return false, err
	}
	if newest > latest {
		return false, newerError(conn.Config().Database, newest, latest)
	}
	if recorded {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	return true, nil
}

func newerError(db string, version, latest int) error {
	return &schemaError{fmt.Sprintf("database %s: schema version %d is newer than this build's %d: upgrade allimi", db, version, latest), ErrSchemaNewer}
}

// querier is what checkSchema needs of a pool or a connection.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkSchema refuses a database not at this build's schema version.
func checkSchema(ctx context.Context, q querier, db, url string) error {
	latest := Version()
	var version int
	var exists bool
	err := q.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	if err == nil && exists {
		err = q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version)
	}
	if err != nil {
		return fmt.Errorf("database %s: schema version: %w", db, err)
	}
	switch {
	case version > latest:
		return newerError(db, version, latest)
	case version < latest:
		at := "no schema"
		if version > 0 {
			at = fmt.Sprintf("schema version %d of %d", version, latest)
		}
		return &schemaError{fmt.Sprintf("database %s is not migrated (%s): run `allimi central migrate --store %s`", db, at, redact(url)), ErrUnmigrated}
	}
	return nil
}

// redact hides the password of a URL, for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "URL"
	}
	return u.Redacted()
}
