package server

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/surveys"
)

// surveyRoutes registers the survey definitions, the feedback report, a
// customer's past scores and the email answer page (no login: the signed
// token is the credential).
func (s *Server) surveyRoutes(m *web.Mux) {
	m.Handle("GET /api/v1/surveys", s.auth(supervisors, s.handleSurveys()))
	m.Handle("POST /api/v1/surveys", s.auth(admins, s.handleCreateSurvey()))
	m.Handle("GET /api/v1/surveys/{id}", s.auth(supervisors, s.handleSurvey()))
	m.Handle("PATCH /api/v1/surveys/{id}", s.auth(admins, s.handleUpdateSurvey()))
	m.Handle("GET /api/v1/reports/feedback", s.auth(supervisors, s.handleFeedbackReport()))
	m.Handle("GET /api/v1/customers/{id}/surveys", s.auth(anyone, s.handleCustomerSurveys()))
	m.Handle("GET /s/{token}", s.handleSurveyPage())
	m.Handle("POST /s/{token}", s.handleSurveyAnswer())
}

func (s *Server) handleSurveys() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.DB.Surveys(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"items": list})
		return nil
	})
}

func (s *Server) handleSurvey() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "survey")
		if err != nil {
			return err
		}
		sv, err := s.DB.Survey(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, sv)
		return nil
	})
}

func (s *Server) handleCreateSurvey() http.Handler {
	type request struct {
		Name           string             `json:"name"`
		Enabled        *bool              `json:"enabled"`
		Channels       []parley.Channel   `json:"channels"`
		QueueIDs       []string           `json:"queue_ids"`
		Trigger        string             `json:"trigger"`
		DelayS         int                `json:"delay_s"`
		SegmentIDs     surveys.IDs        `json:"segment_ids"`
		CapDays        int                `json:"cap_days"`
		ReplyWindowMin int                `json:"reply_window_min"`
		LinkTTLHours   int                `json:"link_ttl_hours"`
		Intro          surveys.Texts      `json:"intro"`
		Questions      []surveys.Question `json:"questions"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		sv := surveys.Survey{Name: req.Name, Enabled: req.Enabled == nil || *req.Enabled, Channels: req.Channels, Trigger: req.Trigger,
			DelayS: req.DelayS, SegmentIDs: req.SegmentIDs, CapDays: req.CapDays, ReplyWindowMin: req.ReplyWindowMin, LinkTTLHours: req.LinkTTLHours, Intro: req.Intro, Questions: req.Questions}
		for i, q := range req.QueueIDs {
			id, err := strconv.ParseInt(q, 10, 64)
			if err != nil || id <= 0 {
				return parley.Invalid("Invalid survey.", map[string]string{"queue_ids[" + strconv.Itoa(i) + "]": "a queue id"})
			}
			if _, err := s.DB.Queue(r.Context(), id); err != nil {
				if parley.ErrorCode(err) == parley.ENOTFOUND {
					return parley.Invalid("Invalid survey.", map[string]string{"queue_ids[" + strconv.Itoa(i) + "]": "no such queue"})
				}
				return err
			}
			sv.QueueIDs = append(sv.QueueIDs, id)
		}
		out, err := s.DB.CreateSurvey(r.Context(), sv)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, out)
		return nil
	})
}

func (s *Server) handleUpdateSurvey() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "survey")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, web.MaxBody))
		if err != nil {
			return parley.Errorf(parley.EINVALID, "Request body is too large.")
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return parley.Errorf(parley.EINVALID, "Invalid JSON: %v.", err)
		}
		for k := range fields {
			switch k {
			case "name", "enabled", "channels", "trigger", "delay_s", "segment_ids", "cap_days", "reply_window_min", "link_ttl_hours", "intro", "questions":
			case "queue_ids":
				// Ids are strings in the API; the store decodes int64s.
				var ids []string
				if err := json.Unmarshal(fields[k], &ids); err != nil {
					return parley.Invalid("Invalid survey.", map[string]string{"queue_ids": "a list of queue ids"})
				}
				nums := make([]int64, 0, len(ids))
				for _, q := range ids {
					n, err := strconv.ParseInt(q, 10, 64)
					if err != nil || n <= 0 {
						return parley.Invalid("Invalid survey.", map[string]string{"queue_ids": "a list of queue ids"})
					}
					nums = append(nums, n)
				}
				fields[k], _ = json.Marshal(nums)
			default:
				return parley.Invalid("Invalid survey.", map[string]string{k: "unknown field"})
			}
		}
		patch, _ := json.Marshal(fields)
		out, err := s.DB.UpdateSurvey(r.Context(), id, patch)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleFeedbackReport() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		f := postgres.FeedbackFilter{Channel: parley.Channel(q.Get("channel"))}
		bad := map[string]string{}
		parseFilterParams(q, bad, &f.From, &f.To, &f.QueueID, &f.AgentID)
		if len(bad) > 0 {
			return parley.Invalid("Invalid report filter.", bad)
		}
		sc, err := s.DB.FeedbackReport(r.Context(), f)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"from": q.Get("from"), "to": q.Get("to"), "csat": sc.CSAT, "nps": sc.NPS, "ces": sc.CES,
			"response_rate": sc.ResponseRate, "counts": sc.Counts,
			"definitions": map[string]string{"csat": surveys.DefCSAT, "nps": surveys.DefNPS, "ces": surveys.DefCES, "response_rate": surveys.DefResponseRate}})
		return nil
	})
}

func (s *Server) handleCustomerSurveys() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "customer")
		if err != nil {
			return err
		}
		list, err := s.DB.CustomerSurveys(r.Context(), id, 20)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"items": list})
		return nil
	})
}

// The email answer page: one form, no script, no login.

var surveyPage = template.Must(template.New("survey").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
fieldset{border:0;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}label.s{border:1px solid #8a94a3;border-radius:.4rem;padding:.4rem .7rem}
textarea{width:100%;min-height:5rem}button{margin-top:1rem;padding:.5rem 1.2rem}</style></head>
<body><main><h1>{{.Title}}</h1>
{{if .Message}}<p role="status">{{.Message}}</p>{{else}}
{{if .Intro}}<p>{{.Intro}}</p>{{end}}
<form method="post">{{range $i, $q := .Questions}}<p id="q{{$i}}">{{$q.Text}}</p>
{{if $q.Options}}<fieldset aria-labelledby="q{{$i}}">{{range $q.Options}}<label class="s"><input type="radio" name="{{$q.Name}}" value="{{.Value}}"{{if $q.Required}} required{{end}}{{if .Checked}} checked{{end}}> {{.Label}}</label>{{end}}</fieldset>
{{else}}<textarea aria-labelledby="q{{$i}}" name="{{$q.Name}}" maxlength="2000"></textarea>{{end}}{{end}}
{{if .Comment}}<p><label for="comment">{{.CommentLabel}}</label><br><textarea id="comment" name="comment" maxlength="2000"></textarea></p>{{end}}
<button type="submit">{{.Submit}}</button></form>{{end}}
</main></body></html>`))

