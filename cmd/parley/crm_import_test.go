package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

type importJSON struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	TotalRows int    `json:"total_rows"`
	Processed int    `json:"processed"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Failed    int    `json:"failed"`
	Errors    []struct {
		Row    int    `json:"row"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
	Error string `json:"error"`
}

// upload posts a CSV import as multipart/form-data.
func (in *instance) upload(t *testing.T, token, csvText, mapping, region string, out any) int {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "customers.csv")
	io.WriteString(fw, csvText)
	mw.WriteField("mapping", mapping)
	mw.WriteField("region", region)
	mw.Close()
	req, _ := http.NewRequest("POST", in.base+"/api/v1/customers/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return in.send(t, req, out)
}

func (in *instance) send(t *testing.T, req *http.Request, out any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if b, ok := out.(*[]byte); ok {
			*b = data
		} else if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
	return resp.StatusCode
}

func (in *instance) exportCSV(t *testing.T, token, query string) [][]string {
	t.Helper()
	req, _ := http.NewRequest("GET", in.base+"/api/v1/customers/export"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	var data []byte
	if code := in.send(t, req, &data); code != 200 {
		t.Fatalf("export: status %d %s", code, data)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, data)
	}
	return recs
}

const importMapping = `{"Full name": "name", "E-mail": "email", "Mobile": "phone", "Plan": "attributes.plan", "Tags": "tags", "Notes": "ignore"}`

func TestCRMImportReportsBadRowsDeduplicatesRunsLargeFilesAsJobsAndExports(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	srv.do(t, "PUT", "/api/v1/customer-attributes/plan", admin, map[string]any{"type": "list", "options": []string{"gold", "silver"}}, nil)
	mei := srv.startVisitor(t, srv.inboxID(t, admin), "", "Mei", "mei@example.com", "")

	small := "\ufeffFull name,E-mail,Mobile,Plan,Tags,Notes\n" +
		"Mei Lin,MEI@example.com,,gold,vip;b2b,x\n" + // 2: updates Mei (same email)
		"Bo Chen,bo@example.com,(415) 555-0100,silver,,y\n" + // 3: created, phone in E.164 with region US
		"Bad Email,not-an-email,,gold,,\n" + // 4
		"Bad Plan,c@example.com,,bronze,,\n" + // 5
		"Bad Phone,,12,,,\n" + // 6
		",,,,,\n" + // 7
		"Short,row\n" + // 8
		"=cmd(),eve@example.com,,,,\n" // 9: created; exported as text
	var bad apiError
	if code := srv.upload(t, sup, small, `{"Full name": "name", "E-mail": "email", "Plan": "score"}`, "US", &bad); code != 400 ||
		bad.Error.Fields["mapping.Notes"] == "" || bad.Error.Fields["mapping.Plan"] == "" {
		t.Errorf("bad mapping: status %d %v", code, bad.Error.Fields)
	}
	if code := srv.upload(t, srv.login(t, "agent1@parley.test"), small, importMapping, "US", nil); code != 403 {
		t.Errorf("agent import: status %d; want 403", code)
	}
	var im importJSON
	if code := srv.upload(t, sup, small, importMapping, "US", &im); code != 201 {
		t.Fatalf("import: status %d %+v", code, im)
	}
	if im.Status != "done" || im.TotalRows != 8 || im.Processed != 8 || im.Created != 2 || im.Updated != 1 || im.Failed != 5 {
		t.Errorf("import = %+v", im)
	}
	var report []string
	for _, e := range im.Errors {
		report = append(report, fmt.Sprintf("%d %s", e.Row, e.Field))
	}
	if got := strings.Join(report, ","); got != "4 email,5 attributes.plan,6 phone,7 row,8 row" {
		t.Errorf("report %s; want one error per bad row", got)
	}
	m := srv.customer(t, sup, mei.customerID)
	if m.Name != "Mei Lin" || m.Attributes["plan"] != "gold" || strings.Join(m.Tags, ",") != "vip,b2b" {
		t.Errorf("Mei after import: %+v", m)
	}
	var found struct{ Items []customerJSON }
	srv.do(t, "GET", "/api/v1/customers?q=bo%40example.com", sup, nil, &found)
	if len(found.Items) != 1 || !strings.Contains(srv.customer(t, sup, found.Items[0].ID).identities(), "sms:+14155550100") {
		t.Fatalf("Bo after import: %+v", found.Items)
	}

	// A large file runs as a job; its progress is readable.
	var big strings.Builder
	big.WriteString("Full name,E-mail,Mobile,Plan,Tags,Notes\n")
	for i := range 450 {
		email := fmt.Sprintf("c%d@example.com", i)
		if i%50 == 0 {
			email = "broken"
		}
		fmt.Fprintf(&big, "Customer %d,%s,,,bulk,\n", i, email)
	}
	if code := srv.upload(t, sup, big.String(), importMapping, "", &im); code != 202 || (im.Status != "queued" && im.Status != "running" && im.Status != "done") {
		t.Fatalf("large import: status %d %+v", code, im)
	}
	deadline := time.Now().Add(60 * time.Second)
	for im.Status != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("import not done: %+v", im)
		}
		time.Sleep(200 * time.Millisecond)
		if code := srv.do(t, "GET", "/api/v1/customer-imports/"+im.ID, sup, nil, &im); code != 200 {
			t.Fatalf("import progress: status %d", code)
		}
		if im.Processed > im.TotalRows {
			t.Fatalf("progress %d of %d", im.Processed, im.TotalRows)
		}
	}
	if im.TotalRows != 450 || im.Processed != 450 || im.Created != 441 || im.Failed != 9 || len(im.Errors) != 9 || im.Errors[0].Row != 2 {
		t.Errorf("large import = %d/%d created %d failed %d errors %d", im.Processed, im.TotalRows, im.Created, im.Failed, len(im.Errors))
	}
	if n := e.count(t, `SELECT count(*) FROM customer_imports WHERE data IS NOT NULL`); n != 0 {
		t.Errorf("%d imports keep their file", n)
	}

	// Export: every active customer, typed attributes as columns, formulas neutralised.
	recs := srv.exportCSV(t, sup, "")
	head := strings.Join(recs[0], ",")
	if head != "id,name,email,phone,company,locale,timezone,lifecycle_stage,tags,created_at,attributes.plan,other_attributes" {
		t.Errorf("export header %s", head)
	}
	if n := e.count(t, `SELECT count(*) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL`); len(recs)-1 != n {
		t.Errorf("export has %d rows; want %d", len(recs)-1, n)
	}
	all := fmt.Sprint(recs)
	if !strings.Contains(all, "'=cmd()") || strings.Contains(all, " =cmd()") || !strings.Contains(all, "+14155550100") {
		t.Errorf("export cells: formula not neutralised or phone changed")
	}
	// A segment's export.
	var seg struct{ ID string }
	srv.do(t, "POST", "/api/v1/segments", sup, map[string]any{"name": "Silver", "filter": map[string]any{"attributes": map[string]string{"plan": "silver"}}}, &seg)
	recs = srv.exportCSV(t, sup, "?segment="+seg.ID)
	if len(recs) != 2 || recs[1][1] != "Bo Chen" || recs[1][10] != "silver" {
		t.Errorf("segment export %v", recs)
	}
	active := e.count(t, `SELECT count(*) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL`)
	if n := e.count(t, `SELECT count(*) FROM customer_access_log WHERE action = 'csv_export'`); n != active+1 {
		t.Errorf("%d exports logged; want %d (each exported customer)", n, active+1)
	}
}
