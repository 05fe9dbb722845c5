// Command kbimport converts the call-centre export (qna_call_cases.json)
// into the knowledge-base catalog the binaries embed:
//
//	go run ./consult/internal/kbimport -in ../shared/data/consult/qna_call_cases.json -out assets/consult/kb.json
//
// (also `go generate ./assets`). The output is deterministic: running it
// again on the same export changes nothing.
package main

import (
	"flag"
	"fmt"
	"os"

	"allimi/consult"
)

func main() {
	in := flag.String("in", "../shared/data/consult/qna_call_cases.json", "the call-centre export")
	out := flag.String("out", "assets/consult/kb.json", "the catalog to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "kbimport:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	body, err := consult.ImportCallCases(src)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	kb, err := consult.DecodeCatalog(body)
	if err != nil {
		return fmt.Errorf("re-reading the catalog: %w", err)
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return err
	}
	fmt.Printf("kbimport: %d entries, %d bytes -> %s\n", len(kb.Entries), len(body), out)
	return nil
}
