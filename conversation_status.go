package parley

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sub-statuses of an assigned conversation that waits on the customer. The
// conversation keeps its agent (and its slot); its SLA clocks pause. An
// inbound customer message makes it open again; a snoozed one also wakes
// at its SnoozedUntil.
const (
	SubOpen    = "open" // the API's name for "" (not waiting)
	SubPending = "pending"
	SubSnoozed = "snoozed"
)

// Limits of conversation tags.
const (
	MaxTagLen  = 50
	MaxTags    = 20
	tagInvalid = "1 to 50 letters, digits, '-', '_', '.' or ':'"
)

// NormalizeTag returns a tag in its stored form (trimmed, lower case) or
// an EINVALID error.
func NormalizeTag(tag string) (string, error) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	ok := tag != "" && utf8.RuneCountInString(tag) <= MaxTagLen
	for _, r := range tag {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.:", r) {
			ok = false
		}
	}
	if !ok {
		return "", Invalid(fmt.Sprintf("Invalid tag %q.", tag), map[string]string{"tag": tagInvalid})
	}
	return tag, nil
}

// NormalizeTags normalises a list of tags, dropping duplicates.
func NormalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		n, err := NormalizeTag(t)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
