package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"time"

	"allimi"
)

// contentSecurityPolicy is sent with every answer of central's own (the
// detail pages of /n/ send their own, central/detail). Central's pages have
// no scripts, no images and no frames; their one inline style block each is
// allowed by its hash. 'unsafe-inline' is there only for browsers older than
// CSP level 2: a browser that knows hashes ignores it (CSP3 §6.7.3.2).
var contentSecurityPolicy = "default-src 'none'; style-src " + styleHashes() +
	" 'unsafe-inline'; media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

var styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// styleHashes lists the CSP hashes of the style blocks of the officials',
// Receipt and delivery-table pages.
func styleHashes() string {
	var stats bytes.Buffer
	_ = statsPage.Execute(&stats, statsView{}) // its style is static; rows are not needed
	var hs []string
	for _, src := range []string{questionsPage, receiptPage, stats.String()} {
		for _, m := range styleBlock.FindAllStringSubmatch(src, -1) {
			h := sha256.Sum256([]byte(m[1]))
			hs = append(hs, "'sha256-"+base64.StdEncoding.EncodeToString(h[:])+"'")
		}
	}
	return strings.Join(hs, " ")
}

// securityHeaders are on every answer: no framing (clickjacking of the
// officials' answer form), no sniffing a JSON answer into a page, no URL
// (which holds receipt codes and tokens) sent on as a referrer.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// kstTime formats a time of day for a person in Korea: stored times are UTC.
// It takes a time.Time or a *time.Time (nil gives "").
func kstTime(t any, layout string) string {
	switch v := t.(type) {
	case time.Time:
		return v.In(allimi.KST).Format(layout)
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.In(allimi.KST).Format(layout)
	}
	return ""
}
