package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

// Timeline entry kinds, in their tie-break rank (equal instants order by
// rank, then id, all descending).
const (
	KindConversation = "conversation"
	KindMessage      = "message"
	KindNote         = "note"
	KindSurvey       = "survey"
	KindLifecycle    = "lifecycle"
)

var kindRank = map[string]int{KindConversation: 0, KindMessage: 1, KindNote: 2, KindSurvey: 3, KindLifecycle: 4}

// TimelineEntry is one item of a customer's history; the field named by
// Kind is set.
type TimelineEntry struct {
	Kind           string                `json:"kind"`
	At             time.Time             `json:"at"`
	ConversationID int64                 `json:"conversation_id,string,omitempty"`
	Conversation   *TimelineConversation `json:"conversation,omitempty"`
	Message        *parley.Message       `json:"message,omitempty"`
	Note           *crm.Note             `json:"note,omitempty"`
	Survey         *TimelineSurvey       `json:"survey,omitempty"`
	Lifecycle      *TimelineLifecycle    `json:"lifecycle,omitempty"`
	id             int64
}

// TimelineConversation is a conversation's start.
type TimelineConversation struct {
	ID      int64  `json:"id,string"`
	Channel string `json:"channel"`
	Status  string `json:"status"`
	Topic   string `json:"topic"`
	QueueID int64  `json:"queue_id,string"`
}

// TimelineSurvey is one scored answer to a feedback survey.
type TimelineSurvey struct {
	Kind    string `json:"kind"`
	Score   *int   `json:"score"`
	Comment string `json:"comment"`
}

// TimelineLifecycle is a lifecycle stage change.
type TimelineLifecycle struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Reason  string `json:"reason"`
	ActorID int64  `json:"actor_id,string,omitempty"`
}

// TimelineCursor is the position after an entry: "<unix µs>.<rank>.<id>".
func (e TimelineEntry) cursor() string {
	return fmt.Sprintf("%d.%d.%d", e.At.UnixMicro(), kindRank[e.Kind], e.id)
}

type timelineCursor struct {
	at       time.Time
	rank     int
	id       int64
	fromHead bool
}

func parseTimelineCursor(s string) (timelineCursor, error) {
	if s == "" {
		return timelineCursor{fromHead: true}, nil
	}
	p := strings.Split(s, ".")
	if len(p) == 3 {
		us, e1 := strconv.ParseInt(p[0], 10, 64)
		r, e2 := strconv.Atoi(p[1])
		id, e3 := strconv.ParseInt(p[2], 10, 64)
		if e1 == nil && e2 == nil && e3 == nil {
			return timelineCursor{at: time.UnixMicro(us).UTC(), rank: r, id: id}, nil
		}
	}
	return timelineCursor{}, parley.Invalid("Invalid cursor.", map[string]string{"cursor": "a next_cursor from a previous page"})
}

// before is the keyset condition for one kind's rows (time column at, id
// column id, arguments from $2): rows strictly after the cursor in the
// timeline's order (at DESC, rank DESC, id DESC).
func (c timelineCursor) before(kind, at, id string) (string, []any) {
	switch r := kindRank[kind]; {
	case c.fromHead:
		return "true", nil
	case r < c.rank:
		return at + " <= $2", []any{c.at}
	case r > c.rank:
		return at + " < $2", []any{c.at}
	default:
		return "(" + at + ", " + id + ") < ($2, $3)", []any{c.at, c.id}
	}
}

