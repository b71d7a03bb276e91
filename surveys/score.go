package surveys

// Definitions of the figures, as reports show them.
const (
	DefCSAT         = "share of 4–5 answers on the 1–5 CSAT scale × 100"
	DefNPS          = "% promoters (9–10) − % detractors (0–6) on the 0–10 scale"
	DefCES          = "mean of the 1–7 effort scale"
	DefResponseRate = "answered survey requests ÷ sent survey requests × 100"
)

// Scores are the feedback figures of a set of answers. A figure with no
// answers is nil.
type Scores struct {
	CSAT         *float64       `json:"csat"`
	NPS          *float64       `json:"nps"`
	CES          *float64       `json:"ces"`
	ResponseRate *float64       `json:"response_rate"`
	Counts       map[string]int `json:"counts"`
}

// Answer is one scored answer.
type Answer struct {
	Kind  string
	Score int
}

// Compute returns CSAT (share of 4–5), NPS (promoters − detractors, in
// points), CES (mean) and the response rate (answered ÷ sent).
func Compute(answers []Answer, sent, answered int) Scores {
	c := map[string]int{"csat_responses": 0, "csat_satisfied": 0, "nps_responses": 0, "nps_promoters": 0, "nps_passives": 0,
		"nps_detractors": 0, "ces_responses": 0, "ces_sum": 0, "sent": sent, "answered": answered}
	for _, a := range answers {
		switch a.Kind {
		case KindCSAT:
			c["csat_responses"]++
			if a.Score >= 4 {
				c["csat_satisfied"]++
			}
		case KindNPS:
			c["nps_responses"]++
			switch {
			case a.Score >= 9:
				c["nps_promoters"]++
			case a.Score >= 7:
				c["nps_passives"]++
			default:
				c["nps_detractors"]++
			}
		case KindCES:
			c["ces_responses"]++
			c["ces_sum"] += a.Score
		}
	}
	s := Scores{Counts: c}
	s.CSAT = pct(c["csat_satisfied"], c["csat_responses"])
	if n := c["nps_responses"]; n > 0 {
		v := round2(float64(c["nps_promoters"]-c["nps_detractors"]) * 100 / float64(n))
		s.NPS = &v
	}
	if n := c["ces_responses"]; n > 0 {
		v := round2(float64(c["ces_sum"]) / float64(n))
		s.CES = &v
	}
	s.ResponseRate = pct(answered, sent)
	return s
}

func pct(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := round2(float64(a) * 100 / float64(b))
	return &v
}

func round2(v float64) float64 {
	if v < 0 {
		return -round2(-v)
	}
	return float64(int64(v*100+0.5)) / 100
}

// Detractor reports whether a score marks an unhappy customer: NPS 0–6,
// CSAT 1–2, CES 5–7.
func Detractor(kind string, score int) bool {
	switch kind {
	case KindNPS:
		return score <= 6
	case KindCSAT:
		return score <= 2
	case KindCES:
		return score >= 5
	}
	return false
}
