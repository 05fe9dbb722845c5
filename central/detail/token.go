package detail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"sync"
)

// TokenLen is the length of a token: base64url, no padding, of a 5-byte
// sequence number and 16 random bytes. Budget it in SMS templates.
const TokenLen = rawLen * 4 / 3 // 28; rawLen is a multiple of 3, so no padding bits

const (
	seqLen  = 5  // 2^40 tokens before the sequence runs out
	randLen = 16 // 128 bits from crypto/rand: the secret part
	rawLen  = seqLen + randLen
	maxSeq  = 1<<(8*seqLen) - 1
)

var tokenEncoding = base64.RawURLEncoding.Strict()

type rawToken [rawLen]byte

// newToken makes the token for sequence number seq.
func newToken(seq uint64) (rawToken, error) {
	var t rawToken
	if seq > maxSeq {
		return t, fmt.Errorf("detail token sequence exhausted (%d issued)", maxSeq)
	}
	for i := seqLen - 1; i >= 0; i-- {
		t[i] = byte(seq)
		seq >>= 8
	}
	_, _ = rand.Read(t[seqLen:]) // never fails since Go 1.24
	return t, nil
}

// parseToken checks the token's form without looking anything up.
func parseToken(s string) (rawToken, bool) {
	var t rawToken
	if len(s) != TokenLen {
		return t, false
	}
	n, err := tokenEncoding.Decode(t[:], []byte(s))
	return t, err == nil && n == rawLen
}

func (t *rawToken) key() []byte { return t[:seqLen] }

func (t *rawToken) String() string { return tokenEncoding.EncodeToString(t[:]) }

// Domain separation: one secret keys two different uses.
var (
	labelDOB  = []byte("allimi detail dob\x00")
	labelSeal = []byte("allimi detail seal\x00")
)

// macs recycles HMAC states: Issue runs a million times per campaign.
type macs struct{ pool sync.Pool }

func newMACs(secret []byte) *macs {
	key := append([]byte(nil), secret...)
	return &macs{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

func (m *macs) sum(dst []byte, parts ...[]byte) []byte {
	h := m.pool.Get().(hash.Hash)
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	dst = h.Sum(dst)
	m.pool.Put(h)
	return dst
}

// dobMAC is the first macLen bytes of HMAC(secret, token, date of birth);
// dob is already in allimi.DateLayout.
func (m *macs) dobMAC(t *rawToken, dob string) []byte {
	var buf [sha256.Size]byte
	return m.sum(buf[:0], labelDOB, t[:], []byte(dob))[:macLen]
}

// sealer is the AEAD for the token's record. Its key depends on the whole
// token, so the file and the secret together still open no record, and each
// key seals exactly one record: a fixed nonce is safe.
func (m *macs) sealer(t *rawToken) cipher.AEAD {
	var buf [sha256.Size]byte
	block, err := aes.NewCipher(m.sum(buf[:0], labelSeal, t[:]))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

var zeroNonce = make([]byte, 12)

// seq is t's sequence number.
func (t *rawToken) seq() uint64 {
	var seq uint64
	for _, c := range t[:seqLen] {
		seq = seq<<8 | uint64(c)
	}
	return seq
}
