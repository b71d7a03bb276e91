package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
)

// timelineWorld gives one customer 10,000 messages in 100 conversations,
// 200 notes and lifecycle changes, beside another customer with as many
// messages (so the indexes, not the table size, decide the cost).
func timelineWorld(tb testing.TB) (*postgres.DB, int64) {
	tb.Helper()
	db, in := fixture(tb)
	ctx := context.Background()
	var ids [2]int64
	for i, addr := range []string{"+14155550100", "+14155550101"} {
		r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: addr}, Body: "first", DedupeKey: addr}, in)
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = r.Conversation.CustomerID
	}
	for _, sql := range []string{
		`UPDATE conversations SET status = 'resolved', resolved_at = now()`,
		// 99 more conversations each, spread over the last 100 days
		`INSERT INTO conversations (customer_id, inbox_id, queue_id, channel, status, created_at, last_seq)
			SELECT c.id, $1, $2, 'sms', 'resolved', now() - g * interval '1 day', 101 FROM customers c, generate_series(1, 99) g`,
		// up to 10,000 messages per customer (100 per conversation, one a minute)
		`INSERT INTO messages (conversation_id, inbox_id, seq, direction, sender_type, channel, body, created_at)
			SELECT cv.id, $1, g + 1, CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, CASE WHEN g % 2 = 0 THEN 'customer' ELSE 'agent' END,
				'sms', 'message ' || g, cv.created_at + g * interval '1 minute'
			FROM conversations cv, generate_series(1, 100) g WHERE cv.last_seq = 101`,
		`INSERT INTO customer_notes (customer_id, author_name, body, created_at)
			SELECT c.id, 'Ada', 'note ' || g, now() - g * interval '11 hours' FROM customers c, generate_series(1, 200) g`,
		`INSERT INTO customer_lifecycle_changes (customer_id, from_stage, to_stage, reason, created_at)
			SELECT c.id, 'lead', 'prospect', 'hand', now() - g * interval '9 days' FROM customers c, generate_series(1, 10) g`,
		`ANALYZE`,
	} {
		args := []any{}
		if strings.Contains(sql, "$1") {
			args = append(args, in.ID)
		}
		if strings.Contains(sql, "$2") {
			args = append(args, in.QueueID)
		}
		if _, err := db.Pool().Exec(ctx, sql, args...); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
	var n int
	db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE customer_id = $1`, ids[0]).Scan(&n)
	if n < 9900 {
		tb.Fatalf("customer has %d messages; want about 10,000", n)
	}
	return db, ids[0]
}

func TestTimelinePagesThroughTenThousandMessagesByIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20,000 messages")
	}
	db, cust := timelineWorld(t)
	ctx := context.Background()
	// Every message, note and change comes exactly once, in order.
	seen := map[string]bool{}
	cursor, pages, total := "", 0, 0
	var last postgres.TimelineEntry
	for {
		items, next, err := db.Timeline(ctx, cust, cursor, 200)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if total > 0 && it.At.After(last.At) {
				t.Fatalf("entry %d is newer than the one before", total)
			}
			key := it.Kind + it.At.String()
			if it.Message != nil {
				key += it.Message.Body + fmt.Sprint(it.Message.ConversationID)
			}
			if seen[key] {
				t.Fatalf("entry %s repeated", key)
			}
			seen[key] = true
			last = it
			total++
		}
		pages++
		if cursor = next; cursor == "" {
			break
		}
	}
	var want int
	db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM messages WHERE customer_id = $1) + (SELECT count(*) FROM conversations WHERE customer_id = $1)
		+ (SELECT count(*) FROM customer_notes WHERE customer_id = $1) + (SELECT count(*) FROM customer_lifecycle_changes WHERE customer_id = $1)`, cust).Scan(&want)
	if total != want {
		t.Errorf("timeline has %d entries in %d pages; want %d", total, pages, want)
	}
	// The plans read the customer's rows through the timeline indexes (the
	// 20 lifecycle rows are too few for the planner to prefer one).
	for name, sql := range map[string]string{
		"messages_customer_idx":            `SELECT m.id FROM messages m WHERE m.customer_id = $1 AND (m.created_at, m.id) < (now(), 0) ORDER BY m.created_at DESC, m.id DESC LIMIT 51`,
		"conversations_customer_time_idx":  `SELECT c.id FROM conversations c WHERE c.customer_id = $1 AND (c.created_at, c.id) < (now(), 0) ORDER BY c.created_at DESC, c.id DESC LIMIT 51`,
		"customer_notes_customer_time_idx": `SELECT n.id FROM customer_notes n WHERE n.customer_id = $1 AND n.created_at < now() ORDER BY n.created_at DESC, n.id DESC LIMIT 51`,
	} {
		rows, err := db.Pool().Query(ctx, `EXPLAIN `+sql, cust)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		p := strings.Join(plan, "\n")
		if !strings.Contains(p, name) || strings.Contains(p, "Sort") || strings.Contains(p, "Seq Scan") {
			t.Errorf("plan without %s (or with a sort or scan):\n%s", name, p)
		}
	}
}

func BenchmarkTimelineTenThousandMessages(b *testing.B) {
	db, cust := timelineWorld(b)
	ctx := context.Background()
	// The cursor half way down (about 5,000 entries deep).
	cursor := ""
	for range 25 {
		_, next, err := db.Timeline(ctx, cust, cursor, 200)
		if err != nil {
			b.Fatal(err)
		}
		cursor = next
	}
	for _, bc := range []struct {
		name   string
		cursor string
	}{{"first_page", ""}, {"page_at_5000", cursor}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				items, _, err := db.Timeline(ctx, cust, bc.cursor, 50)
				if err != nil || len(items) != 50 {
					b.Fatalf("%d items, %v", len(items), err)
				}
			}
		})
	}
}
