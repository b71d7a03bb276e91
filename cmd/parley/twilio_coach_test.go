package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

// TestTwilioSupervisorListensWhispersAndBargesThroughTheConference: an
// accepted call is bridged through the conversation's conference, whose
// sid and legs come from the signed status callbacks; a supervisor joins
// it muted (listen), then coaches the agent's leg (whisper), then talks
// to both (barge), each through Twilio's Participants API and audited.
func TestTwilioSupervisorListensWhispersAndBargesThroughTheConference(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", nil)
	base := "/webhooks/twilio/" + inbox + "/voice"
	chen := te.voiceAgent(t, "agent3@parley.test", "+14155550142")
	sup := te.srv.login(t, "supervisor@parley.test")
	te.setEndpoint(t, sup, "+14155550177")

	call := te.newCall(inbox, twCustomer)
	call.post(t, "", "ringing")
	_, conv := acceptNext(t, chen)
	chen.expectWhere("call", func(f frame) bool { return f.str("meta", "talk_started_at") != "" })
	reqs := te.fake.Requests()
	agentLeg := reqs[0].Sid
	name := "parley-conv-" + conv
	coach := func(mode string) (int, map[string]any) {
		var out map[string]any
		code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/voice/"+mode, sup, nil, &out)
		return code, out
	}

	// The conference's status callbacks: its start (and sid), the legs joining.
	confSid := te.fake.ConferenceSid(name)
	status := func(event, callSid string, muted, coaching bool) {
		t.Helper()
		if r := te.post(t, base+"/conference", twiliotest.ConferenceStatus(twSID, name, confSid, event, callSid, muted, coaching)); r.Status != http.StatusNoContent {
			t.Fatalf("conference %s: %d %s", event, r.Status, r.Body)
		}
	}
	status("conference-start", "", false, false)
	status("participant-join", agentLeg, false, false)
	status("participant-join", call.sid, false, false)
	if r, _ := te.hooks.PostUnsigned(t.Context(), base+"/conference", twiliotest.ConferenceStatus(twSID, name, confSid, "conference-end", "", false, false)); r.Status != http.StatusForbidden {
		t.Errorf("unsigned conference callback: %d; want 403", r.Status)
	}
	if n := te.count(t, `SELECT count(*) FROM voice_conferences WHERE conversation_id = $1::bigint AND conference_sid = $2 AND started_at IS NOT NULL
		AND customer_call_sid = $3 AND agent_call_sid = $4 AND ended_at IS NULL`, conv, confSid, call.sid, agentLeg); n != 1 {
		t.Fatalf("conference not recorded (sid %s, customer %s, agent %s)", confSid, call.sid, agentLeg)
	}

	// Listen: the supervisor's phone joins the conference muted.
	code, res := coach("listen")
	if code != 200 || res["joined"] != true || res["call_sid"] == "" {
		t.Fatalf("listen: %d %v", code, res)
	}
	supLeg := res["call_sid"].(string)
	leg, _ := te.fake.WaitFor(time.Second, func(r twiliotest.Request) bool { return r.Kind() == "participant-create" && r.Sid == supLeg })
	if leg.Conference != confSid || leg.Form.Get("To") != "+14155550177" || leg.Form.Get("Muted") != "true" ||
		leg.Form.Get("Coaching") != "" || leg.Form.Get("EndConferenceOnExit") != "false" {
		t.Errorf("listen leg: %s %v", leg.Conference, leg.Form)
	}
	status("participant-join", supLeg, true, false)

	// Whisper: the same leg coaches the agent's (only the agent hears).
	if code, res = coach("whisper"); code != 200 || res["joined"] != false || res["call_sid"] != supLeg {
		t.Fatalf("whisper: %d %v", code, res)
	}
	upd, _ := te.fake.WaitFor(time.Second, func(r twiliotest.Request) bool {
		return r.Kind() == "participant-update" && r.Form.Get("Coaching") == "true"
	})
	if upd.Conference != confSid || upd.Sid != supLeg || upd.Form.Get("CallSidToCoach") != agentLeg || upd.Form.Get("Muted") != "false" {
		t.Errorf("whisper update: %s %s %v", upd.Conference, upd.Sid, upd.Form)
	}
	status("participant-modify", supLeg, false, true)

	// Barge, from the wallboard's button on the agent's call: unmuted,
	// coaching off: heard by the caller too.
	b := newBrowser(t)
	consoleLogin(t, b, te.srv.base, "supervisor@parley.test", chromedp.WaitVisible(chromedp.ID("wallboard-open")))
	barge := `#wallboard-agents .agent-conversation[data-conversation-id="` + conv + `"] button.voice-barge`
	step(t, b, "barge from the wallboard",
		chromedp.Click(chromedp.ID("wallboard-open")),
		chromedp.WaitVisible(barge),
		waitJS(`!!document.querySelector('#wallboard-agents .agent-conversation[data-conversation-id="`+conv+`"] button.voice-listen')`),
		chromedp.Click(barge),
		waitJS(`document.getElementById('wallboard-status').dataset.state === 'done'`),
	)
	upd, _ = te.fake.WaitFor(time.Second, func(r twiliotest.Request) bool {
		return r.Kind() == "participant-update" && r.Form.Get("Coaching") == "false" && r.Form.Get("Muted") == "false"
	})
	if upd.Sid != supLeg || upd.Form.Get("CallSidToCoach") != "" {
		t.Errorf("barge update: %s %v", upd.Sid, upd.Form)
	}
	if n := te.count(t, `SELECT count(*) FROM voice_conference_legs WHERE conversation_id = $1::bigint`, conv); n != 3 {
		t.Errorf("%d legs recorded; want 3 (customer, agent, supervisor)", n)
	}
	if n := te.count(t, `SELECT count(*) FROM voice_conference_legs WHERE call_sid = $1 AND role = 'supervisor' AND mode = 'barge' AND joined_at IS NOT NULL`, supLeg); n != 1 {
		t.Errorf("supervisor leg not recorded as barging")
	}
	var audit struct{ Items []struct{ Action string } }
	te.srv.do(t, "GET", "/api/v1/audit?limit=3", te.admin, nil, &audit)
	if len(audit.Items) != 3 || audit.Items[0].Action != "conversation.voice_barge" || audit.Items[1].Action != "conversation.voice_whisper" ||
		audit.Items[2].Action != "conversation.voice_listen" {
		t.Errorf("audit: %+v", audit.Items)
	}

	// Refused: an agent, a bad mode; and after the conference ended.
	if code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/voice/listen", te.srv.login(t, "agent1@parley.test"), nil, nil); code != 403 {
		t.Errorf("an agent coaching: %d; want 403", code)
	}
	if code, _ := coach("shout"); code != 400 {
		t.Errorf("bad mode: %d; want 400", code)
	}
	status("conference-end", "", false, false)
	if code, _ := coach("listen"); code != 409 {
		t.Errorf("listen after the conference ended: %d; want 409", code)
	}
}