type surveyOption struct {
	Value   int
	Label   string
	Checked bool
}

// surveyQuestion is one question of the page: radios for a scored one
// (the first is required and named "score", the others "q_<key>"), a text
// box for a text one.
type surveyQuestion struct {
	Name, Text string
	Required   bool
	Options    []surveyOption
}

type surveyView struct {
	Lang, Title, Intro, CommentLabel, Submit, Message string
	Questions                                         []surveyQuestion
	// Comment shows a free comment box (surveys without a text question).
	Comment bool
}

var surveyPageTexts = map[string]map[string]string{
	"en": {"title": "Your feedback", "comment": "Anything to add? (optional)", "submit": "Send",
		"thanks": "Thank you for your feedback!", "answered": "This survey was answered already. Thank you!",
		"expired": "This survey link has expired.", "invalid": "This survey link is not valid.", "error": "Something went wrong. Please try again later."},
	"zh-CN": {"title": "您的反馈", "comment": "还有其他意见吗？（可选）", "submit": "提交",
		"thanks": "感谢您的反馈！", "answered": "此调查已提交，谢谢！",
		"expired": "此调查链接已过期。", "invalid": "此调查链接无效。", "error": "出错了，请稍后再试。"},
}

func pageLang(locale string) string {
	if strings.HasPrefix(strings.ToLower(locale), "zh") {
		return "zh-CN"
	}
	return "en"
}

