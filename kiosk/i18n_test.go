package kiosk

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"

	"allimi/assets"
)

func loadAll(t *testing.T) Translations {
	t.Helper()
	tr, err := LoadTranslations(assets.Translations())
	require.NoError(t, err)
	require.Len(t, tr, len(Langs))
	return tr
}

// TestTranslations_EveryLanguageHasEveryKey: the six languages are 100 %
// covered: the same keys as Korean (the source), none empty, and the same
// {placeholders} in every string.
func TestTranslations_EveryLanguageHasEveryKey(t *testing.T) {
	tr := loadAll(t)
	ko := tr[LangKo]
	require.NotEmpty(t, ko)
	for _, l := range Langs {
		t.Run(string(l), func(t *testing.T) {
			for k, src := range ko {
				s, ok := tr[l][k]
				if !assert.True(t, ok, "%s lacks %q", l, k) {
					continue
				}
				assert.NotEmpty(t, strings.TrimSpace(s), "%s %q is empty", l, k)
				assert.Equal(t, placeholders(src), placeholders(s), "%s %q placeholders", l, k)
			}
			for k := range tr[l] {
				_, ok := ko[k]
				assert.True(t, ok, "%s has %q, which Korean (the source) does not", l, k)
			}
		})
	}
}

// keyPattern is what a translation key looks like in the code.
var keyPattern = regexp.MustCompile(`^[a-z]+\.[a-z0-9_.-]+$`)

// usedKeys lists every string literal in the package's code that has the
// form of a key in a known section.
func usedKeys(t *testing.T, sections map[string]bool) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	used := map[string][]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !keyPattern.MatchString(s) {
				return true
			}
			if sections[s[:strings.IndexByte(s, '.')]] {
				used[s] = append(used[s], fset.Position(lit.Pos()).String())
			}
			return true
		})
	}
	return used
}

// TestTranslations_EveryKeyTheCodeUsesExists checks both ways: each key
// the code names (or builds from the types and channels) is in the
// translations, and each translated string is shown somewhere.
func TestTranslations_EveryKeyTheCodeUsesExists(t *testing.T) {
	ko := loadAll(t)[LangKo]
	sections := map[string]bool{}
	for k := range ko {
		sections[k[:strings.IndexByte(k, '.')]] = true
	}
	used := usedKeys(t, sections)
	require.NotEmpty(t, used, "found no keys in the code: the scan is broken")
	for k, where := range used {
		_, ok := ko[k]
		assert.True(t, ok, "%q used at %v is not translated", k, where)
	}
	for _, k := range dynamicKeys() {
		_, ok := ko[k]
		assert.True(t, ok, "%q (built from the domain's types and channels) is not translated", k)
		used[k] = append(used[k], "dynamicKeys")
	}
	for k := range ko {
		_, ok := used[k]
		assert.True(t, ok, "%q is translated but never used", k)
	}
}

// TestFontsCoverTranslations: every character of every language's strings
// has a glyph in the fonts the kiosk embeds for it (the language's font or
// Fyne's own Noto Sans, which Fyne falls back to), so no screen shows
// boxes on a kiosk with no system fonts. The same for each language's name
// in the font the home screen draws it with.
func TestFontsCoverTranslations(t *testing.T) {
	tr := loadAll(t)
	parse := func(r fyne.Resource) *font.Face {
		f, err := font.ParseTTF(bytes.NewReader(r.Content()))
		require.NoError(t, err, r.Name())
		return f
	}
	fallback := parse(theme.DefaultTextFont())
	covered := func(faces []*font.Face, r rune) bool {
		for _, f := range faces {
			if _, ok := f.NominalGlyph(r); ok {
				return true
			}
		}
		return false
	}
	for _, l := range Langs {
		fonts := fontsFor(l)
		for _, style := range []fyne.Resource{fonts.regular, fonts.bold} {
			faces := []*font.Face{parse(style), fallback}
			missing := map[rune]string{}
			for k, s := range tr[l] {
				for _, r := range s {
					if unicode.IsControl(r) || covered(faces, r) {
						continue
					}
					missing[r] = k
				}
			}
			assert.Empty(t, missing, "%s: characters without a glyph in %s (run assets/fonts/subset-cjk.sh)", l, style.Name())
		}
		name := parse(nameFont(l))
		for _, r := range l.Name() {
			assert.True(t, covered([]*font.Face{name}, r), "%s: its name's %q is not in %s", l, r, nameFont(l).Name())
		}
	}
}

// TestFontsCoverHangul: the name a person types is shown whatever the
// screen's language, so every font that replaces Fyne's has all 11,172
// Hangul syllables (Thai's and Vietnamese's fall back on the system).
func TestFontsCoverHangul(t *testing.T) {
	for _, l := range []Lang{LangKo, LangEn, LangJa, LangZh} {
		f, err := font.ParseTTF(bytes.NewReader(fontsFor(l).regular.Content()))
		require.NoError(t, err)
		for r := rune(0xAC00); r <= 0xD7A3; r++ {
			if _, ok := f.NominalGlyph(r); !ok {
				t.Errorf("%s font lacks %q", l, r)
				break
			}
		}
	}
}

func TestT_ReplacesPlaceholdersAndFallsBack(t *testing.T) {
	assert.Equal(t, "Step 2 of 5", LangEn.T("nav.step", "n", 2, "total", 5))
	assert.Equal(t, "2 / 5 단계", LangKo.T("nav.step", "n", 2, "total", 5))
	assert.Equal(t, "no.such.key", LangEn.T("no.such.key"))
	assert.True(t, LangTh.Valid())
	assert.False(t, Lang("fr").Valid())
}

// TestLangs_AreTheLanguagesASignupMayName: the kiosk offers exactly the
// languages central accepts in a sign-up, in the order of its constants.
func TestLangs_AreTheLanguagesASignupMayName(t *testing.T) {
	assert.Equal(t, []Lang{LangKo, LangEn, LangJa, LangZh, LangTh, LangVi}, Langs)
	assert.Equal(t, allimi.DefaultLanguage, string(DefaultLang))
	for _, l := range Langs {
		assert.NoError(t, allimi.ValidateLanguage("lang", string(l)))
	}
}
