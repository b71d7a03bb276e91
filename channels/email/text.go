package email

import (
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// sanitizer keeps the formatting of an HTML email and drops scripts, styles,
// event handlers, forms and non-http(s) URLs (so cid: images and javascript:
// links go).
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("style").Globally() // bluemonday filters the CSS itself
	p.AllowStyles("color", "background-color", "font-weight", "font-style", "text-align", "text-decoration").Globally()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// sanitizeHTML returns HTML safe to show in the agent console.
func sanitizeHTML(s string) string {
	return strings.TrimSpace(sanitizer.Sanitize(s))
}

// htmlToText extracts readable text from HTML: block elements become line
// breaks, list items get a dash, script/style/head are dropped.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(collapseSpace(string(z.Text())))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Br:
				b.WriteByte('\n')
			case atom.Li:
				if tt == html.StartTagToken {
					newline()
					b.WriteString("- ")
				}
			case atom.P, atom.Div, atom.Tr, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
				atom.Ul, atom.Ol, atom.Table, atom.Blockquote, atom.Pre, atom.Hr, atom.Section, atom.Article, atom.Header, atom.Footer:
				newline()
			case atom.Td, atom.Th:
				if tt == html.EndTagToken {
					b.WriteByte(' ')
				}
			}
		}
	}
}

var spaceRun = regexp.MustCompile(`[ \t\r\n\f\v\x{00a0}]+`)

func collapseSpace(s string) string { return spaceRun.ReplaceAllString(s, " ") }

// tidyText trims trailing spaces of lines and collapses three or more line
// breaks into two.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// Reply headers that start quoted history, in the languages our customers
// write in.
var quoteHeader = []*regexp.Regexp{
	regexp.MustCompile(`^\s*On\b.{0,300}\bwrote:\s*$`),
	regexp.MustCompile(`^\s*-{2,}\s*Original Message\s*-{2,}`),
	regexp.MustCompile(`^\s*-{2,}\s*Forwarded message\s*-{2,}`),
	regexp.MustCompile(`^\s*_{20,}\s*$`),
	regexp.MustCompile(`^\s*Le .{0,200}a écrit\s*:\s*$`),
	regexp.MustCompile(`^\s*Am .{0,200}schrieb .{0,200}:\s*$`),
	regexp.MustCompile(`^\s*在.{0,200}(写道|寫道)\s*[:：]\s*$`),
	regexp.MustCompile(`^\s*-{2,}\s*(原始邮件|原始郵件|回复的原邮件)\s*-{2,}`),
	regexp.MustCompile(`^\s*(发件人|寄件者|From)\s*[:：].{1,300}$`),
}

var headerNext = regexp.MustCompile(`^\s*(Sent|Date|发送时间|日期|時間|To|收件人)\s*[:：]`)

// trimQuoted splits a plain-text reply into what the sender wrote and the
// quoted history below it. A reply header ("On … wrote:", "-----Original
// Message-----", "发件人：", Outlook's rule) or a final block of "> " lines
// starts the history. When nothing would remain above, nothing is trimmed.
func trimQuoted(s string) (fresh, quoted string) {
	lines := strings.Split(s, "\n")
	cut := -1
	for i, l := range lines {
		if i == 0 || len(l) > 1000 {
			continue
		}
		for j, re := range quoteHeader {
			if re.MatchString(l) {
				// "From:" only counts at the start of a header block.
				if j == len(quoteHeader)-1 && !(i+1 < len(lines) && headerNext.MatchString(lines[i+1])) {
					continue
				}
				cut = i
				break
			}
		}
		if cut >= 0 {
			break
		}
		// "On Mon, … Alice <a@b>" folded over two lines before "wrote:".
		if i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(l), "On ") && strings.HasSuffix(strings.TrimSpace(lines[i+1]), "wrote:") {
			cut = i
			break
		}
	}
	if cut < 0 {
		// A trailing block of quoted lines.
		end := len(lines)
		for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
			end--
		}
		start := end
		for start > 0 && (strings.HasPrefix(lines[start-1], ">") || strings.TrimSpace(lines[start-1]) == "" && start < end) {
			start--
		}
		for start < end && strings.TrimSpace(lines[start]) == "" {
			start++
		}
		if start < end && strings.HasPrefix(lines[start], ">") {
			cut = start
		}
	}
	if cut <= 0 {
		return s, ""
	}
	fresh = tidyText(strings.Join(lines[:cut], "\n"))
	if fresh == "" {
		return s, ""
	}
	return fresh, strings.TrimSpace(strings.Join(lines[cut:], "\n"))
}
