#!/usr/bin/env bash
# Regenerates the kiosk's Korean, Japanese and Simplified Chinese fonts:
# the KR, JP and SC faces of Noto Sans CJK (SIL OFL 1.1, Debian
# fonts-noto-cjk), subset to what the kiosk shows:
#
#   - every character of the language's translation file (ko and en for
#     the Korean face, which also draws English),
#   - ASCII, Latin-1 and Latin Extended-A/B, general and CJK punctuation,
#     full-width forms,
#   - all 11,172 Hangul syllables and the compatibility jamo (the names of
#     the people who sign up, whatever the screen's language),
#   - all kana in the Japanese face,
#   - 日本語 and 中文 in the Korean face (the language buttons).
#
# The full faces are 16 MB each. The subsets (about 1.3 MB) keep the
# binary small and, being CFF fonts, cost the kiosk far less memory to load
# than NanumGothic's TrueType outlines (measured: 250 → 180 MB peak RSS).
# Run it after a translation adds a character; the kiosk's
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

"$PY" - "$tmp/ko.txt" "$tmp/ja.txt" "$tmp/zh.txt" <<'PYEOF'
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
common = set(chr(c) for c in range(0x20, 0x7F)) | set(chr(c) for c in range(0xA0, 0x250))
common |= set(chr(c) for c in range(0x2000, 0x206F))    # general punctuation
common |= set(chr(c) for c in range(0x3000, 0x3040))    # CJK symbols and punctuation
common |= set(chr(c) for c in range(0xFF01, 0xFF5F))    # full-width forms
common |= set("●·…•")
common |= set(chr(c) for c in range(0xAC00, 0xD7A4))    # Hangul syllables
common |= set(chr(c) for c in range(0x3130, 0x3190))    # Hangul compatibility jamo
kana = set(chr(c) for c in range(0x3040, 0x3100))
for langs, path, extra in ((("ko", "en"), sys.argv[1], set("日本語中文")),
                           (("ja",), sys.argv[2], kana), (("zh",), sys.argv[3], set())):
    s = common | extra
    for lang in langs:
        s |= chars("../i18n/%s.toml" % lang)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(sorted(c for c in s if c.isprintable() or c == " ")))
PYEOF

# Face indices in the Noto Sans CJK collections: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK.
for weight in Regular Bold; do
	for pair in kr:1:ko jp:0:ja sc:2:zh; do
		IFS=: read -r face index lang <<<"$pair"
		"$PY" -m fontTools.subset "$NOTO_CJK_DIR/NotoSansCJK-$weight.ttc" --font-number="$index" \
			--text-file="$tmp/$lang.txt" --layout-features='*' --no-hinting \
			--output-file="NotoSansCJK$face-$weight-subset.otf"
		echo "NotoSansCJK$face-$weight-subset.otf: $(stat -c %s "NotoSansCJK$face-$weight-subset.otf") bytes"
	done
done
