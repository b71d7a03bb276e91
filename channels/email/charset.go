package email

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// maxCharsetInput bounds what one decode reads.
const maxCharsetInput = 8 << 20

// asciiLabels are labels under which mailers send anything at all.
var asciiLabels = map[string]bool{"": true, "us-ascii": true, "ascii": true, "us_ascii": true, "ansi_x3.4-1968": true,
	"utf-8": true, "utf8": true, "unknown-8bit": true, "x-unknown": true, "default": true}

// decodeCharset converts b from the labelled charset to UTF-8. A missing,
// wrong or unknown label falls back to detection, so the result is always
// valid UTF-8; problem names an unknown label.
func decodeCharset(label string, b []byte) (string, string) {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if asciiLabels[label] {
		return detect(b), ""
	}
	if enc := chineseEncoding(label); enc != nil {
		if fixed, ok := unMojibake(enc, b); ok {
			return fixed, ""
		}
		return valid(decodeWith(enc, b)), ""
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		return detect(b), "unknown charset " + label
	}
	out, err := io.ReadAll(io.LimitReader(r, maxCharsetInput))
	if err != nil {
		return detect(b), "undecodable " + label + " text"
	}
	return valid(string(out)), ""
}

// chineseEncoding returns the decoder for a Chinese charset label (nil for
// others). GB18030 is a superset of GBK and GB2312, and mailers label GBK
// text GB2312, so all three decode as GB18030.
func chineseEncoding(label string) encoding.Encoding {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`)) {
	case "gb2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "x-euc-cn", "csgb2312", "gb18030", "chinese":
		return simplifiedchinese.GB18030
	case "big5", "big5-hkscs", "x-big5", "cn-big5", "csbig5":
		return traditionalchinese.Big5
	}
	return nil
}

// unMojibake repairs text that was labelled with a Chinese charset but
// re-encoded along the way as Latin-1 → UTF-8: valid UTF-8 made only of
// runes below U+0100 whose Latin-1 bytes decode to real Chinese.
func unMojibake(enc encoding.Encoding, b []byte) (string, bool) {
	if !utf8.Valid(b) {
		return "", false
	}
	high := 0
	raw := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r > 0xFF {
			// Real UTF-8 under a Chinese label: keep it when it reads better.
			s := string(b)
			return s, chineseScore(s) > 0 && chineseScore(s) >= chineseScore(decodeWith(enc, b))
		}
		if r >= 0x80 {
			high++
		}
		raw = append(raw, byte(r))
	}
	if high == 0 {
		return string(b), true
	}
	s := decodeWith(enc, raw)
	if chineseScore(s) >= 3 {
		return valid(s), true
	}
	return "", false
}

func decodeWith(enc encoding.Encoding, b []byte) string {
	out, err := io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(b)))
	if err != nil {
		// Decoders replace invalid input; an error here is rare. Keep what we got.
		return string(out)
	}
	return string(out)
}

func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// detect returns b as UTF-8 when it is, else the best of GB18030, Big5 and
// Windows-1252: the Chinese decodings are scored by how many of the most
// frequent Chinese characters they produce, which random mis-decodings rarely
// do.
func detect(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	best, bestScore := "", 0
	for _, enc := range []encoding.Encoding{simplifiedchinese.GB18030, traditionalchinese.Big5} {
		s := decodeWith(enc, b)
		if score := chineseScore(s); score > bestScore {
			best, bestScore = s, score
		}
	}
	if bestScore >= 3 {
		return valid(best)
	}
	return valid(decodeWith(charmap.Windows1252, b))
}

// common holds frequent Chinese characters, simplified and traditional.
const common = "的一是不了在人有我他这這个個们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實日者意无無力它与與长長把机機十民第公此已工使情明性知全三又关關点點正业業外将將两兩高间間由问問很最重并物手应應向头頭文体體新己您请請谢謝"

var commonSet = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range common {
		m[r] = true
	}
	return m
}()

func chineseScore(s string) int {
	n, bad := 0, 0
	for _, r := range s {
		switch {
		case r == utf8.RuneError || r >= 0xE000 && r <= 0xF8FF:
			bad++
		case commonSet[r]:
			n++
		}
	}
	return n - 2*bad
}

// wordDecoder decodes RFC 2047 encoded words; unknown charsets fall back to
// detection instead of failing.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCharsetInput))
	if err != nil {
		return nil, err
	}
	s, _ := decodeCharset(label, b)
	return strings.NewReader(s), nil
}}

// decodeHeaderText decodes encoded words and raw 8-bit bytes (hint is the
// message's declared body charset, used for raw 8-bit headers such as
// Tencent Exmail's GB2312 ones). The result is valid UTF-8 without control
// characters.
func decodeHeaderText(v, hint string) string {
	v = decodeRaw8bit(v, hint)
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
	}
	return cleanLine(v)
}

// decodeRaw8bit converts a header with raw 8-bit bytes to UTF-8: mostly
// valid UTF-8 stays UTF-8 (broken bytes replaced), other bytes decode with
// the body's charset or by detection, and Chinese text that went through
// Latin-1 on the way is repaired.
func decodeRaw8bit(v, hint string) string {
	if utf8.ValidString(v) {
		if enc := chineseEncoding(hint); enc != nil {
			if s, ok := unMojibake(enc, []byte(v)); ok {
				return s
			}
		}
		return v
	}
	good, bad := 0, 0
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError {
			bad++
		} else if n > 1 {
			good++
		}
		i += n
	}
	if good > 2*bad {
		return strings.ToValidUTF8(v, "\uFFFD")
	}
	if hint != "" && !asciiLabels[strings.ToLower(hint)] {
		s, _ := decodeCharset(hint, []byte(v))
		return s
	}
	return detect([]byte(v))
}

// cleanLine drops control characters and collapses runs of white space.
func cleanLine(s string) string {
	s = valid(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
