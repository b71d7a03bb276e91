package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// corpusDir finds the shared email fixtures beside the repository.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		c := filepath.Join(dir, "shared", "fixtures", "email")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("email fixture corpus (shared/fixtures/email beside the repository) not found")
	}
	t.Skip("email fixture corpus (shared/fixtures/email beside the repository) not found")
	return ""
}

func checkInbound(t *testing.T, name string, in parley.Inbound) {
	t.Helper()
	if err := parley.ValidateBody(in.Body); err != nil {
		t.Errorf("%s: body %q: %v", name, in.Body, err)
	}
	if in.DedupeKey == "" || len(in.DedupeKey) > maxIDLen+10 {
		t.Errorf("%s: dedupe key %q", name, in.DedupeKey)
	}
	if a := in.Identity.Address; a == "" || a != strings.ToLower(a) || !utf8.ValidString(a) {
		t.Errorf("%s: identity %q", name, a)
	}
	if strings.Contains(in.Body, "\x00") {
		t.Errorf("%s: NUL in body", name)
	}
	for _, a := range in.Attachments {
		if strings.Contains(a.Name+a.ContentType, "\x00") || !utf8.ValidString(a.Name+a.ContentType) {
			t.Errorf("%s: attachment %q %q", name, a.Name, a.ContentType)
		}
	}
	for _, s := range []string{in.Subject, in.CustomerName} {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
			t.Errorf("%s: header text %q", name, s)
		}
	}
}

func TestCorpusParsesReadably(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .eml files in %s (%v)", dir, err)
	}
	// Spot checks: file → strings the parsed message must contain
	// (subject, sender name or body).
	want := map[string][]string{
		"letters-gbk-plaintext-base64.eml":                   {"📧 Test 施氏食狮史", "艾莉絲 发件人", "石室诗士施氏，嗜狮，誓食十狮。"},
		"letters-gb18030-plaintext-qp.eml":                   {"📧 Test 施氏食狮史", "石室诗士施氏"},
		"letters-gbk-multipart-mixed-qp-attachments.eml":     {"施氏食狮史", "石室诗士施氏"},
		"letters-gb18030-multipart-related-inline-image.eml": {"石室诗士施氏"},
		"flanker-gb2312-raw-8bit-headers.eml":                {"腾讯企业邮箱", "提示：您的企业成员暂时无法登录邮件客户端", "尊敬的管理员"},
		"enmime-big5-body-labelled-us-ascii.eml":             {"顏之推", "音辭第十八", "夫九州之人，言語不同"},
		"mail-big5-mojibake-empty-cte.eml":                   {"繁體中文光碟版"},
		"letters-utf8-emoji-subject-multipart-mixed-qp.eml":  {"📧 Test English Pangrams", "The quick brown fox"},
		"rfc5322-thread-1-saying-hello.eml":                  {"Saying Hello", "This is a message just to say hello."},
		"enmime-quoted-printable-body.eml":                   {"Lorem ipsum dolor sit amet"},
		"flanker-malformed-headers-raw-utf8.eml":             {"Юникод"},
		"mail-rfc6532-raw-utf8-headers.eml":                  {"Säying Hello", "Jöhn Doe"},
		"sisimai-rfc3834-auto-replied.eml":                   {"Away until May 5"},
	}
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e := Parse(raw, ParseOptions{})
		in := e.Inbound(1)
		checkInbound(t, name, in)
		if strings.Count(in.Body, "\uFFFD") > len(in.Body)/4 {
			t.Errorf("%s: body mostly unreadable: %q", name, in.Body)
		}
		all := in.Subject + "\n" + in.CustomerName + "\n" + e.Text
		for _, s := range want[name] {
			if !strings.Contains(all, s) {
				t.Errorf("%s: parsed text lacks %q:\nsubject %q from %q\n%s", name, s, in.Subject, in.CustomerName, truncate(e.Text, 500))
			}
		}
	}
	// Behaviour spot checks.
	parse := func(name string) *Email {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return Parse(raw, ParseOptions{})
	}
	if e := parse("flanker-dsn-bounce-mailbox-full.eml"); e.Bounce == nil || !e.Bounce.Failed() || e.Bounce.OriginalMessageID != "4E326A95.3010907@example.com" || e.Bounce.Status != "5.2.2" {
		t.Errorf("AOL bounce: got %+v; want failed 5.2.2 of 4E326A95.3010907@example.com", e.Bounce)
	}
	if e := parse("mail-dsn-report-422.eml"); e.Bounce == nil || e.Bounce.Failed() || e.Bounce.Action != "delayed" {
		t.Errorf("delay notice: got %+v; want delayed, not failed", e.Bounce)
	}
	if e := parse("sisimai-rfc3834-auto-replied.eml"); !e.AutoReply || !e.NoRouting() {
		t.Errorf("vacation reply: AutoReply %v; want true", e.AutoReply)
	}
	if e := parse("rfc5322-thread-3-reply-to-reply.eml"); strings.Join(e.threadIDs(), " ") != "3456@example.net 1234@local.machine.example" {
		t.Errorf("thread ids %q", e.threadIDs())
	}
	if e := parse("flanker-missing-final-boundary.eml"); e.ParseError() == "" || !strings.Contains(e.Body(), "could not be read completely") {
		t.Errorf("truncated multipart: parse error %q, body %q", e.ParseError(), e.Body())
	}
	if e := parse("enmime-html-inline-image-cid.eml"); e.HTML == "" || strings.Contains(e.HTML, "cid:") {
		t.Errorf("sanitised HTML %q: want kept, without cid: URLs", e.HTML)
	}
}

