package surveys

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestComputeIsExactOnAFixedDataSet(t *testing.T) {
	var as []Answer
	for _, s := range []int{5, 5, 4, 3, 2, 1, 4, 5} { // 5 of 8 satisfied
		as = append(as, Answer{KindCSAT, s})
	}
	for _, s := range []int{10, 9, 9, 8, 7, 6, 0, 3, 10, 5} { // 4 promoters, 2 passives, 4 detractors
		as = append(as, Answer{KindNPS, s})
	}
	for _, s := range []int{1, 2, 2, 7} { // mean 3
		as = append(as, Answer{KindCES, s})
	}
	got := Compute(as, 30, 12)
	if *got.CSAT != 62.5 {
		t.Errorf("CSAT %v; want 62.5", *got.CSAT)
	}
	if *got.NPS != 0 {
		t.Errorf("NPS %v; want 0", *got.NPS)
	}
	if *got.CES != 3 {
		t.Errorf("CES %v; want 3", *got.CES)
	}
	if *got.ResponseRate != 40 {
		t.Errorf("response rate %v; want 40", *got.ResponseRate)
	}
	neg := Compute([]Answer{{KindNPS, 0}, {KindNPS, 0}, {KindNPS, 9}}, 0, 0)
	if *neg.NPS != -33.33 || neg.CSAT != nil || neg.ResponseRate != nil {
		t.Errorf("NPS %v CSAT %v rate %v; want -33.33, nil, nil", *neg.NPS, neg.CSAT, neg.ResponseRate)
	}
}

func TestParseReplyAcceptsNumbersInRangeOnly(t *testing.T) {
	csat := Question{Key: "q", Kind: KindCSAT}
	nps := Question{Key: "q", Kind: KindNPS}
	tests := []struct {
		q     Question
		in    string
		score int
		ok    bool
	}{
		{csat, "4", 4, true}, {csat, " 5. thanks", 5, true}, {csat, "５", 5, true}, {csat, "0", 0, false},
		{csat, "6", 0, false}, {csat, "hello", 0, false}, {csat, "4pm tomorrow?", 0, false}, {csat, "", 0, false},
		{nps, "10", 10, true}, {nps, "0", 0, true}, {nps, "11", 0, false}, {nps, "100", 0, false},
	}
	for _, tt := range tests {
		s, _, ok := ParseReply(tt.q, tt.in)
		if ok != tt.ok || s != tt.score {
			t.Errorf("ParseReply(%s, %q) = %d, %v; want %d, %v", tt.q.Kind, tt.in, s, ok, tt.score, tt.ok)
		}
	}
}

func TestSignerRefusesTamperedAndExpiredTokens(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_700_000_000, 0)
	tok := s.Sign(42, now.Add(time.Hour))
	if id, err := s.Verify(tok, now); err != nil || id != 42 {
		t.Fatalf("Verify = %d, %v; want 42", id, err)
	}
	if _, err := s.Verify(tok, now.Add(time.Hour)); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("expired token: %v; want invalid", err)
	}
	b := []byte(tok)
	b[3] ^= 1
	if _, err := s.Verify(string(b), now); parley.ErrorCode(err) != parley.EUNAUTHORIZED {
		t.Errorf("tampered token: %v; want unauthorized", err)
	}
	if _, err := NewSigner([]byte("other")).Verify(tok, now); parley.ErrorCode(err) != parley.EUNAUTHORIZED {
		t.Errorf("token of another key: %v; want unauthorized", err)
	}
}

func TestValidateNeedsBothLocalesAndAScoredFirstQuestion(t *testing.T) {
	s := Survey{Name: "CSAT", Questions: []Question{{Key: "csat", Kind: KindCSAT, Text: Texts{"en": "How did we do?"}}}}
	s.Defaults()
	if err := s.Validate(); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("missing zh-CN: %v; want invalid", err)
	}
	s.Questions[0].Text["zh-CN"] = "您对本次服务满意吗？"
	if err := s.Validate(); err != nil {
		t.Fatalf("valid survey: %v", err)
	}
	s.Questions = []Question{{Key: "t", Kind: KindText, Text: s.Questions[0].Text}}
	if err := s.Validate(); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("text first: %v; want invalid", err)
	}
}

func TestIDsAreStringsInJSONAndReadFromEither(t *testing.T) {
	b, err := json.Marshal(struct {
		Q IDs `json:"queue_ids"`
	}{IDs{3, 12}})
	if err != nil || string(b) != `{"queue_ids":["3","12"]}` {
		t.Errorf("marshal: %s, %v", b, err)
	}
	var ids IDs
	if err := json.Unmarshal([]byte(`["4", 5]`), &ids); err != nil || len(ids) != 2 || ids[0] != 4 || ids[1] != 5 {
		t.Errorf("unmarshal: %v, %v", ids, err)
	}
	if err := json.Unmarshal([]byte(`["x"]`), &ids); err == nil {
		t.Error("a non-id was accepted")
	}
}
