package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestEmailHTMLViewIsSanitisedAndScoped(t *testing.T) {
	e := newEnv(t)
	f := newMailFake(t)
	f.deliver("From: Mei Lin <mei@example.com>\nTo: support@parley.test\nSubject: Formatted\nMessage-ID: <html1@example.com>\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/alternative; boundary=AA\n\n" +
		"--AA\nContent-Type: text/plain; charset=utf-8\n\nPlease see the table.\n" +
		"--AA\nContent-Type: text/html; charset=utf-8\n\n" +
		`<html><body><p onclick="steal()">Please see the <b>table</b>.</p><script>alert("x")</script><a href="javascript:alert(1)">link</a></body></html>` +
		"\n--AA--\n")
	f.deliver(customerMail("plain1@example.com", "Plain only", "No HTML here."))

	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	bobTok := srv.login(t, "agent2@parley.test")
	inbox := srv.createEmailInbox(t, admin, f, "Support", mailPassword)
	eventually(t, "mail imported", 20*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages WHERE inbox_id = $1::bigint`, inbox) == 2
	})

	type msgList struct {
		Items []struct {
			ID      string `json:"id"`
			Body    string `json:"body"`
			HTMLURL string `json:"html_url"`
		} `json:"items"`
	}
	var htmlURL, plainID string
	rows, err := e.db.Pool.Query(context.Background(), `SELECT DISTINCT conversation_id::text FROM messages WHERE inbox_id = $1::bigint`, inbox)
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		convs = append(convs, c)
	}
	rows.Close()
	for _, conv := range convs {
		var msgs msgList
		srv.do(t, "GET", "/api/v1/conversations/"+conv+"/messages", admin, nil, &msgs)
		for _, m := range msgs.Items {
			switch {
			case strings.Contains(m.Body, "table"):
				if want := "/api/v1/messages/" + m.ID + "/html"; m.HTMLURL != want {
					t.Fatalf("html_url %q; want %q", m.HTMLURL, want)
				}
				htmlURL = m.HTMLURL
			case strings.Contains(m.Body, "No HTML"):
				if m.HTMLURL != "" {
					t.Errorf("plain email has html_url %q", m.HTMLURL)
				}
				plainID = m.ID
			}
		}
	}
	if htmlURL == "" || plainID == "" {
		t.Fatalf("messages not found (html %q, plain %q)", htmlURL, plainID)
	}

	resp, data := srv.get(t, htmlURL, admin)
	if resp.StatusCode != 200 {
		t.Fatalf("GET html: status %d: %s", resp.StatusCode, data)
	}
	body := string(data)
	if !strings.Contains(body, "<b>table</b>") {
		t.Errorf("html %q lost its formatting", body)
	}
	for _, bad := range []string{"<script", "alert(", "onclick", "steal", "javascript:"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("html contains %q: %s", bad, body)
		}
	}
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; sandbox",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "private, no-store",
		"X-Frame-Options":         "SAMEORIGIN",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s %q; want %q", k, got, want)
		}
	}

	// Another agent who may not see the conversation, a message without
	// HTML and an unknown message are not found.
	if resp, _ := srv.get(t, htmlURL, bobTok); resp.StatusCode != 404 {
		t.Errorf("another agent: status %d; want 404", resp.StatusCode)
	}
	if resp, _ := srv.get(t, "/api/v1/messages/"+plainID+"/html", admin); resp.StatusCode != 404 {
		t.Errorf("plain email: status %d; want 404", resp.StatusCode)
	}
	if resp, _ := srv.get(t, "/api/v1/messages/999999999/html", admin); resp.StatusCode != 404 {
		t.Errorf("unknown message: status %d; want 404", resp.StatusCode)
	}
}
