package crm

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestImportRowNormalisesAndReportsEachField(t *testing.T) {
	header := []string{"n", "e", "p", "plan"}
	mapping := map[string]string{"n": "name", "e": "email", "p": "phone", "plan": "attributes.plan"}
	defs := DefsByKey([]AttributeDef{{Key: "plan", Type: TypeList, Options: []string{"gold"}}})
	pt, errs := ImportRow(2, header, []string{" Ana ", "Ana@Example.COM", "020 7946 0958", "gold"}, mapping, "gb", defs)
	if len(errs) != 0 || *pt.Phone != "+442079460958" || *pt.Email != "Ana@Example.COM" {
		t.Fatalf("row: %+v %v", pt, errs)
	}
	var p Profile
	if err := pt.Apply(&p, defs); err != nil || p.Email != "ana@example.com" || p.Name != "Ana" {
		t.Errorf("applied %+v %v", p, err)
	}
	_, errs = ImportRow(3, header, []string{"x", "nope", "1", "tin"}, mapping, "", defs)
	if len(errs) != 3 || errs[0].Field != "phone" || errs[1].Field != "attributes.plan" || errs[2].Field != "email" || errs[2].Row != 3 {
		t.Errorf("errors %+v", errs)
	}
	if err := ValidateMapping(header, map[string]string{"n": "name", "e": "name", "p": "fax", "x": "email"}, defs); len(parley.ErrorFields(err)) != 4 {
		t.Errorf("mapping errors %v; want e (duplicate), p (unknown), plan (unmapped), x (no column)", parley.ErrorFields(err))
	}
	for in, want := range map[string]string{"=1+1": "'=1+1", "+14155550100": "+14155550100", "-5": "-5", "+cmd": "'+cmd", "@SUM": "'@SUM", "Ana": "Ana"} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q; want %q", in, got, want)
		}
	}
	if _, _, err := ReadCSV([]byte("a,\"b\n1,2")); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("malformed CSV: %v", err)
	}
}

// FuzzImportCSV: any file either is refused as a whole with a clear
// error, or every row becomes a patch or a per-row report, without a
// panic; a patch never carries an invalid email.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("name,email,phone,tags\nMei Lin,MEI@example.com,+8613800138000,vip;b2b\n"))
	f.Add([]byte("\xef\xbb\xbfname,email\n\"Quoted, name\",bad-email\n"))
	f.Add([]byte("name\n\"unterminated\n"))
	f.Add([]byte("name,phone\nA,12\nB,+1 415 555 0100,extra\n"))
	f.Add([]byte(""))
	defs := DefsByKey([]AttributeDef{{Key: "plan", Type: TypeList, Options: []string{"gold"}}})
	f.Fuzz(func(t *testing.T, data []byte) {
		header, rows, err := ReadCSV(data)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("refusal is not invalid: %v", err)
			}
			return
		}
		mapping := map[string]string{}
		fields := []string{"name", "email", "phone", "tags", "attributes.plan"}
		for i, h := range header {
			if i < len(fields) {
				mapping[h] = fields[i]
			}
		}
		if ValidateMapping(header, mapping, defs) != nil {
			return
		}
		for i, rec := range rows {
			pt, errs := ImportRow(i+2, header, rec, mapping, "US", defs)
			if len(errs) == 0 && pt.Email != nil && *pt.Email != "" {
				if _, err := NormalizeEmail(*pt.Email); err != nil {
					t.Fatalf("row %d: accepted email %q: %v", i+2, *pt.Email, err)
				}
			}
		}
	})
}
