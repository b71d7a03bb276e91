package twilio

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/twilio/twilio-go/twiml"
)

// handleMessage receives an SMS, MMS or WhatsApp message. It answers 200
// with empty TwiML once the message is committed; a replayed MessageSid
// changes nothing.
func (c *Channel) handleMessage(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	ctx := r.Context()
	m, err := parseMessage(form, inbox.Channel, regionOf(inbox.Twilio.From))
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	kw := keyword(m)
	in := parley.Inbound{
		InboxID:      inbox.ID,
		Identity:     parley.Identity{Channel: inbox.Channel, Address: m.From},
		DedupeKey:    m.Sid,
		Body:         m.Body,
		Attachments:  m.Media,
		CustomerName: m.ProfileName,
		Meta:         map[string]string{"address": m.From},
		// An opt-out or opt-in keyword alone opens no work for agents; in
		// an open conversation the agent sees it.
		NoRouting: kw == "STOP" || kw == "START",
	}
	if in.CustomerName == "" {
		in.CustomerName = m.From
	}
	if !in.NoRouting && c.surveyReply(w, r, inbox, m.From, m.Sid, m.Body) {
		return // a survey's numbered reply: recorded, no new work
	}
	rcpt, err := c.backend.Receive(ctx, in)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	cust := rcpt.Message.Sender.ID
	if !rcpt.Duplicate {
		attrs := map[string]string{}
		if inbox.Channel == parley.ChannelWhatsApp {
			attrs["whatsapp_profile_name"] = m.ProfileName
		}
		if err := c.backend.SetCustomerPhone(ctx, cust, m.From, m.Region, attrs); err != nil {
			c.log.Warn("record customer phone", "customer_id", cust, "error", err)
		}
	}
	// Consent is applied on replays too: the message is committed, so a
	// failure here is retried by Twilio's next attempt.
	if kw == "STOP" || kw == "START" {
		if err := c.backend.SetConsent(ctx, cust, inbox.Channel, m.From, kw == "STOP", m.Body); err != nil {
			web.Error(w, r, c.log, err)
			return
		}
	}
	var verbs []twiml.Element
	// Twilio's own opt-out handling answers SMS keywords; WhatsApp has
	// none, so Parley confirms.
	if inbox.Channel == parley.ChannelWhatsApp && !rcpt.Duplicate {
		switch kw {
		case "STOP":
			verbs = append(verbs, &twiml.MessagingMessage{Body: "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."})
		case "START":
			verbs = append(verbs, &twiml.MessagingMessage{Body: "You are subscribed again. Reply STOP to unsubscribe."})
		}
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	writeTwiML(w, doc)
}

// deliveryStates maps Twilio's MessageStatus to Parley's delivery states
// ("" for states that say nothing about an outbound message).
var deliveryStates = map[string]string{
	"accepted": parley.DeliveryQueued, "scheduled": parley.DeliveryQueued, "queued": parley.DeliveryQueued,
	"sending": parley.DeliverySent, "sent": parley.DeliverySent,
	"delivered": parley.DeliveryDelivered, "read": parley.DeliveryRead,
	"failed": parley.DeliveryFailed, "canceled": parley.DeliveryFailed, "undelivered": parley.DeliveryUndelivered,
}

// messageStatus is a parsed status callback.
type messageStatus struct {
	Sid, State, Reason string
	// MessageID is Parley's message id from the callback URL (0 if absent).
	MessageID int64
}

func parseMessageStatus(form url.Values, query url.Values) (messageStatus, error) {
	var s messageStatus
	sid, err := one(form, "MessageSid")
	if err != nil {
		return s, err
	}
	status, err := one(form, "MessageStatus")
	if err != nil {
		return s, err
	}
	if status == "" {
		if status, err = one(form, "SmsStatus"); err != nil {
			return s, err
		}
	}
	code, err := one(form, "ErrorCode")
	if err != nil {
		return s, err
	}
	f := map[string]string{}
	if !validSid(sid, "SM", "MM", "IM") {
		f["MessageSid"] = "a Twilio message sid is required"
	}
	if status == "" || len(status) > 40 {
		f["MessageStatus"] = "required"
	}
	if code != "" {
		if n, err := strconv.Atoi(code); err != nil || n < 0 {
			f["ErrorCode"] = "must be a number"
		} else if n != 0 {
			s.Reason = "twilio error " + code
		}
	}
	if m := query.Get("m"); m != "" {
		if s.MessageID, err = strconv.ParseInt(m, 10, 64); err != nil || s.MessageID <= 0 {
			f["m"] = "must be a message id"
		}
	}
	if len(f) > 0 {
		return messageStatus{}, parley.Invalid("Invalid Twilio status callback.", f)
	}
	s.Sid, s.State = sid, deliveryStates[status]
	return s, nil
}

// handleMessageStatus records a delivery status callback. States only move
// forward, so replayed or late callbacks change nothing; a callback for a
// message Parley did not send is acknowledged and ignored.
func (c *Channel) handleMessageStatus(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	s, err := parseMessageStatus(form, r.URL.Query())
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	if s.State != "" {
		err = c.backend.DeliveryStatusOf(r.Context(), inbox.ID, s.MessageID, s.Sid, s.State, s.Reason)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			c.log.Info("status callback for an unknown message", "inbox_id", inbox.ID, "sid", s.Sid)
			err = nil
		}
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
