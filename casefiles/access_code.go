package casefiles

import (
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"
)

// codeAlphabet has no 0/O, 1/I/L: the access identifier is read aloud at
// the counter and typed from paper (Art. 44(3)).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newAccessCode returns a random 12-character access identifier shown as
// XXXX-XXXX-XXXX (31^12 ≈ 2^59 possibilities) and its hash, the only thing
// stored.
func newAccessCode() (string, []byte, error) {
	var b strings.Builder
	n := big.NewInt(int64(len(codeAlphabet)))
	for i := 0; i < 12; i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", nil, err
		}
		b.WriteByte(codeAlphabet[k.Int64()])
	}
	code := b.String()
	return code, hashCode(code), nil
}

// hashCode is the SHA-256 of the code without dashes or spaces, upper
// case: "abcd-efgh-jkmn" and "ABCDEFGHJKMN" are the same code.
func hashCode(code string) []byte {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t':
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
	h := sha256.Sum256([]byte(norm))
	return h[:]
}
