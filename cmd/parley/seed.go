package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
)

// DemoPassword is the password of every demo login. Seed data only.
const DemoPassword = "parley-demo"

func demoAgents() []parley.Agent {
	support := []string{"Support"}
	return []parley.Agent{
		{Name: "Ada Admin", Email: "admin@parley.test", Role: parley.RoleAdmin, Languages: []string{"en"}, Teams: []string{}},
		{Name: "Sam Supervisor", Email: "supervisor@parley.test", Role: parley.RoleSupervisor, Languages: []string{"en", "zh"}, Teams: support,
			Skills: map[string]int{"billing": 3, "technical": 3}},
		{Name: "Alice Chen", Email: "agent1@parley.test", Role: parley.RoleAgent, Languages: []string{"en", "zh"}, Teams: support,
			Skills: map[string]int{"billing": 5}},
		{Name: "Bob Martin", Email: "agent2@parley.test", Role: parley.RoleAgent, Languages: []string{"en"}, Teams: support,
			Skills: map[string]int{"billing": 3, "technical": 2}},
		{Name: "陈伟 Chen Wei", Email: "agent3@parley.test", Role: parley.RoleAgent, Languages: []string{"zh", "en"}, Teams: support,
			Skills: map[string]int{"technical": 5}},
		{Name: "Dana Kim", Email: "agent4@parley.test", Role: parley.RoleAgent, Languages: []string{"en"}, Teams: support,
			Skills: map[string]int{"technical": 4, "billing": 2}},
	}
}

func demoQueues() []parley.Queue {
	members := []string{"team:Support"}
	return []parley.Queue{
		{Name: "Billing", Media: []parley.Media{parley.MediaChat, parley.MediaEmail}, Priority: 10, OfferTimeoutS: 30, Members: members,
			Steps: []parley.Step{{Require: map[string]int{"billing": 3}, ExpireAfterS: 60}}},
		{Name: "Technical", Media: []parley.Media{parley.MediaChat, parley.MediaEmail}, Priority: 5, OfferTimeoutS: 30, Members: members,
			Steps: []parley.Step{{Require: map[string]int{"technical": 3}, ExpireAfterS: 60}}},
		{Name: "General", Media: []parley.Media{parley.MediaChat, parley.MediaEmail, parley.MediaVoice}, OfferTimeoutS: 30, Members: members},
	}
}

// seedDemo creates the demo organisation; what exists already is left alone,
// so seeding twice changes nothing.
func seedDemo(ctx context.Context, db *postgres.DB, out io.Writer) error {
	agents, err := db.Agents(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, a := range agents {
		have[a.Email] = true
	}
	for _, a := range demoAgents() {
		if have[a.Email] {
			continue
		}
		a.VoiceBlocksDigital = true
		if err := db.CreateAgent(ctx, &a, DemoPassword); err != nil {
			return fmt.Errorf("create demo agent %s: %w", a.Email, err)
		}
	}
	queues, err := db.Queues(ctx)
	if err != nil {
		return err
	}
	byName := map[string]int64{}
	for _, q := range queues {
		byName[q.Name] = q.ID
	}
	for _, q := range demoQueues() {
		if byName[q.Name] != 0 {
			continue
		}
		if err := db.CreateQueue(ctx, &q); err != nil {
			return fmt.Errorf("create demo queue %s: %w", q.Name, err)
		}
		byName[q.Name] = q.ID
	}
	inboxes, err := db.Inboxes(ctx)
	if err != nil {
		return err
	}
	hasChat := false
	for _, in := range inboxes {
		hasChat = hasChat || in.Name == "Website chat"
	}
	if !hasChat {
		in := parley.InboxConfig{Channel: parley.ChannelWebchat, Name: "Website chat", QueueID: byName["General"],
			Settings: parley.InboxSettings{
				Greeting: "Hi! How can we help?",
				Topics: []parley.Topic{
					{Name: "billing", Label: "Billing and invoices", QueueID: byName["Billing"]},
					{Name: "technical", Label: "Technical problem", QueueID: byName["Technical"]},
					{Name: "other", Label: "Something else", QueueID: byName["General"]},
				},
			}}
		if err := db.CreateInbox(ctx, &in); err != nil {
			return fmt.Errorf("create demo inbox: %w", err)
		}
	}
	fmt.Fprintf(out, "demo organisation ready. Logins (password %q):\n", DemoPassword)
	for _, a := range demoAgents() {
		fmt.Fprintf(out, "  %-24s %-10s %s\n", a.Email, a.Role, a.Name)
	}
	return nil
}

func seed(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "create the demo organisation (agents, queues, a web-chat inbox)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo {
		return fmt.Errorf("nothing to seed: use parley seed --demo")
	}
	d, err := connect(ctx, getenv, false, false)
	if err != nil {
		return err
	}
	defer d.close()
	return seedDemo(ctx, postgres.New(d.pool, d.box), stdout)
}
