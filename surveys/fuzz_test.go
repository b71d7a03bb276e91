package surveys

import (
	"encoding/json"
	"testing"
)

// FuzzSurveyDefinition feeds arbitrary JSON to a survey definition, as the
// admin API does: decoding and validation never panic, and a definition
// that validates has its delay and segment ids in range.
func FuzzSurveyDefinition(f *testing.F) {
	f.Add([]byte(`{"name":"After","delay_s":3600,"segment_ids":["4","5"],"questions":[{"key":"s","kind":"csat","text":{"en":"How?","zh-CN":"如何？"}}]}`))
	f.Add([]byte(`{"name":"x","delay_s":-1,"segment_ids":[0,"a",1e99],"questions":[]}`))
	f.Add([]byte(`{"segment_ids":null,"queue_ids":"3","delay_s":"60"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Survey
		if json.Unmarshal(b, &s) != nil {
			return
		}
		s.Defaults()
		if s.Validate() != nil {
			return
		}
		if s.DelayS < 0 || s.DelayS > MaxDelayS {
			t.Fatalf("valid survey with delay %d", s.DelayS)
		}
		for _, id := range s.SegmentIDs {
			if id <= 0 {
				t.Fatalf("valid survey with segment id %d", id)
			}
		}
	})
}

// FuzzParseReply feeds arbitrary SMS bodies to the numbered-reply parser:
// an answer is always a score in the question's range.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"4", " 4. thanks", "４", "10", "4pm", "", "99", "-1", "٣"} {
		f.Add(s)
	}
	qs := []Question{{Kind: KindCSAT}, {Kind: KindNPS}, {Kind: KindCES}, {Kind: KindChoice, Choices: []Texts{{}, {}, {}}}}
	f.Fuzz(func(t *testing.T, body string) {
		for _, q := range qs {
			score, _, ok := ParseReply(q, body)
			if ok && q.CheckScore(score) != nil {
				t.Fatalf("ParseReply(%s, %q) = %d, out of range", q.Kind, body, score)
			}
		}
	})
}
