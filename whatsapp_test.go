package parley

import "testing"

func TestWhatsAppTemplateRenderFillsPlaceholdersAndRefusesBadValues(t *testing.T) {
	tpl := WhatsAppTemplate{Name: "t", ContentSid: "HX0123456789abcdef0123456789abcdef", Body: "Hi {{1}}, order {{ 2 }} ({{1}})", Variables: []string{"name", "order"}}
	body, vars, err := tpl.Render(map[string]string{"1": " 张伟 ", "2": "7731"})
	if err != nil || body != "Hi 张伟, order 7731 (张伟)" || vars != `{"1":"张伟","2":"7731"}` {
		t.Errorf("Render = %q, %q, %v", body, vars, err)
	}
	for name, in := range map[string]map[string]string{
		"missing":  {"1": "a"},
		"unknown":  {"1": "a", "2": "b", "3": "c"},
		"newline":  {"1": "a\nb", "2": "b"},
		"not a nb": {"1": "a", "2": "b", "x": "c"},
	} {
		if _, _, err := tpl.Render(in); ErrorCode(err) != EINVALID {
			t.Errorf("%s: error %v; want invalid", name, err)
		}
	}
	f := map[string]string{}
	validTemplates([]WhatsAppTemplate{tpl, {Name: "u", ContentSid: tpl.ContentSid, Body: "{{3}}", Variables: []string{"a"}}}, f)
	if f["whatsapp_templates"] == "" {
		t.Errorf("a placeholder without a variable was accepted")
	}
}
