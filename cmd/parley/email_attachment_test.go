package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// get fetches path with a token and returns the response and its body.
func (in *instance) get(t *testing.T, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", in.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func TestEmailAttachmentDownloadAndInboxList(t *testing.T) {
	e := newEnv(t)
	f := newMailFake(t)
	file := make([]byte, 3000)
	for i := range file {
		file[i] = byte(i * 7)
	}
	enc := base64.StdEncoding.EncodeToString(file)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	f.deliver("From: Mei Lin <mei@example.com>\nTo: support@parley.test\nSubject: Scan\nMessage-ID: <att1@example.com>\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: text/plain; charset=utf-8\n\nThe scan is attached.\n" +
		"--BB\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8%2042.pdf\n\n" +
		strings.Join(lines, "\n") + "\n--BB--\n")

	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	bobTok := srv.login(t, "agent2@parley.test")
	inbox := srv.createEmailInbox(t, admin, f, "Support", mailPassword)
	eventually(t, "mail imported", 20*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages WHERE inbox_id = $1::bigint`, inbox) == 1
	})
	var conv string
	e.db.Pool.QueryRow(context.Background(), `SELECT conversation_id::text FROM messages WHERE inbox_id = $1::bigint`, inbox).Scan(&conv)

	// The message's attachment carries its download URL.
	var msgs struct {
		Items []struct {
			ID          string `json:"id"`
			Attachments []struct {
				Name, URL string
			} `json:"attachments"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/conversations/"+conv+"/messages", admin, nil, &msgs)
	if len(msgs.Items) != 1 || len(msgs.Items[0].Attachments) != 1 {
		t.Fatalf("messages %+v; want one with one attachment", msgs.Items)
	}
	a := msgs.Items[0].Attachments[0]
	want := "/api/v1/messages/" + msgs.Items[0].ID + "/attachments/0"
	if a.Name != "发票 42.pdf" || a.URL != want {
		t.Fatalf("attachment %+v; want 发票 42.pdf at %s", a, want)
	}

	resp, data := srv.get(t, a.URL, admin)
	if resp.StatusCode != 200 || !bytes.Equal(data, file) {
		t.Fatalf("download: status %d, %d bytes (same %v)", resp.StatusCode, len(data), bytes.Equal(data, file))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=UTF-8''%E5%8F%91%E7%A5%A8%2042.pdf") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no nosniff")
	}

	// An agent who may not see the conversation, an unknown position and a
	// refused attachment are not found.
	if resp, _ := srv.get(t, a.URL, bobTok); resp.StatusCode != 404 {
		t.Errorf("another agent's download: status %d; want 404", resp.StatusCode)
	}
	if resp, _ := srv.get(t, strings.TrimSuffix(a.URL, "0")+"1", admin); resp.StatusCode != 404 {
		t.Errorf("unknown attachment: status %d; want 404", resp.StatusCode)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE email_attachments SET data = NULL, refused = 'larger than the 10 MiB limit'`); err != nil {
		t.Fatal(err)
	}
	if resp, _ := srv.get(t, a.URL, admin); resp.StatusCode != 404 {
		t.Errorf("refused attachment: status %d; want 404", resp.StatusCode)
	}

	// The inbox list shows an email inbox's watcher status.
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Status *struct {
				State string `json:"state"`
			} `json:"status"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/inboxes", admin, nil, &list)
	seen := false
	for _, in := range list.Items {
		if in.ID == inbox {
			seen = in.Status != nil && in.Status.State != ""
		} else if in.Status != nil {
			t.Errorf("inbox %s (not email) has a status", in.ID)
		}
	}
	if !seen {
		t.Errorf("email inbox %s listed without status: %+v", inbox, list.Items)
	}
}
