package secret

import (
	"bytes"
	"testing"
)

func TestSealOpenRoundTripAndTamperDetection(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := b.Seal([]byte("auth-token"), []byte("inbox:1")), b.Seal([]byte("auth-token"), []byte("inbox:1"))
	if bytes.Equal(s1, s2) {
		t.Error("two seals of the same value are equal; want a fresh nonce each time")
	}
	if bytes.Contains(s1, []byte("auth-token")) {
		t.Error("sealed value contains the plaintext")
	}
	got, err := b.Open(s1, []byte("inbox:1"))
	if err != nil || string(got) != "auth-token" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(s1, []byte("inbox:2")); err != ErrOpen {
		t.Errorf("open under other associated data: %v; want ErrOpen", err)
	}
	tampered := append([]byte(nil), s1...)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open(tampered, []byte("inbox:1")); err != ErrOpen {
		t.Errorf("open tampered: %v; want ErrOpen", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(s1, []byte("inbox:1")); err != ErrOpen {
		t.Errorf("open with another key: %v; want ErrOpen", err)
	}
	if _, err := b.Open(nil, nil); err != ErrOpen {
		t.Errorf("open empty: %v", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}
