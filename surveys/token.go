package surveys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/parleyhq/parley"
)

// Signer signs and verifies the tokens of the email answer page: a survey
// request id and an expiry, authenticated with HMAC-SHA256 under a key
// derived from PARLEY_SECRET_KEY. Tokens need no login and no database
// look-up to be refused.
type Signer struct{ key []byte }

// NewSigner derives the survey-link key from the server secret.
func NewSigner(secret []byte) *Signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("parley survey links v1"))
	return &Signer{key: m.Sum(nil)}
}

// Sign returns a URL-safe token for request id that expires at exp.
func (s *Signer) Sign(requestID int64, exp time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(requestID))
	binary.BigEndian.PutUint64(b[8:], uint64(exp.Unix()))
	m := hmac.New(sha256.New, s.key)
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(append(b[:], m.Sum(nil)[:16]...))
}

// Verify returns the request id of a token: EUNAUTHORIZED when it was
// tampered with, EINVALID ("expired") after its expiry.
func (s *Signer) Verify(token string, now time.Time) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return 0, parley.Errorf(parley.EUNAUTHORIZED, "This survey link is not valid.")
	}
	m := hmac.New(sha256.New, s.key)
	m.Write(raw[:16])
	if !hmac.Equal(m.Sum(nil)[:16], raw[16:]) {
		return 0, parley.Errorf(parley.EUNAUTHORIZED, "This survey link is not valid.")
	}
	if exp := int64(binary.BigEndian.Uint64(raw[8:16])); now.Unix() >= exp {
		return 0, parley.Errorf(parley.EINVALID, "This survey link has expired.")
	}
	return int64(binary.BigEndian.Uint64(raw[:8])), nil
}
