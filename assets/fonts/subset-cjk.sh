#!/usr/bin/env bash
# Regenerates the Japanese and Simplified Chinese kiosk fonts: the JP and SC
# faces of Noto Sans CJK (SIL OFL 1.1, Debian fonts-noto-cjk), subset to
# what the kiosk shows in those languages:
#
#   - every character of assets/i18n/ja.toml and zh.toml,
#   - ASCII, Latin-1, general and CJK punctuation, full-width forms,
#   - all kana (a Japanese reader's name may be typed in kana),
#   - the 2,350 Hangul syllables of KS X 1001 (names of Korean people,
#     typed at a Korean kiosk, shown on a Japanese or Chinese screen).
#
# The full faces are 16 MB each; the subsets keep the kiosk's binary and
# memory small. Run it after a translation adds a character; the kiosk's
# TestFontsCoverTranslations fails until you do.
#
# Needs: python3-fonttools (pyftsubset) and fonts-noto-cjk, or NOTO_CJK_DIR
# pointing at a directory holding NotoSansCJK-{Regular,Bold}.ttc.
set -euo pipefail
cd "$(dirname "$0")"

NOTO_CJK_DIR=${NOTO_CJK_DIR:-/usr/share/fonts/opentype/noto}
PY=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PY" - "$tmp/ja.txt" "$tmp/zh.txt" <<'PYEOF'
import sys, tomllib
def chars(path):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = set()
    def walk(v):
        if isinstance(v, dict):
            for x in v.values(): walk(x)
        else:
            out.update(v)
    walk(data)
    return out
common = set(chr(c) for c in range(0x20, 0x7F)) | set(chr(c) for c in range(0xA0, 0x100))
common |= set(chr(c) for c in range(0x2000, 0x206F))    # general punctuation
common |= set(chr(c) for c in range(0x3000, 0x3040))    # CJK symbols and punctuation
common |= set(chr(c) for c in range(0xFF01, 0xFF5F))    # full-width forms
common |= set("●·…•")
for c in range(0xAC00, 0xD7A4):                          # Hangul of KS X 1001
    try:
        chr(c).encode("euc-kr")
        common.add(chr(c))
    except UnicodeEncodeError:
        pass
kana = set(chr(c) for c in range(0x3040, 0x3100))
for lang, path, extra in (("ja", sys.argv[1], kana), ("zh", sys.argv[2], set())):
    s = chars("../i18n/%s.toml" % lang) | common | extra
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(sorted(c for c in s if c.isprintable() or c == " ")))
PYEOF

# Face indices in the Noto Sans CJK collections: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK.
for weight in Regular Bold; do
	for pair in jp:0:ja sc:2:zh; do
		IFS=: read -r face index lang <<<"$pair"
		"$PY" -m fontTools.subset "$NOTO_CJK_DIR/NotoSansCJK-$weight.ttc" --font-number="$index" \
			--text-file="$tmp/$lang.txt" --layout-features='*' --no-hinting \
			--output-file="NotoSansCJK$face-$weight-subset.otf"
		echo "NotoSansCJK$face-$weight-subset.otf: $(stat -c %s "NotoSansCJK$face-$weight-subset.otf") bytes"
	done
done
