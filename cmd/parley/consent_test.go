package main

import "testing"

// TestAgentRecordsACustomersSMSConsent: a supervisor records that a
// customer opted out of SMS on one of their numbers (the same row STOP
// writes, which the Twilio sender honours); the consent lists show it with
// its source; other addresses and channels are refused; an agent who may
// not see the customer gets 403.
func TestAgentRecordsACustomersSMSConsent(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	v := srv.startVisitor(t, srv.inboxID(t, admin), "", "Lena Vogel", "lena@example.com", "billing")
	base := "/api/v1/customers/" + v.customerID
	if code := srv.do(t, "POST", base+"/identities", sup, map[string]string{"channel": "sms", "address": "+1 415 555 0100"}, nil); code != 201 {
		t.Fatalf("link phone: %d", code)
	}

	// The region follows from the number.
	var profile struct{ Region string }
	if code := srv.do(t, "GET", base, sup, nil, &profile); code != 200 || profile.Region != "US" {
		t.Errorf("profile region: %d %q; want US", code, profile.Region)
	}

	var list struct {
		Items []struct{ Channel, Address, Status, Source string }
	}
	if code := srv.do(t, "PUT", base+"/consents", sup, map[string]string{"channel": "sms", "address": "+1 (415) 555-0100", "status": "opted_out"}, &list); code != 200 {
		t.Fatalf("set consent: %d", code)
	}
	if len(list.Items) != 1 || list.Items[0].Address != "+14155550100" || list.Items[0].Status != "opted_out" || list.Items[0].Source == "" {
		t.Fatalf("consents after opt-out: %+v", list.Items)
	}
	srv.do(t, "GET", base+"/consents", sup, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Status != "opted_out" {
		t.Errorf("consents listed: %+v", list.Items)
	}
	srv.do(t, "PUT", base+"/consents", sup, map[string]string{"channel": "sms", "address": "+14155550100", "status": "opted_in"}, &list)
	if len(list.Items) != 1 || list.Items[0].Status != "opted_in" {
		t.Errorf("consents after opt-in: %+v", list.Items)
	}

	for name, body := range map[string]map[string]string{
		"another number": {"channel": "sms", "address": "+14155550199", "status": "opted_out"},
		"email":          {"channel": "email", "address": "lena@example.com", "status": "opted_out"},
		"bad status":     {"channel": "sms", "address": "+14155550100", "status": "maybe"},
	} {
		if code := srv.do(t, "PUT", base+"/consents", sup, body, nil); code != 400 {
			t.Errorf("%s: %d; want 400", name, code)
		}
	}
	// The customer has no conversation: no agent's queue handles them.
	if code := srv.do(t, "GET", base+"/consents", srv.login(t, "agent1@parley.test"), nil, nil); code != 403 {
		t.Errorf("an agent outside the customer's queues: %d; want 403", code)
	}
}
