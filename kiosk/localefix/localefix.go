// Package localefix makes the process's locale variables usable by Fyne.
// Import it for its side effect, from the main package of any program that
// opens Fyne windows (and from tests that render with Fyne's test driver):
//
//	import _ "allimi/kiosk/localefix"
//
// Fyne reads LC_ALL, LC_MESSAGES and LANG itself, already while its lang
// package initialises, and logs "Error parsing user locale C" when they name
// the C or POSIX locale with an encoding (LANG=C.UTF-8, Debian's default in
// containers and CI). This package's init replaces such values before that:
// Go initialises packages in import-path order among those whose imports are
// ready, and this one imports only os, which Fyne's lang package needs too,
// while "allimi/..." sorts before "fyne.io/...".
package localefix

import "os"

func init() { Fix() }

// Fix replaces C and POSIX locale values that carry an encoding or modifier
// (C.UTF-8, POSIX@x) in LC_ALL and LC_MESSAGES (unset) and LANG (set to
// en_US.UTF-8). Plain "C", "POSIX" and real locales are left alone.
func Fix() {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v, ok := os.LookupEnv(name)
		if !ok || v == "" || !isCLocale(v) {
			continue
		}
		if name == "LANG" {
			os.Setenv(name, "en_US.UTF-8")
		} else {
			os.Unsetenv(name)
		}
	}
}

// isCLocale reports whether v is the C or POSIX locale with an encoding or
// modifier, such as C.UTF-8.
func isCLocale(v string) bool {
	base := v
	for i := 0; i < len(v); i++ {
		if v[i] == '.' || v[i] == '@' {
			base = v[:i]
			break
		}
	}
	return base != v && (base == "C" || base == "POSIX")
}
