package crm

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Attribute types.
const (
	TypeText    = "text"
	TypeNumber  = "number"
	TypeDate    = "date"
	TypeBoolean = "boolean"
	TypeList    = "list"
)

// AttributeTypes lists the attribute types.
var AttributeTypes = []string{TypeText, TypeNumber, TypeDate, TypeBoolean, TypeList}

// AttributeDef is an admin's definition of a custom attribute. Values of a
// defined key are checked on every profile update; keys without a
// definition stay free text.
type AttributeDef struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Options []string `json:"options"` // allowed values of a list
}

var attrKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate checks a definition and tidies its label and options.
func (d *AttributeDef) Validate() error {
	f := map[string]string{}
	if !attrKey.MatchString(d.Key) {
		f["key"] = "1 to 64 of a-z, 0-9 and _, starting with a letter"
	}
	d.Label = strings.TrimSpace(d.Label)
	if utf8.RuneCountInString(d.Label) > 100 {
		f["label"] = "at most 100 characters"
	}
	if !slices.Contains(AttributeTypes, d.Type) {
		f["type"] = "one of " + strings.Join(AttributeTypes, ", ")
	}
	opts := []string{}
	for _, o := range d.Options {
		o = strings.TrimSpace(o)
		if o == "" || utf8.RuneCountInString(o) > 100 {
			f["options"] = "options are 1 to 100 characters"
			break
		}
		if !slices.Contains(opts, o) {
			opts = append(opts, o)
		}
	}
	switch {
	case d.Type == TypeList && len(opts) == 0:
		f["options"] = "a list needs at least one allowed value"
	case d.Type != TypeList && len(opts) > 0:
		f["options"] = "only list attributes have options"
	case len(opts) > 100:
		f["options"] = "at most 100 options"
	}
	d.Options = opts
	if len(f) > 0 {
		return parley.Invalid("Invalid attribute definition.", f)
	}
	return nil
}

// Check validates a value of the attribute and returns it in canonical
// form: numbers as Go formats them, dates YYYY-MM-DD, booleans true/false.
// The error is the reason, for the field "attributes.<key>".
func (d AttributeDef) Check(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch d.Type {
	case TypeNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", fmt.Errorf("a number such as 42 or 3.5")
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case TypeDate:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return "", fmt.Errorf("a date as YYYY-MM-DD")
		}
		return t.Format(time.DateOnly), nil
	case TypeBoolean:
		switch strings.ToLower(v) {
		case "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return "", fmt.Errorf("true or false")
	case TypeList:
		if !slices.Contains(d.Options, v) {
			return "", fmt.Errorf("one of %s", strings.Join(d.Options, ", "))
		}
		return v, nil
	default:
		if utf8.RuneCountInString(v) > 2000 {
			return "", fmt.Errorf("at most 2000 characters")
		}
		return v, nil
	}
}

// AttrValue is an attribute value in a patch: a JSON string, number or
// boolean (stored as text).
type AttrValue string

// UnmarshalJSON accepts a string, a number or a boolean.
func (a *AttrValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = AttrValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*a = AttrValue(n.String())
		return nil
	}
	var t bool
	if err := json.Unmarshal(b, &t); err == nil {
		*a = AttrValue(strconv.FormatBool(t))
		return nil
	}
	return fmt.Errorf("an attribute value is a string, a number or a boolean")
}

// DefsByKey indexes definitions by key.
func DefsByKey(defs []AttributeDef) map[string]AttributeDef {
	m := make(map[string]AttributeDef, len(defs))
	for _, d := range defs {
		m[d.Key] = d
	}
	return m
}
