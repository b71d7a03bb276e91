package crm

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// Import targets a CSV column can be mapped to, besides "attributes.<key>"
// and "ignore".
var ImportFields = []string{"name", "email", "phone", "company", "locale", "timezone", "lifecycle_stage", "tags"}

// MaxImportRows bounds one import.
const MaxImportRows = 100000

// ImportError is one reason a CSV row was not imported. Row is the line
// number in the file (the header is line 1).
type ImportError struct {
	Row    int    `json:"row"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ReadCSV parses a CSV file (UTF-8, optional BOM, comma-separated, first
// line the header). A malformed file is refused as a whole.
func ReadCSV(data []byte) (header []string, rows [][]string, err error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	header, err = r.Read()
	if err == io.EOF {
		return nil, nil, parley.Invalid("The file is empty.", map[string]string{"file": "a CSV file with a header line"})
	}
	if err != nil {
		return nil, nil, parley.Invalid("The file is not valid CSV.", map[string]string{"file": err.Error()})
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, parley.Invalid("The file is not valid CSV.", map[string]string{"file": err.Error()})
		}
		if len(rows) == MaxImportRows {
			return nil, nil, parley.Invalid("The file is too long.", map[string]string{"file": fmt.Sprintf("at most %d rows", MaxImportRows)})
		}
		rows = append(rows, rec)
	}
	return header, rows, nil
}

// ValidateMapping checks a mapping of CSV columns (header names) to import
// targets. Every column of the file must be mapped (use "ignore" to skip
// one), and a name, email or phone column is required.
func ValidateMapping(header []string, mapping map[string]string, defs map[string]AttributeDef) error {
	f := map[string]string{}
	seen := map[string]string{}
	key := false
	for _, col := range header {
		target, ok := mapping[col]
		switch {
		case !ok:
			f["mapping."+col] = "map this column (to ignore it: \"ignore\")"
			continue
		case target == "ignore":
			continue
		case strings.HasPrefix(target, "attributes."):
			k := strings.TrimPrefix(target, "attributes.")
			if !attrKey.MatchString(k) {
				f["mapping."+col] = "attributes.<key> with a key of a-z, 0-9 and _"
				continue
			}
		case !slices.Contains(ImportFields, target):
			f["mapping."+col] = "one of " + strings.Join(ImportFields, ", ") + ", attributes.<key> or ignore"
			continue
		}
		if other, dup := seen[target]; dup {
			f["mapping."+col] = "column " + other + " is already mapped to " + target
		}
		seen[target] = col
		key = key || target == "name" || target == "email" || target == "phone"
	}
	for col := range mapping {
		if !slices.Contains(header, col) {
			f["mapping."+col] = "no such column in the file"
		}
	}
	if !key && len(f) == 0 {
		f["mapping"] = "map a name, email or phone column"
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid column mapping.", f)
	}
	return nil
}

// ImportRow turns one CSV row into a validated patch: empty cells are
// left out, phones without a country code take region (e.g. "US"), tags
// are separated by ";". line is the row's line number for the report.
func ImportRow(line int, header, rec []string, mapping map[string]string, region string, defs map[string]AttributeDef) (Patch, []ImportError) {
	var pt Patch
	var errs []ImportError
	if len(rec) != len(header) {
		return pt, []ImportError{{Row: line, Field: "row", Reason: fmt.Sprintf("%d columns; the header has %d", len(rec), len(header))}}
	}
	str := func(v string) *string { return &v }
	for i, col := range header {
		v := strings.TrimSpace(rec[i])
		target := mapping[col]
		if v == "" || target == "ignore" {
			continue
		}
		switch target {
		case "name":
			pt.Name = str(v)
		case "email":
			pt.Email = str(v)
		case "phone":
			p, err := NormalizePhone(v, strings.ToUpper(region))
			if err != nil {
				errs = append(errs, ImportError{Row: line, Field: "phone", Reason: err.Error()})
				continue
			}
			pt.Phone = str(p)
		case "company":
			pt.Company = str(v)
		case "locale":
			pt.Locale = str(v)
		case "timezone":
			pt.Timezone = str(v)
		case "lifecycle_stage":
			pt.Stage = str(strings.ToLower(v))
		case "tags":
			var tags []string
			for _, t := range strings.Split(v, ";") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			pt.Tags = &tags
		default:
			if pt.Attributes == nil {
				pt.Attributes = map[string]*AttrValue{}
			}
			a := AttrValue(v)
			pt.Attributes[strings.TrimPrefix(target, "attributes.")] = &a
		}
	}
	if pt.Name == nil && pt.Email == nil && pt.Phone == nil && len(errs) == 0 {
		errs = append(errs, ImportError{Row: line, Field: "row", Reason: "a name, email or phone is required"})
	}
	var probe Profile
	if err := pt.Apply(&probe, defs); err != nil {
		fields := parley.ErrorFields(err)
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			errs = append(errs, ImportError{Row: line, Field: k, Reason: fields[k]})
		}
	}
	return pt, errs
}

// CSVCell neutralises a cell a spreadsheet would run as a formula
// (leading =, @, tab or CR; + or - not followed by a digit) by a leading
// apostrophe. Phone numbers such as +14155550100 are left alone.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if len(s) == 1 || s[1] < '0' || s[1] > '9' {
			return "'" + s
		}
	}
	return s
}
