package central_test

import (
	"testing"

	"allimi/internal/pgtest"
)

// The tests of central on PostgreSQL share one server (internal/pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }
