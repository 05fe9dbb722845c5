package voice

import (
	"os"
	"path/filepath"
)

// SileroFile is where make deps puts Silero VAD, relative to the
// repository root.
const SileroFile = ".cache/models/silero_vad.onnx"

// FindSilero returns the Silero VAD model to use when none is named: the
// file named by $ALLIMI_SILERO_MODEL, else .cache/models/silero_vad.onnx
// in the working directory or one above it (a source checkout; tests run
// in package directories), else /usr/share/allimi/models/silero_vad.onnx
// (an installed package). "" when there is none.
func FindSilero() string {
	if p := os.Getenv("ALLIMI_SILERO_MODEL"); p != "" {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, SileroFile)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if p := "/usr/share/allimi/models/silero_vad.onnx"; fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