func msg(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n")) }

func TestParseOwnMessages(t *testing.T) {
	t.Run("reply with quoted history and HTML", func(t *testing.T) {
		e := Parse(msg(
			`From: "Mei Lin" <Mei.Lin@Example.COM>`,
			`To: support@parley.test`,
			`Subject: =?UTF-8?B?UmU6IOWPkeelqOmXrumimA==?=`,
			`Message-ID: <r2@example.com>`,
			`In-Reply-To: <parley.m7.i1@parley.test>`,
			`References: <first@example.com> <parley.m7.i1@parley.test>`,
			`MIME-Version: 1.0`,
			`Content-Type: multipart/alternative; boundary="b1"`,
			``,
			`--b1`,
			`Content-Type: text/plain; charset=utf-8`,
			``,
			`Still waiting for the invoice.`,
			``,
			`On Mon, 3 Mar 2025 at 10:00, Support <support@parley.test> wrote:`,
			`> We sent it yesterday.`,
			`--b1`,
			`Content-Type: text/html; charset=utf-8`,
			``,
			`<p onclick="x()">Still waiting</p><script>alert(1)</script><a href="javascript:alert(1)">x</a>`,
			`--b1--`,
		), ParseOptions{})
		if e.From != (Address{Name: "Mei Lin", Addr: "mei.lin@example.com"}) {
			t.Errorf("from %+v", e.From)
		}
		if e.Subject != "Re: 发票问题" {
			t.Errorf("subject %q", e.Subject)
		}
		if e.Fresh != "Still waiting for the invoice." || !strings.Contains(e.Text, "> We sent it yesterday.") {
			t.Errorf("fresh %q text %q", e.Fresh, e.Text)
		}
		if strings.Contains(e.HTML, "script") || strings.Contains(e.HTML, "onclick") || strings.Contains(e.HTML, "javascript") || !strings.Contains(e.HTML, "Still waiting") {
			t.Errorf("html %q", e.HTML)
		}
		if got := strings.Join(e.threadIDs(), " "); got != "parley.m7.i1@parley.test first@example.com" {
			t.Errorf("thread ids %q", got)
		}
		if e.NoRouting() || e.ParseError() != "" {
			t.Errorf("no routing %v, problems %q", e.NoRouting(), e.Problems)
		}
	})
	t.Run("auto-reply headers", func(t *testing.T) {
		for _, h := range []string{"Auto-Submitted: auto-replied", "X-Autoreply: yes", "Precedence: bulk", "Precedence: junk", "Precedence: list"} {
			e := Parse(msg("From: a@b.c", h, "Subject: Out of office", "", "Away."), ParseOptions{})
			if !e.AutoReply || !e.Inbound(1).NoRouting {
				t.Errorf("%s: not taken for an auto-reply", h)
			}
		}
		if e := Parse(msg("From: a@b.c", "Auto-Submitted: no", "", "Hi"), ParseOptions{}); e.AutoReply {
			t.Errorf("Auto-Submitted: no taken for an auto-reply")
		}
	})
	t.Run("attachment over the limit is refused with a note", func(t *testing.T) {
		e := Parse(msg(
			`From: a@b.c`, `Subject: files`, `Content-Type: multipart/mixed; boundary=x`, ``,
			`--x`, `Content-Type: text/plain`, ``, `See attached.`,
			`--x`, `Content-Type: application/pdf; name="small.pdf"`, `Content-Transfer-Encoding: base64`, ``, `AAECAw==`,
			`--x`, `Content-Type: application/zip`, `Content-Disposition: attachment; filename*=UTF-8''%E5%A4%A7.zip`, ``, strings.Repeat("z", 2000),
			`--x--`), ParseOptions{MaxAttachmentBytes: 1000})
		if len(e.Attachments) != 2 || e.Attachments[0].Size != 4 || e.Attachments[0].Refused != "" || string(e.Attachments[0].Data) != "\x00\x01\x02\x03" {
			t.Fatalf("attachments %+v", e.Attachments)
		}
		big := e.Attachments[1]
		if big.Name != "大.zip" || big.Refused == "" || big.Data != nil || big.Size != 2000 {
			t.Errorf("big attachment %+v", big)
		}
		in := e.Inbound(1)
		if !strings.Contains(in.Body, `attachment "大.zip"`) || !strings.HasPrefix(in.Body, "See attached.") || len(in.Attachments) != 2 {
			t.Errorf("body %q attachments %+v", in.Body, in.Attachments)
		}
	})
	t.Run("no Message-ID dedupes on content", func(t *testing.T) {
		a := Parse(msg("From: a@b.c", "", "one"), ParseOptions{})
		b := Parse(msg("From: a@b.c", "", "two"), ParseOptions{})
		if !strings.HasPrefix(a.DedupeKey(), "sha256:") || a.DedupeKey() == b.DedupeKey() {
			t.Errorf("keys %q %q", a.DedupeKey(), b.DedupeKey())
		}
	})
	t.Run("garbage is still a message", func(t *testing.T) {
		for _, raw := range []string{"", "\x00\xff\xfe", "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n", ":\r\n \r\n\r\n"} {
			e := Parse([]byte(raw), ParseOptions{})
			checkInbound(t, "garbage", e.Inbound(1))
		}
	})
	t.Run("long body is cut to fit", func(t *testing.T) {
		e := Parse(msg("From: a@b.c", "Content-Type: text/plain; charset=utf-8", "", strings.Repeat("长", 20000)), ParseOptions{})
		in := e.Inbound(1)
		checkInbound(t, "long", in)
		if !strings.Contains(in.Body, "kept but not shown") || len(e.Text) < 60000 {
			t.Errorf("long body: %d bytes shown, text %d", len(in.Body), len(e.Text))
		}
	})
}

func TestNormSubject(t *testing.T) {
	for in, want := range map[string]string{"Re: RE: Fwd:  Invoice  42": "invoice 42", "回复：发票": "发票", "Invoice": "invoice"} {
		if got := normSubject(in); got != want {
			t.Errorf("normSubject(%q) = %q; want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(msg("From: a@b.c", "Subject: hi", "", "body"))
	f.Add(msg("Content-Type: multipart/mixed; boundary=x", "", "--x", "Content-Type: text/html; charset=gbk", "Content-Transfer-Encoding: base64", "", "xOO6ww==", "--x"))
	f.Add(msg("Content-Type: multipart/report; report-type=delivery-status; boundary=r", "", "--r", "Content-Type: message/delivery-status", "", "Action: failed", "Status: 5.1.1", "--r", "Content-Type: text/rfc822-headers", "", "Message-ID: <x@y>", "--r--"))
	f.Add(msg("From: =?gb2312?B?xOO6ww==?= <A@B>", "Subject: =?NONE?B?VEVTVA=?=", "", "\xc4\xe3"))
	if dir, err := filepath.Abs("."); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			files, _ := filepath.Glob(filepath.Join(dir, "shared", "fixtures", "email", "*.eml"))
			for _, p := range files {
				if raw, err := os.ReadFile(p); err == nil {
					f.Add(raw)
				}
			}
			if len(files) > 0 || filepath.Dir(dir) == dir {
				break
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e := Parse(raw, ParseOptions{MaxAttachmentBytes: 64})
		checkInbound(t, "fuzz", e.Inbound(1))
		for _, a := range e.Attachments {
			if a.Size > 64 && a.Data != nil {
				t.Fatalf("kept an attachment over the limit: %+v", a)
			}
		}
		if !utf8.ValidString(e.HTML) || !utf8.ValidString(e.Text) || strings.Contains(e.HTML+e.Text+e.MessageID+strings.Join(e.References, ""), "\x00") {
			t.Fatal("invalid UTF-8 text")
		}
	})
}
