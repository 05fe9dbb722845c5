package localefix

import (
	"os"
	"testing"
)

func TestIsCLocale(t *testing.T) {
	for v, want := range map[string]bool{
		"C.UTF-8": true, "C.utf8": true, "POSIX.UTF-8": true, "C@euro": true,
		"C": false, "POSIX": false, "en_US.UTF-8": false, "ko_KR.UTF-8": false, "Ca_ES.UTF-8": false,
	} {
		if got := isCLocale(v); got != want {
			t.Errorf("isCLocale(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestFix(t *testing.T) {
	t.Setenv("LC_ALL", "C.UTF-8")
	t.Setenv("LC_MESSAGES", "ko_KR.UTF-8")
	t.Setenv("LANG", "C.UTF-8")
	Fix()
	if v, ok := os.LookupEnv("LC_ALL"); ok {
		t.Errorf("LC_ALL = %q, want unset", v)
	}
	if v := os.Getenv("LC_MESSAGES"); v != "ko_KR.UTF-8" {
		t.Errorf("LC_MESSAGES = %q, want it kept", v)
	}
	if v := os.Getenv("LANG"); v != "en_US.UTF-8" {
		t.Errorf("LANG = %q, want en_US.UTF-8", v)
	}
}
