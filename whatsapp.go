package parley

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WhatsAppTemplate is a message template approved by WhatsApp and created
// in Twilio's Content API: the only kind of message a business may send
// outside WhatsApp's 24-hour customer-service window. Body is the approved
// text with numbered placeholders {{1}}, {{2}} …, shown to agents and
// stored as the message's text; Twilio sends the approved content itself.
type WhatsAppTemplate struct {
	// Name is what agents pick, unique in the inbox.
	Name string `json:"name"`
	// ContentSid is Twilio's content sid (HX + 32 hex digits).
	ContentSid string `json:"content_sid"`
	Language   string `json:"language,omitempty"`
	Body       string `json:"body"`
	// Variables label the placeholders in order ({{1}} is Variables[0]).
	Variables []string `json:"variables,omitempty"`
}

var (
	contentSidPattern  = regexp.MustCompile(`^HX[0-9a-f]{32}$`)
	placeholderPattern = regexp.MustCompile(`\{\{\s*([0-9]+)\s*\}\}`)
)

// MaxTemplateVariable bounds one variable's value.
const MaxTemplateVariable = 1024

// validTemplates checks an inbox's WhatsApp templates.
func validTemplates(list []WhatsAppTemplate, f map[string]string) {
	if len(list) > 100 {
		f["whatsapp_templates"] = "at most 100 templates"
		return
	}
	seen := map[string]bool{}
	for _, t := range list {
		switch {
		case strings.TrimSpace(t.Name) == "" || len(t.Name) > 100:
			f["whatsapp_templates"] = "every template needs a name (at most 100 bytes)"
		case seen[t.Name]:
			f["whatsapp_templates"] = "template names must be unique: " + t.Name
		case !contentSidPattern.MatchString(t.ContentSid):
			f["whatsapp_templates"] = "content_sid must be a Twilio content sid (HX followed by 32 hex digits): " + t.Name
		case ValidateBody(t.Body) != nil:
			f["whatsapp_templates"] = "body (the approved text) is required: " + t.Name
		default:
			for _, m := range placeholderPattern.FindAllStringSubmatch(t.Body, -1) {
				if n, _ := strconv.Atoi(m[1]); n < 1 || n > len(t.Variables) {
					f["whatsapp_templates"] = fmt.Sprintf("%s: placeholder {{%s}} has no entry in variables", t.Name, m[1])
				}
			}
		}
		seen[t.Name] = true
	}
}

// Template returns the inbox's WhatsApp template of that name (or content
// sid).
func (i InboxConfig) Template(name string) (WhatsAppTemplate, bool) {
	for _, t := range i.Settings.WhatsAppTemplates {
		if t.Name == name || t.ContentSid == name {
			return t, true
		}
	}
	return WhatsAppTemplate{}, false
}

// Render fills the template's placeholders with vars (keys "1", "2" …):
// the text the agent and the history see, and Twilio's ContentVariables
// (a JSON object). Every variable is required, as plain text of at most
// MaxTemplateVariable bytes on one line.
func (t WhatsAppTemplate) Render(vars map[string]string) (body, contentVariables string, err error) {
	f := map[string]string{}
	clean := make(map[string]string, len(t.Variables))
	for i := range t.Variables {
		k := strconv.Itoa(i + 1)
		v := strings.TrimSpace(vars[k])
		switch {
		case v == "":
			f[k] = "required"
		case len(v) > MaxTemplateVariable || !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\t"):
			f[k] = fmt.Sprintf("one line of text, at most %d bytes", MaxTemplateVariable)
		}
		clean[k] = v
	}
	for k := range vars {
		if n, err := strconv.Atoi(k); err != nil || n < 1 || n > len(t.Variables) {
			f[k] = "not a variable of this template"
		}
	}
	if len(f) > 0 {
		return "", "", Invalid("Invalid template variables.", f)
	}
	body = placeholderPattern.ReplaceAllStringFunc(t.Body, func(m string) string {
		return clean[placeholderPattern.FindStringSubmatch(m)[1]]
	})
	b, _ := json.Marshal(clean)
	return body, string(b), nil
}
