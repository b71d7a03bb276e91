package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// WhatsAppWindow is WhatsApp's customer-service window: free-form replies
// are allowed up to 24 hours after the customer's last message; after it
// only approved templates.
const WhatsAppWindow = 24 * time.Hour

// NewHTTPClient returns the HTTP client twilio-go sends its REST calls with.
// twilio-go has no base-URL option, so its Transport rewrites the scheme and
// host (and prefixes the path) of every request to apiBase; "" or
// DefaultAPIBase leaves requests alone.
func NewHTTPClient(apiBase string) (*http.Client, error) {
	hc := &http.Client{
		Timeout: 15 * time.Second,
		// As twilio-go's default client: never follow redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if apiBase == "" || strings.TrimRight(apiBase, "/") == DefaultAPIBase {
		return hc, nil
	}
	u, err := url.Parse(apiBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("the Twilio API base must be an http(s) URL such as http://127.0.0.1:9099 (got %q)", apiBase)
	}
	hc.Transport = &rewrite{base: u, next: http.DefaultTransport}
	return hc, nil
}

// rewrite sends every request to base instead of Twilio's hosts.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	r.URL.Path = strings.TrimRight(t.base.Path, "/") + r.URL.Path
	r.URL.RawPath = ""
	return t.next.RoundTrip(r)
}

// rest returns a twilio-go client for an inbox's account.
func (c *Channel) rest(acct *parley.TwilioAccount) *twilio.RestClient {
	cl := &client.Client{Credentials: client.NewCredentials(acct.AccountSID, acct.AuthToken), HTTPClient: c.http}
	cl.SetAccountSid(acct.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{
		Username: acct.AccountSID, Password: acct.AuthToken, AccountSid: acct.AccountSID, Client: cl,
	})
}

