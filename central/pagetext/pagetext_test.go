package pagetext

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type words struct {
	Lang  string `toml:"-"`
	Hello string
	Bye   string
	Note  string `pagetext:"optional"`
}

func TestLoad_KoreanForWhatALanguageLacks(t *testing.T) {
	m, err := Load[words]("test", `
[ko]
hello = "안녕하세요"
bye = "안녕히 가세요"

[en]
hello = "Hello"
note = "Only in English"
`)
	require.NoError(t, err)
	assert.Equal(t, &words{Hello: "Hello", Bye: "안녕히 가세요", Note: "Only in English"}, m["en"])
	assert.Equal(t, &words{Hello: "안녕하세요", Bye: "안녕히 가세요"}, m["th"], "no table: all Korean")
	assert.Len(t, m, 6)
}

func TestLoad_Refuses(t *testing.T) {
	for name, src := range map[string]string{
		"[ko] has no bye":        "[ko]\nhello = \"a\"\n",
		"no [ko] table":          "[en]\nhello = \"a\"\nbye = \"b\"\n",
		"[fr]: not one of":       "[ko]\nhello = \"a\"\nbye = \"b\"\n[fr]\nhello = \"a\"\n",
		"unknown keys [en.helo]": "[ko]\nhello = \"a\"\nbye = \"b\"\n[en]\nhelo = \"a\"\n",
		"test: toml:":            "[ko\n",
	} {
		_, err := Load[words]("test", src)
		assert.ErrorContains(t, err, name)
	}
}