func (s *Server) renderSurveyPage(w http.ResponseWriter, status int, v surveyView) {
	t := surveyPageTexts[v.Lang]
	v.Title, v.CommentLabel, v.Submit = t["title"], t["comment"], t["submit"]
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	surveyPage.Execute(w, v)
}

// surveyFailure shows why a link cannot be answered: tampered (403),
// expired (410), answered already (409).
func (s *Server) surveyFailure(w http.ResponseWriter, r *http.Request, lang string, err error) {
	t := surveyPageTexts[lang]
	switch parley.ErrorCode(err) {
	case parley.EUNAUTHORIZED, parley.ENOTFOUND:
		s.renderSurveyPage(w, http.StatusForbidden, surveyView{Lang: lang, Message: t["invalid"]})
	case parley.EINVALID:
		if strings.Contains(err.Error(), "expired") {
			s.renderSurveyPage(w, http.StatusGone, surveyView{Lang: lang, Message: t["expired"]})
			return
		}
		s.renderSurveyPage(w, http.StatusBadRequest, surveyView{Lang: lang, Message: web.Detail(err).Message})
	case parley.ECONFLICT:
		s.renderSurveyPage(w, http.StatusConflict, surveyView{Lang: lang, Message: t["answered"]})
	default:
		s.Log.Error("survey page", "error", err)
		s.renderSurveyPage(w, http.StatusInternalServerError, surveyView{Lang: lang, Message: t["error"]})
	}
}

func (s *Server) handleSurveyPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Surveys == nil {
			http.NotFound(w, r)
			return
		}
		req, sv, err := s.Surveys.LinkSurvey(r.Context(), r.PathValue("token"))
		lang := pageLang(req.Locale)
		if err == nil && req.Status != "sent" {
			err = parley.Errorf(parley.ECONFLICT, "answered")
		}
		if err == nil && !time.Now().Before(req.ExpiresAt) {
			err = parley.Errorf(parley.EINVALID, "expired")
		}
		if err != nil {
			s.surveyFailure(w, r, lang, err)
			return
		}
		chosen, _ := strconv.Atoi(r.URL.Query().Get("score"))
		v := surveyView{Lang: lang, Intro: sv.Intro.In(req.Locale), Comment: true}
		for i, q := range sv.Questions {
			pq := surveyQuestion{Name: "q_" + q.Key, Text: q.Text.In(req.Locale), Required: i == 0}
			if i == 0 {
				pq.Name = "score"
			}
			if q.Kind == surveys.KindText {
				v.Comment = false
			}
			lo, hi, scored := q.Range()
			for n := lo; scored && n <= hi; n++ {
				label := strconv.Itoa(n)
				if q.Kind == surveys.KindChoice {
					label = q.Choices[n-1].In(req.Locale)
				}
				pq.Options = append(pq.Options, surveyOption{Value: n, Label: label, Checked: i == 0 && r.URL.Query().Has("score") && n == chosen})
			}
			v.Questions = append(v.Questions, pq)
		}
		s.renderSurveyPage(w, http.StatusOK, v)
	})
}

func (s *Server) handleSurveyAnswer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Surveys == nil {
			http.NotFound(w, r)
			return
		}
		tok := r.PathValue("token")
		req, _, err := s.Surveys.LinkSurvey(r.Context(), tok)
		lang := pageLang(req.Locale)
		if err != nil {
			s.surveyFailure(w, r, lang, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		score, perr := strconv.Atoi(r.PostFormValue("score"))
		if perr != nil {
			s.surveyFailure(w, r, lang, parley.Invalid("A score is required.", map[string]string{"score": "required"}))
			return
		}
		more := map[string]string{}
		for k, vs := range r.PostForm {
			if key, ok := strings.CutPrefix(k, "q_"); ok && len(vs) > 0 {
				more[key] = vs[0]
			}
		}
		if err := s.Surveys.AnswerLink(r.Context(), tok, score, r.PostFormValue("comment"), more); err != nil {
			s.surveyFailure(w, r, lang, err)
			return
		}
		s.renderSurveyPage(w, http.StatusOK, surveyView{Lang: lang, Message: surveyPageTexts[lang]["thanks"]})
	})
}