// restError turns a failed REST call into a delivery error: Twilio's 4xx
// answers (bad number, unsubscribed recipient 21610, outside the WhatsApp
// window 63016, wrong credentials) are permanent (EINVALID: the job is not
// retried and the message is marked failed); network errors, 429 and 5xx
// are retried.
func restError(op string, err error) error {
	var te *client.TwilioRestError
	if errors.As(err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests {
		return &parley.Error{Code: parley.EINVALID, Message: fmt.Sprintf("Twilio refused the %s: error %d: %s", op, te.Code, te.Message)}
	}
	var ve *client.RestErrorV1
	if errors.As(err, &ve) && ve.HttpStatusCode >= 400 && ve.HttpStatusCode < 500 && ve.HttpStatusCode != http.StatusTooManyRequests {
		return &parley.Error{Code: parley.EINVALID, Message: fmt.Sprintf("Twilio refused the %s: error %d: %s", op, ve.Code, ve.Message)}
	}
	return fmt.Errorf("twilio %s: %w", op, err)
}

// Send delivers an agent's reply as an SMS or WhatsApp message and returns
// Twilio's MessageSid. It implements parley.Sender. Nothing is sent to an
// address that opted out, nor a free-form WhatsApp message outside the
// 24-hour window: both are permanent errors (the message is marked failed).
// A message sent as a WhatsApp template goes as its ContentSid and
// ContentVariables, at any time.
// Twilio's Messages API takes no idempotency key, so a retry after a lost
// answer may send twice (at-least-once).
func (c *Channel) Send(ctx context.Context, conv parley.Conversation, m parley.Message) (string, error) {
	if conv.Channel != parley.ChannelSMS && conv.Channel != parley.ChannelWhatsApp {
		return "", parley.Errorf(parley.EINVALID, "Twilio sends no %s messages.", conv.Channel)
	}
	inbox, err := c.backend.Inbox(ctx, conv.InboxID)
	if err != nil {
		return "", err
	}
	if inbox.Twilio == nil {
		return "", parley.Errorf(parley.EINVALID, "Inbox %d has no Twilio account.", inbox.ID)
	}
	to, err := c.recipient(ctx, conv)
	if err != nil {
		return "", err
	}
	if out, err := c.backend.OptedOut(ctx, conv.Channel, to); err != nil {
		return "", err
	} else if out {
		return "", parley.Errorf(parley.EINVALID, "The customer opted out of %s messages (STOP); nothing was sent.", conv.Channel)
	}
	contentSid, contentVars, isTemplate, err := c.backend.MessageTemplate(ctx, m.ID)
	if err != nil {
		return "", err
	}
	if !isTemplate {
		if err := c.CheckReply(ctx, conv); err != nil {
			return "", err
		}
	}
	p := &api.CreateMessageParams{}
	from := inbox.Twilio.From
	if conv.Channel == parley.ChannelWhatsApp {
		to = "whatsapp:" + to
		if !strings.HasPrefix(from, "whatsapp:") && !strings.HasPrefix(from, "MG") {
			from = "whatsapp:" + from
		}
	}
	if validSid(from, "MG") {
		p.SetMessagingServiceSid(from)
	} else {
		p.SetFrom(from)
	}
	p.SetTo(to)
	if isTemplate {
		// An approved template (Content API): allowed outside the window.
		p.SetContentSid(contentSid)
		p.SetContentVariables(contentVars)
	} else {
		p.SetBody(m.Body)
	}
	var media []string
	for _, a := range m.Attachments {
		if strings.HasPrefix(a.URL, "https://") || strings.HasPrefix(a.URL, "http://") {
			media = append(media, a.URL)
		}
	}
	if len(media) > 0 {
		p.SetMediaUrl(media)
	}
	p.SetStatusCallback(c.webhookURL(inbox.ID, "/messaging/status", url.Values{"m": {strconv.FormatInt(m.ID, 10)}}))
	res, err := c.rest(inbox.Twilio).Api.CreateMessage(p)
	if err != nil {
		return "", restError("message", err)
	}
	if res.Sid == nil || *res.Sid == "" {
		return "", fmt.Errorf("twilio message: answer without a sid")
	}
	c.log.Info("twilio message sent", "message_id", m.ID, "conversation_id", conv.ID, "sid", *res.Sid)
	return *res.Sid, nil
}

// recipient returns the customer's E.164 number in a conversation: the one
// that opened it, else the customer's first identity on the channel.
func (c *Channel) recipient(ctx context.Context, conv parley.Conversation) (string, error) {
	if a := conv.Meta["address"]; a != "" {
		return a, nil
	}
	ids, err := c.backend.CustomerIdentities(ctx, conv.CustomerID)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if id.Channel == conv.Channel {
			return id.Address, nil
		}
	}
	return "", parley.Errorf(parley.EINVALID, "The customer has no %s number.", conv.Channel)
}

// WhatsAppWindowOf reports whether a WhatsApp conversation's 24-hour window
// is open and when it closes (zero when the customer never wrote).
func (c *Channel) WhatsAppWindowOf(ctx context.Context, conv parley.Conversation) (open bool, closesAt time.Time, err error) {
	last, ok, err := c.backend.LastInboundAt(ctx, conv.CustomerID, conv.InboxID)
	if err != nil || !ok {
		return false, time.Time{}, err
	}
	closesAt = last.Add(WhatsAppWindow)
	return c.now().Before(closesAt), closesAt, nil
}

// CheckReply refuses a free-form WhatsApp reply more than 24 hours after
// the customer's last message (desk.ReplyChecker: the agent gets the error
// before the reply is stored).
func (c *Channel) CheckReply(ctx context.Context, conv parley.Conversation) error {
	if conv.Channel != parley.ChannelWhatsApp {
		return nil
	}
	last, ok, err := c.backend.LastInboundAt(ctx, conv.CustomerID, conv.InboxID)
	if err != nil {
		return err
	}
	if !ok || c.now().Sub(last) > WhatsAppWindow {
		return parley.Invalid("WhatsApp allows free-form replies only within 24 hours of the customer's last message; send an approved template instead.",
			map[string]string{"body": "outside WhatsApp's 24-hour customer-service window"})
	}
	return nil
}