// Timeline pages through a customer's history newest first: conversations
// started, every message on every channel (internal notes included),
// customer notes, survey answers and lifecycle changes. Each kind is read
// with its own index in (customer, time, id) order, at most limit rows
// each, and the pages are merged. It returns the next cursor ("" at the
// end).
func (db *DB) Timeline(ctx context.Context, customerID int64, cursor string, limit int) ([]TimelineEntry, string, error) {
	cur, err := parseTimelineCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if _, err := db.Customer(ctx, customerID); err != nil {
		return nil, "", err
	}
	var all []TimelineEntry
	read := func(kind, at, id, sql string, scan func(pgx.CollectableRow) (TimelineEntry, error)) error {
		cond, args := cur.before(kind, at, id)
		q := strings.ReplaceAll(sql, "{before}", cond)
		q = strings.ReplaceAll(q, "{limit}", fmt.Sprint(limit+1))
		rows, err := db.pool.Query(ctx, q, append([]any{customerID}, args...)...)
		if err != nil {
			return fmt.Errorf("timeline %s: %w", kind, err)
		}
		list, err := pgx.CollectRows(rows, scan)
		if err != nil {
			return fmt.Errorf("timeline %s: %w", kind, err)
		}
		all = append(all, list...)
		return nil
	}
	err = read(KindMessage, "m.created_at", "m.id", `SELECT `+messageColumns+` FROM messages m
		WHERE m.customer_id = $1 AND {before} ORDER BY m.created_at DESC, m.id DESC LIMIT {limit}`,
		func(r pgx.CollectableRow) (TimelineEntry, error) {
			m, err := scanMessage(r)
			return TimelineEntry{Kind: KindMessage, At: m.CreatedAt, ConversationID: m.ConversationID, Message: &m, id: m.ID}, err
		})
	if err == nil {
		err = read(KindConversation, "c.created_at", "c.id", `SELECT c.id, c.channel, c.status, c.topic, c.queue_id, c.created_at FROM conversations c
			WHERE c.customer_id = $1 AND {before} ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}`,
			func(r pgx.CollectableRow) (TimelineEntry, error) {
				var c TimelineConversation
				var at time.Time
				err := r.Scan(&c.ID, &c.Channel, &c.Status, &c.Topic, &c.QueueID, &at)
				return TimelineEntry{Kind: KindConversation, At: at.UTC(), ConversationID: c.ID, Conversation: &c, id: c.ID}, err
			})
	}
	if err == nil {
		err = read(KindNote, "n.created_at", "n.id", `SELECT n.id, n.customer_id, COALESCE(n.author_id, 0), n.author_name, n.body, n.created_at
			FROM customer_notes n WHERE n.customer_id = $1 AND {before} ORDER BY n.created_at DESC, n.id DESC LIMIT {limit}`,
			func(r pgx.CollectableRow) (TimelineEntry, error) {
				var n crm.Note
				err := r.Scan(&n.ID, &n.CustomerID, &n.AuthorID, &n.AuthorName, &n.Body, &n.CreatedAt)
				n.CreatedAt = n.CreatedAt.UTC()
				return TimelineEntry{Kind: KindNote, At: n.CreatedAt, Note: &n, id: n.ID}, err
			})
	}
	if err == nil {
		err = read(KindLifecycle, "l.created_at", "l.id", `SELECT l.id, l.from_stage, l.to_stage, l.reason, COALESCE(l.actor_id, 0), l.created_at
			FROM customer_lifecycle_changes l WHERE l.customer_id = $1 AND {before} ORDER BY l.created_at DESC, l.id DESC LIMIT {limit}`,
			func(r pgx.CollectableRow) (TimelineEntry, error) {
				var l TimelineLifecycle
				var id int64
				var at time.Time
				err := r.Scan(&id, &l.From, &l.To, &l.Reason, &l.ActorID, &at)
				return TimelineEntry{Kind: KindLifecycle, At: at.UTC(), Lifecycle: &l, id: id}, err
			})
	}
	if err == nil {
		// One entry per scored answer; its id is the request's, times 16
		// plus the answer's position, so it is unique and stable.
		err = read(KindSurvey, "s.at", "s.id", `SELECT s.id, s.conversation_id, s.kind, s.score, s.comment, s.at FROM (
			SELECT r.id * 16 + row_number() OVER (PARTITION BY r.id ORDER BY a.question) AS id, r.conversation_id, a.kind, a.score, a.comment, a.answered_at AS at
			FROM survey_requests r JOIN survey_answers a ON a.request_id = r.id WHERE r.customer_id = $1) s
			WHERE {before} ORDER BY s.at DESC, s.id DESC LIMIT {limit}`,
			func(r pgx.CollectableRow) (TimelineEntry, error) {
				var sv TimelineSurvey
				var id, conv int64
				var at time.Time
				err := r.Scan(&id, &conv, &sv.Kind, &sv.Score, &sv.Comment, &at)
				return TimelineEntry{Kind: KindSurvey, At: at.UTC(), ConversationID: conv, Survey: &sv, id: id}, err
			})
	}
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(a, b TimelineEntry) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(kindRank[b.Kind], kindRank[a.Kind]), cmp.Compare(b.id, a.id))
	})
	next := ""
	if len(all) > limit {
		all = all[:limit]
		next = all[limit-1].cursor()
	}
	if all == nil {
		all = []TimelineEntry{}
	}
	return all, next, nil
}
