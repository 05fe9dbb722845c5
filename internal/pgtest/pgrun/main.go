// Command pgrun runs a command with a PostgreSQL server of its own: it
// starts one as the tests do (internal/pgtest: a temporary directory, a
// unix socket), creates an empty database, runs the command with every
// "{store}" in its arguments replaced by the database's URL, then stops
// the server and removes it. `make bench` measures central on PostgreSQL
// with it:
//
//	go run ./internal/pgtest/pgrun bin/allimi bench fanout --store '{store}' --workers 2
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"allimi/internal/pgtest"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: pgrun COMMAND [ARG…]   ({store} in the arguments is the database's URL)")
		return 2
	}
	defer pgtest.Stop()
	url, err := pgtest.Database("pgrun")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgrun:", err)
		return 1
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{store}", url)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "pgrun:", err)
		return 1
	}
	return 0
}
