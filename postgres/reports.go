package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

// Reports: every figure is computed from recorded rows (conversations,
// offers, the agents' presence history), with the exact definitions of
// ROUTING.md. The population of each figure is stated in its definition.

// ReportFilter selects what a report covers. From is inclusive, To exclusive.
type ReportFilter struct {
	From, To time.Time
	QueueID  int64
	AgentID  int64
	// TeamID keeps the work of the team's members (like AgentID for
	// several agents: abandons, which belong to no agent, drop out).
	TeamID  int64
	Channel parley.Channel
	// Tag keeps conversations carrying this tag (stored form, see
	// parley.NormalizeTag); SegmentID those whose customer is, now, a
	// member of the CRM segment.
	Tag       string
	SegmentID int64
	// Group splits the range into "hour" or "day" buckets ("" none) in Loc.
	Group string
	Loc   *time.Location
}

// MaxReportRange bounds a report's time range.
const MaxReportRange = 93 * 24 * time.Hour

// Validate checks the filter.
func (f ReportFilter) Validate() error {
	fields := map[string]string{}
	if f.From.IsZero() || f.To.IsZero() || !f.To.After(f.From) {
		fields["from"] = "from and to are required, RFC 3339, from before to"
	} else if f.To.Sub(f.From) > MaxReportRange {
		fields["to"] = "at most 93 days"
	}
	if f.Group != "" && f.Group != "hour" && f.Group != "day" {
		fields["group"] = "hour or day"
	}
	if f.Channel != "" && !f.Channel.Valid() {
		fields["channel"] = "unknown channel"
	}
	if f.Tag != "" {
		if tag, err := parley.NormalizeTag(f.Tag); err != nil || tag != f.Tag {
			fields["tag"] = "a conversation tag: lower case letters, digits, '-', '_', '.' or ':'"
		}
	}
	if f.SegmentID < 0 {
		fields["segment_id"] = "an id"
	}
	if f.Group == "hour" && f.To.Sub(f.From) > 8*24*time.Hour {
		fields["group"] = "hourly series cover at most 8 days"
	}
	if len(fields) > 0 {
		return parley.Invalid("Invalid report filter.", fields)
	}
	return nil
}

// ReportConv is a conversation as reports see it: its last queue entry.
type ReportConv struct {
	ID, CustomerID, QueueID, AgentID int64
	Channel                          parley.Channel
	Status                           parley.ConversationStatus
	EnqueuedAt, AssignedAt, EndedAt  time.Time // EndedAt: resolved or abandoned (zero while open)
	WrapUpS, TargetS, ShortAbandonS  int
	Repeat                           bool // a new conversation of the customer within 7 days of resolution (not a feedback follow-up), or a reopen
}

// ReportOffer is one offer.
type ReportOffer struct {
	QueueID, AgentID int64
	Channel          parley.Channel
	State            parley.OfferState
	CreatedAt        time.Time
}

// ReportData is what a report is computed from.
type ReportData struct {
	Now time.Time
	// Entered: conversations whose (last) queue entry is in the range.
	Entered []ReportConv
	// Handling: assigned conversations whose handling (assignment to end
	// of wrap-up) overlaps the range, of any queue (occupancy).
	Handling []ReportConv
	Offers   []ReportOffer
	// Presence: each agent's presence changes in the range, preceded by
	// the last change before it.
	Presence map[int64][]PresenceEntry
	// Capacity: each agent's slots per media now.
	Capacity map[int64]map[parley.Media]int
	// HistorySince is the first recorded presence change (zero: none).
	HistorySince time.Time
	// Targets are the queues' service-level targets and short-abandon thresholds.
	Queues map[int64]parley.Queue
	// SLA: clocks that were met (stopped in time) or breached in the range.
	SLA []ReportClock
	// Surveys: answers given in the range; HasSurveys is false while the
	// survey tables do not exist.
	Surveys    []ReportAnswer
	HasSurveys bool
}

// ReportAnswer is one survey answer with a score.
type ReportAnswer struct {
	Kind  string // csat (1–5), nps (0–10), ces (1–7)
	Score int
	At    time.Time
}

// ReportClock is an SLA clock's result: met at its stop, or breached at its due time.
type ReportClock struct {
	Kind string
	Met  bool
	At   time.Time
}

// ReportData loads the rows a report over f needs.
func (db *DB) ReportData(ctx context.Context, f ReportFilter) (ReportData, error) {
	d := ReportData{Now: db.now().UTC(), Presence: map[int64][]PresenceEntry{}, Capacity: map[int64]map[parley.Media]int{}, Queues: map[int64]parley.Queue{}}
	queues, err := db.Queues(ctx)
	if err != nil {
		return d, err
	}
	for _, q := range queues {
		d.Queues[q.ID] = q
	}
	const cols = `c.id, c.customer_id, c.queue_id, COALESCE(c.agent_id, 0), c.channel, c.status, c.enqueued_at,
		COALESCE(c.assigned_at, 'epoch'), COALESCE(c.resolved_at, 'epoch'), q.wrap_up_s, (q.service_level->>'seconds')::int, q.short_abandon_s,
		c.status = 'resolved' AND (EXISTS (SELECT 1 FROM conversations n WHERE n.customer_id = c.customer_id AND n.id <> c.id
			AND n.created_at > c.resolved_at AND n.created_at <= c.resolved_at + interval '7 days'
			AND NOT n.meta ? 'feedback_id') -- a feedback follow-up task is our call back, not the customer's repeat contact
			OR EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id AND e.type = 'conversation.reopened'))`
	scan := func(sql string, args ...any) ([]ReportConv, error) {
		rows, err := db.pool.Query(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("report conversations: %w", err)
		}
		defer rows.Close()
		var out []ReportConv
		for rows.Next() {
			var c ReportConv
			var ch, st string
			if err := rows.Scan(&c.ID, &c.CustomerID, &c.QueueID, &c.AgentID, &ch, &st, &c.EnqueuedAt, &c.AssignedAt, &c.EndedAt,
				&c.WrapUpS, &c.TargetS, &c.ShortAbandonS, &c.Repeat); err != nil {
				return nil, err
			}
			c.Channel, c.Status = parley.Channel(ch), parley.ConversationStatus(st)
			c.EnqueuedAt, c.AssignedAt, c.EndedAt = zeroEpoch(c.EnqueuedAt), zeroEpoch(c.AssignedAt), zeroEpoch(c.EndedAt)
			if c.Status == parley.StatusQueued || c.Status == parley.StatusAssigned {
				c.EndedAt = time.Time{}
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	scope, args, err := db.reportScope(ctx, f, []any{f.From, f.To, f.QueueID, f.AgentID, string(f.Channel), f.TeamID})
	if err != nil {
		return d, err
	}
	filter := ` AND ($3 = 0 OR c.queue_id = $3) AND ($4 = 0 OR c.agent_id = $4) AND ($5 = '' OR c.channel = $5)` + inTeam("c.agent_id") + scope
	if d.Entered, err = scan(`SELECT `+cols+` FROM conversations c JOIN queues q ON q.id = c.queue_id
		WHERE c.enqueued_at >= $1 AND c.enqueued_at < $2`+filter+` ORDER BY c.enqueued_at, c.id`, args...); err != nil {
		return d, err
	}
	// Handling overlapping the range, plus everything resolved in it (AHT, FCR).
	if d.Handling, err = scan(`SELECT `+cols+` FROM conversations c JOIN queues q ON q.id = c.queue_id
		WHERE c.assigned_at IS NOT NULL AND c.assigned_at < $2
		AND (c.resolved_at IS NULL OR c.resolved_at + make_interval(secs => q.wrap_up_s) > $1)`+filter+` ORDER BY c.assigned_at, c.id`, args...); err != nil {
		return d, err
	}
	rows, err := db.pool.Query(ctx, `SELECT o.queue_id, o.agent_id, c.channel, o.state, o.created_at FROM offers o JOIN conversations c ON c.id = o.conversation_id
		WHERE o.created_at >= $1 AND o.created_at < $2 AND ($3 = 0 OR o.queue_id = $3) AND ($4 = 0 OR o.agent_id = $4) AND ($5 = '' OR c.channel = $5)`+
		inTeam("o.agent_id")+scope+` ORDER BY o.created_at`, args...)
	if err != nil {
		return d, fmt.Errorf("report offers: %w", err)
	}
	for rows.Next() {
		var o ReportOffer
		var ch, st string
		if err := rows.Scan(&o.QueueID, &o.AgentID, &ch, &st, &o.CreatedAt); err != nil {
			rows.Close()
			return d, err
		}
		o.Channel, o.State, o.CreatedAt = parley.Channel(ch), parley.OfferState(st), o.CreatedAt.UTC()
		d.Offers = append(d.Offers, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	var first *time.Time
	if err := db.pool.QueryRow(ctx, `SELECT min(at) FROM agent_presence_log`).Scan(&first); err != nil {
		return d, fmt.Errorf("presence history start: %w", err)
	}
	d.HistorySince = nullTime(first)
	rows, err = db.pool.Query(ctx, `SELECT l.agent_id, l.status, l.reason, COALESCE(l.set_by, 0), l.at FROM agent_presence_log l
		WHERE ($3 = 0 OR l.agent_id = $3) AND ($4 = 0 OR l.agent_id IN (SELECT agent_id FROM team_members WHERE team_id = $4))
		AND l.at < $2 AND (l.at >= $1 OR l.id = (SELECT p.id FROM agent_presence_log p
			WHERE p.agent_id = l.agent_id AND p.at < $1 ORDER BY p.at DESC, p.id DESC LIMIT 1))
		ORDER BY l.agent_id, l.at, l.id`, f.From, f.To, f.AgentID, f.TeamID)
	if err != nil {
		return d, fmt.Errorf("report presence: %w", err)
	}
	for rows.Next() {
		var e PresenceEntry
		var st string
		if err := rows.Scan(&e.AgentID, &st, &e.Reason, &e.SetBy, &e.At); err != nil {
			rows.Close()
			return d, err
		}
		e.Status, e.At = parley.Presence(st), e.At.UTC()
		d.Presence[e.AgentID] = append(d.Presence[e.AgentID], e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	agents, err := db.Agents(ctx)
	if err != nil {
		return d, err
	}
	for _, a := range agents {
		d.Capacity[a.ID] = a.Capacity
	}
	rows, err = db.pool.Query(ctx, `SELECT k.kind, k.outcome = 'met', CASE WHEN k.outcome = 'met' THEN k.stopped_at ELSE k.breached_at END
		FROM sla_clocks k JOIN conversations c ON c.id = k.conversation_id
		WHERE ((k.outcome = 'met' AND k.stopped_at >= $1 AND k.stopped_at < $2) OR (k.breached_at >= $1 AND k.breached_at < $2))
		AND ($3 = 0 OR c.queue_id = $3) AND ($4 = 0 OR c.agent_id = $4) AND ($5 = '' OR c.channel = $5)`+inTeam("c.agent_id")+scope, args...)
	if err != nil {
		return d, fmt.Errorf("report sla clocks: %w", err)
	}
	for rows.Next() {
		var k ReportClock
		if err := rows.Scan(&k.Kind, &k.Met, &k.At); err != nil {
			rows.Close()
			return d, err
		}
		k.At = k.At.UTC()
		d.SLA = append(d.SLA, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('survey_answers') IS NOT NULL AND to_regclass('survey_requests') IS NOT NULL`).Scan(&d.HasSurveys); err != nil {
		return d, fmt.Errorf("survey tables: %w", err)
	}
	if !d.HasSurveys {
		return d, nil
	}
	rows, err = db.pool.Query(ctx, `SELECT a.kind, a.score, a.answered_at FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
		WHERE a.score IS NOT NULL AND a.kind IN ('csat', 'nps', 'ces') AND a.answered_at >= $1 AND a.answered_at < $2
		AND ($3 = 0 OR r.queue_id = $3) AND ($4 = 0 OR r.agent_id = $4 OR $4 = ANY (r.agent_ids)) AND ($5 = '' OR r.channel = $5)
		AND ($6 = 0 OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = $6 AND (tm.agent_id = r.agent_id OR tm.agent_id = ANY (r.agent_ids))))`+
		surveyScope(scope), args...)
	if err != nil {
		return d, fmt.Errorf("report survey answers: %w", err)
	}
	for rows.Next() {
		var a ReportAnswer
		if err := rows.Scan(&a.Kind, &a.Score, &a.At); err != nil {
			rows.Close()
			return d, err
		}
		a.At = a.At.UTC()
		d.Surveys = append(d.Surveys, a)
	}
	rows.Close()
	return d, rows.Err()
}

func zeroEpoch(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t.UTC()
}

// Figure is one KPI with how it was computed. Value is null when the
// figure has no denominator or cannot be computed (Note says why).
type Figure struct {
	Value      *float64       `json:"value"`
	Unit       string         `json:"unit"`
	Definition string         `json:"definition,omitempty"`
	Counts     map[string]int `json:"counts,omitempty"`
	// Seconds holds the sums behind averages and ratios, in seconds.
	Seconds map[string]float64 `json:"seconds,omitempty"`
	Extra   map[string]any     `json:"extra,omitempty"`
	Note    string             `json:"note,omitempty"`
}

// Figures is a report over one time range.
type Figures struct {
	From            time.Time `json:"from"`
	To              time.Time `json:"to"`
	ServiceLevel    Figure    `json:"service_level"`
	ASA             Figure    `json:"asa"`
	AHT             Figure    `json:"aht"`
	AbandonRate     Figure    `json:"abandon_rate"`
	Occupancy       Figure    `json:"occupancy"`
	SlotUtilisation Figure    `json:"slot_utilisation"`
	OfferAcceptance Figure    `json:"offer_acceptance"`
	FCR             Figure    `json:"fcr"`
	SLAMet          Figure    `json:"sla_met"`
	CSAT            Figure    `json:"csat"`
	NPS             Figure    `json:"nps"`
	CES             Figure    `json:"ces"`
}

// Report is a summary and, when grouped, its series.
type Report struct {
	Filter  map[string]any `json:"filter"`
	Summary Figures        `json:"summary"`
	Series  []Figures      `json:"series,omitempty"`
}

// Definitions of the figures (ROUTING.md), stored with every figure.
const (
	DefServiceLevel = "answered within Y s ÷ (answered + abandoned after Y s) × 100, Y the queue's service-level seconds; abandons shorter than the queue's short-abandon threshold excluded; population: queue entries (a conversation's last entry into a queue) that entered in the range"
	DefASA          = "Σ wait of answered (enqueue → accept) ÷ answered, in seconds; population: queue entries that entered in the range"
	DefAHT          = "Σ (active time assignment → resolution + hold + the queue's wrap-up) ÷ handled, in seconds; hold is not recorded separately (counts as active); handled: assigned conversations resolved in the range"
	DefAbandonRate  = "abandoned in queue ÷ (entered queue − short abandons) × 100; short abandons: abandoned before the queue's short-abandon threshold; population: queue entries that entered in the range"
	DefOccupancy    = "handling time ÷ (handling time + available idle time) × 100; handling: time logged in (available or away) with at least one assigned conversation or wrap-up; available idle: presence available with nothing assigned; not-ready (away) and offline time without work excluded; from the agents' presence history"
	DefSlots        = "busy slot-seconds ÷ capacity slot-seconds × 100, per media; busy: Σ per conversation of assignment → end of wrap-up; capacity: the agent's slots (as configured now) × time available or handling"
	DefAcceptance   = "accepted ÷ offers × 100; offers created in the range that have ended or are pending, counted by outcome"
	DefFCR          = "resolved conversations with no new conversation of the same customer within 7 days of resolution (feedback follow-up tasks do not count) and never reopened ÷ resolved conversations × 100; resolved in the range (those resolved less than 7 days ago are provisional)"
	DefSLAMet       = "SLA clocks met ÷ (met + breached) × 100; met: stopped in time in the range; breached: due time passed in the range (running or stopped); canceled and replaced clocks excluded; counts per clock kind"
	DefCSAT         = "share of 4–5 ratings on a 1–5 scale × 100; survey answers given in the range (filters: the survey request's queue, agents and channel)"
	DefNPS          = "% promoters (9–10) − % detractors (0–6)"
	DefCES          = "mean of a 1–7 effort scale"
)

func pct(num, den float64) *float64 {
	if den <= 0 {
		return nil
	}
	v := num * 100 / den
	return &v
}

func ratio(num, den float64) *float64 {
	if den <= 0 {
		return nil
	}
	v := num / den
	return &v
}

func inRange(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

// inTeam is the filter "col is a member of team $6 (0: any)".
func inTeam(col string) string {
	return ` AND ($6 = 0 OR ` + col + ` IN (SELECT agent_id FROM team_members WHERE team_id = $6))`
}

// reportScope narrows a report's conversations c to f's tag and segment:
// conditions to append to a query taking args, and args with theirs
// appended. A segment's membership is the CRM's own (filterSQL), evaluated
// now: the customers in the segment today, with all their conversations of
// the range.
func (db *DB) reportScope(ctx context.Context, f ReportFilter, args []any) (string, []any, error) {
	scope := ""
	if f.Tag != "" {
		args = append(args, f.Tag)
		scope += fmt.Sprintf(" AND $%d = ANY (c.tags)", len(args))
	}
	if f.SegmentID != 0 {
		seg, err := db.Segment(ctx, f.SegmentID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return "", nil, parley.Invalid("Invalid report filter.", map[string]string{"segment_id": "no such segment"})
		} else if err != nil {
			return "", nil, err
		}
		// The subquery's c is the customer; the outer c the conversation.
		scope += " AND c.customer_id IN (SELECT c.id FROM customers c WHERE " + filterSQL(seg.Filter, &args) + ")"
	}
	return scope, args, nil
}

// surveyScope applies a report scope to survey requests r through their conversation.
func surveyScope(scope string) string {
	if scope == "" {
		return ""
	}
	return " AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = r.conversation_id" + scope + ")"
}

// ComputeReport computes the summary (and series when f.Group is set).
func ComputeReport(d ReportData, f ReportFilter) Report {
	r := Report{Filter: map[string]any{"from": f.From.UTC(), "to": f.To.UTC(), "group": f.Group}}
	if f.QueueID != 0 {
		r.Filter["queue_id"] = fmt.Sprint(f.QueueID)
	}
	if f.AgentID != 0 {
		r.Filter["agent_id"] = fmt.Sprint(f.AgentID)
	}
	if f.TeamID != 0 {
		r.Filter["team_id"] = fmt.Sprint(f.TeamID)
	}
	if f.Channel != "" {
		r.Filter["channel"] = f.Channel
	}
	if f.Tag != "" {
		r.Filter["tag"] = f.Tag
	}
	if f.SegmentID != 0 {
		r.Filter["segment_id"] = fmt.Sprint(f.SegmentID)
	}
	r.Summary = computeFigures(d, f, f.From, f.To)
	if f.Group != "" {
		loc := f.Loc
		if loc == nil {
			loc = time.UTC
		}
		for _, b := range Buckets(f.From, f.To, f.Group, loc) {
			r.Series = append(r.Series, computeFigures(d, f, b[0], b[1]).withoutDefinitions())
		}
	}
	return r
}

// Buckets splits [from, to) at hour or day boundaries of loc.
func Buckets(from, to time.Time, group string, loc *time.Location) [][2]time.Time {
	var out [][2]time.Time
	start := from.In(loc)
	for start.Before(to) {
		y, m, dd := start.Date()
		next := time.Date(y, m, dd+1, 0, 0, 0, 0, loc)
		if group == "hour" {
			next = time.Date(y, m, dd, start.Hour()+1, 0, 0, 0, loc)
		}
		if next.After(to) {
			next = to
		}
		out = append(out, [2]time.Time{start.UTC(), next.UTC()})
		start = next.In(loc)
	}
	return out
}

func computeFigures(d ReportData, f ReportFilter, from, to time.Time) Figures {
	out := Figures{From: from.UTC(), To: to.UTC()}

	// Queue entries: service level, ASA, abandon rate.
	var answered, within, abandoned, short, abandonedLate, entered int
	var wait float64
	thresholds := map[string]map[string]int{}
	for _, c := range d.Entered {
		if !inRange(c.EnqueuedAt, from, to) {
			continue
		}
		entered++
		thresholds[fmt.Sprint(c.QueueID)] = map[string]int{"seconds": c.TargetS, "short_abandon_s": c.ShortAbandonS}
		switch {
		case !c.AssignedAt.IsZero():
			answered++
			w := c.AssignedAt.Sub(c.EnqueuedAt)
			wait += w.Seconds()
			if w <= time.Duration(c.TargetS)*time.Second {
				within++
			}
		case c.Status == parley.StatusAbandoned:
			w := c.EndedAt.Sub(c.EnqueuedAt)
			if w < time.Duration(c.ShortAbandonS)*time.Second {
				short++
				continue
			}
			abandoned++
			if w > time.Duration(c.TargetS)*time.Second {
				abandonedLate++
			}
		}
	}
	extra := map[string]any{"thresholds": thresholds}
	if f.QueueID != 0 {
		if q, ok := d.Queues[f.QueueID]; ok {
			extra["target"] = q.ServiceLevel
			extra["short_abandon_s"] = q.ShortAbandonS
		}
	}
	out.ServiceLevel = Figure{Value: pct(float64(within), float64(answered+abandonedLate)), Unit: "percent", Definition: DefServiceLevel,
		Counts: map[string]int{"answered_within": within, "answered": answered, "abandoned_after_target": abandonedLate, "short_abandons": short}, Extra: extra}
	out.ASA = Figure{Value: ratio(wait, float64(answered)), Unit: "seconds", Definition: DefASA,
		Counts: map[string]int{"answered": answered}, Seconds: map[string]float64{"wait": wait}}
	out.AbandonRate = Figure{Value: pct(float64(abandoned), float64(entered-short)), Unit: "percent", Definition: DefAbandonRate,
		Counts: map[string]int{"abandoned": abandoned, "entered": entered, "short_abandons": short}}
	if f.AgentID != 0 || f.TeamID != 0 {
		out.AbandonRate.Value, out.AbandonRate.Note = nil, "abandons belong to no agent: not computed for an agent or a team"
	}

	// Handled conversations: AHT, FCR.
	var handled, resolved, firstContact int
	var handle float64
	for _, c := range d.Handling {
		if c.Status != parley.StatusResolved || !inRange(c.EndedAt, from, to) {
			continue
		}
		handled++
		handle += c.EndedAt.Sub(c.AssignedAt).Seconds() + float64(c.WrapUpS)
		resolved++
		if !c.Repeat {
			firstContact++
		}
	}
	out.AHT = Figure{Value: ratio(handle, float64(handled)), Unit: "seconds", Definition: DefAHT,
		Counts: map[string]int{"handled": handled}, Seconds: map[string]float64{"handle": handle}}
	out.FCR = Figure{Value: pct(float64(firstContact), float64(resolved)), Unit: "percent", Definition: DefFCR,
		Counts: map[string]int{"resolved": resolved, "no_repeat_within_7_days": firstContact}}

	out.Occupancy, out.SlotUtilisation = occupancy(d, f, from, to)

	// Offers.
	counts := map[string]int{"offers": 0}
	for _, s := range []parley.OfferState{parley.OfferAccepted, parley.OfferRejected, parley.OfferTimeout, parley.OfferCanceled, parley.OfferRescinded, parley.OfferPending} {
		counts[string(s)] = 0
	}
	for _, o := range d.Offers {
		if inRange(o.CreatedAt, from, to) {
			counts["offers"]++
			counts[string(o.State)]++
		}
	}
	out.OfferAcceptance = Figure{Value: pct(float64(counts["accepted"]), float64(counts["offers"])), Unit: "percent", Definition: DefAcceptance, Counts: counts}

	sla := map[string]int{"met": 0, "breached": 0}
	for _, k := range d.SLA {
		if !inRange(k.At, from, to) {
			continue
		}
		res := "breached"
		if k.Met {
			res = "met"
		}
		sla[res]++
		sla[k.Kind+"_"+res]++
	}
	out.SLAMet = Figure{Value: pct(float64(sla["met"]), float64(sla["met"]+sla["breached"])), Unit: "percent", Definition: DefSLAMet, Counts: sla}
	out.CSAT = Figure{Unit: "percent", Definition: DefCSAT}
	out.NPS = Figure{Unit: "points", Definition: DefNPS}
	out.CES = Figure{Unit: "score", Definition: DefCES}
	if !d.HasSurveys {
		out.CSAT.Note, out.NPS.Note, out.CES.Note = "no survey responses are recorded yet", "no survey responses are recorded yet", "no survey responses are recorded yet"
		return out
	}
	sc := map[string]int{}
	var cesSum float64
	for _, a := range d.Surveys {
		if !inRange(a.At, from, to) {
			continue
		}
		switch a.Kind {
		case "csat":
			sc["csat_answers"]++
			if a.Score >= 4 {
				sc["csat_satisfied"]++
			}
		case "nps":
			sc["nps_answers"]++
			if a.Score >= 9 {
				sc["promoters"]++
			} else if a.Score <= 6 {
				sc["detractors"]++
			}
		case "ces":
			sc["ces_answers"]++
			cesSum += float64(a.Score)
		}
	}
	out.CSAT.Value = pct(float64(sc["csat_satisfied"]), float64(sc["csat_answers"]))
	out.CSAT.Counts = map[string]int{"answers": sc["csat_answers"], "satisfied": sc["csat_satisfied"]}
	if n := sc["nps_answers"]; n > 0 {
		v := float64(sc["promoters"]-sc["detractors"]) * 100 / float64(n)
		out.NPS.Value = &v
	}
	out.NPS.Counts = map[string]int{"answers": sc["nps_answers"], "promoters": sc["promoters"], "detractors": sc["detractors"]}
	out.CES.Value = ratio(cesSum, float64(sc["ces_answers"]))
	out.CES.Counts = map[string]int{"answers": sc["ces_answers"]}
	return out
}

// withoutDefinitions blanks the definitions (the summary carries them;
// series buckets would repeat them).
func (x Figures) withoutDefinitions() Figures {
	for _, f := range []*Figure{&x.ServiceLevel, &x.ASA, &x.AHT, &x.AbandonRate, &x.Occupancy, &x.SlotUtilisation, &x.OfferAcceptance, &x.FCR, &x.SLAMet, &x.CSAT, &x.NPS, &x.CES} {
		f.Definition = ""
	}
	return x
}

type span struct{ a, b time.Time }

// clip returns s ∩ [from, to), ok false when empty.
func clip(s span, from, to time.Time) (span, bool) {
	if s.a.Before(from) {
		s.a = from
	}
	if s.b.After(to) {
		s.b = to
	}
	return s, s.b.After(s.a)
}

// union merges spans into disjoint, sorted spans.
func union(ss []span) []span {
	sort.Slice(ss, func(i, j int) bool { return ss[i].a.Before(ss[j].a) })
	var out []span
	for _, s := range ss {
		if n := len(out); n > 0 && !s.a.After(out[n-1].b) {
			if s.b.After(out[n-1].b) {
				out[n-1].b = s.b
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// intersect returns the intersection of two disjoint sorted span lists.
func intersect(x, y []span) []span {
	var out []span
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		a, b := x[i].a, x[i].b
		if y[j].a.After(a) {
			a = y[j].a
		}
		if y[j].b.Before(b) {
			b = y[j].b
		}
		if b.After(a) {
			out = append(out, span{a, b})
		}
		if x[i].b.Before(y[j].b) {
			i++
		} else {
			j++
		}
	}
	return out
}

func length(ss []span) time.Duration {
	var t time.Duration
	for _, s := range ss {
		t += s.b.Sub(s.a)
	}
	return t
}

func occupancy(d ReportData, f ReportFilter, from, to time.Time) (Figure, Figure) {
	occ := Figure{Unit: "percent", Definition: DefOccupancy}
	slots := Figure{Unit: "percent", Definition: DefSlots}
	if f.QueueID != 0 || f.Channel != "" || f.Tag != "" || f.SegmentID != 0 {
		occ.Note = "agents' time is not attributable to one queue, channel, tag or segment: filter by agent, team or time only"
		slots.Note = occ.Note
		return occ, slots
	}
	if to.After(d.Now) {
		to = d.Now
	}
	if d.HistorySince.IsZero() || !d.HistorySince.Before(to) {
		occ.Note = "no presence history is recorded for this range (recording started " + fmtTime(d.HistorySince) + ")"
		slots.Note = occ.Note
		return occ, slots
	}
	if !to.After(from) {
		occ.Note = "the range has not started"
		slots.Note = occ.Note
		return occ, slots
	}
	work := map[int64][]ReportConv{}
	for _, c := range d.Handling {
		work[c.AgentID] = append(work[c.AgentID], c)
	}
	var handling, idle time.Duration
	busySlots, capSlots := map[parley.Media]float64{}, map[parley.Media]float64{}
	agents := 0
	for agent, log := range d.Presence {
		if f.AgentID != 0 && agent != f.AgentID {
			continue
		}
		agents++
		var avail, in []span
		for i, e := range log {
			end := to
			if i+1 < len(log) {
				end = log[i+1].At
			}
			s, ok := clip(span{e.At, end}, from, to)
			if !ok || e.Status == parley.PresenceOffline {
				continue
			}
			in = append(in, s)
			if e.Status == parley.PresenceAvailable {
				avail = append(avail, s)
			}
		}
		avail, in = union(avail), union(in)
		// Work counts while logged in (available or away), never offline.
		var busy []span
		perMedia := map[parley.Media]float64{}
		for _, c := range work[agent] {
			end := to
			if !c.EndedAt.IsZero() {
				end = c.EndedAt.Add(time.Duration(c.WrapUpS) * time.Second)
			}
			if s, ok := clip(span{c.AssignedAt, end}, from, to); ok {
				part := intersect([]span{s}, in)
				busy = append(busy, part...)
				perMedia[c.Channel.Media()] += length(part).Seconds()
			}
		}
		busy = union(busy)
		handling += length(busy)
		idle += length(avail) - length(intersect(avail, busy))
		staffed := length(union(append(append([]span{}, avail...), busy...))).Seconds()
		for _, m := range parley.AllMedia {
			if n := d.Capacity[agent][m]; n > 0 {
				capSlots[m] += staffed * float64(n)
				busySlots[m] += perMedia[m]
			}
		}
	}
	occ.Value = pct(handling.Seconds(), (handling + idle).Seconds())
	occ.Seconds = map[string]float64{"handling": handling.Seconds(), "available_idle": idle.Seconds()}
	occ.Counts = map[string]int{"agents": agents}
	occ.Extra = map[string]any{"history_since": d.HistorySince}
	var b, c float64
	byMedia := map[string]any{}
	for _, m := range parley.AllMedia {
		b += busySlots[m]
		c += capSlots[m]
		if capSlots[m] > 0 {
			byMedia[string(m)] = *pct(busySlots[m], capSlots[m])
		}
	}
	slots.Value = pct(b, c)
	slots.Seconds = map[string]float64{"busy_slot_seconds": b, "capacity_slot_seconds": c}
	slots.Extra = map[string]any{"by_media": byMedia}
	if occ.Value == nil {
		occ.Note = "no handling or available time in the range"
	}
	return occ, slots
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// QueueDay holds a queue's figures since the start of the day.
type QueueDay struct {
	Entered, Answered, InTarget, Abandoned, ShortAbandons, AbandonedLate int
}

// ServiceLevel is ROUTING.md's service level, or nil without a denominator.
func (q QueueDay) ServiceLevel() *float64 {
	return pct(float64(q.InTarget), float64(q.Answered+q.AbandonedLate))
}

// AbandonRate is ROUTING.md's abandon rate, or nil.
func (q QueueDay) AbandonRate() *float64 {
	return pct(float64(q.Abandoned), float64(q.Entered-q.ShortAbandons))
}

// QueueDays returns per queue the figures of queue entries since since
// (same definitions as the report), in one query.
func (db *DB) QueueDays(ctx context.Context, since time.Time) (map[int64]QueueDay, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.queue_id,
		count(*),
		count(*) FILTER (WHERE c.assigned_at IS NOT NULL),
		count(*) FILTER (WHERE c.assigned_at IS NOT NULL AND c.assigned_at - c.enqueued_at <= make_interval(secs => (q.service_level->>'seconds')::int)),
		count(*) FILTER (WHERE c.assigned_at IS NULL AND c.status = 'abandoned' AND c.resolved_at - c.enqueued_at >= make_interval(secs => q.short_abandon_s)),
		count(*) FILTER (WHERE c.assigned_at IS NULL AND c.status = 'abandoned' AND c.resolved_at - c.enqueued_at < make_interval(secs => q.short_abandon_s)),
		count(*) FILTER (WHERE c.assigned_at IS NULL AND c.status = 'abandoned' AND c.resolved_at - c.enqueued_at >= make_interval(secs => q.short_abandon_s)
			AND c.resolved_at - c.enqueued_at > make_interval(secs => (q.service_level->>'seconds')::int))
		FROM conversations c JOIN queues q ON q.id = c.queue_id WHERE c.enqueued_at >= $1 GROUP BY c.queue_id`, since)
	if err != nil {
		return nil, fmt.Errorf("queue figures: %w", err)
	}
	defer rows.Close()
	out := map[int64]QueueDay{}
	for rows.Next() {
		var id int64
		var q QueueDay
		if err := rows.Scan(&id, &q.Entered, &q.Answered, &q.InTarget, &q.Abandoned, &q.ShortAbandons, &q.AbandonedLate); err != nil {
			return nil, err
		}
		out[id] = q
	}
	return out, rows.Err()
}

// PendingOffers counts the pending offers of each queue.
func (db *DB) PendingOffers(ctx context.Context) (map[int64]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT queue_id, count(*) FROM offers WHERE state = 'pending' GROUP BY queue_id`)
	if err != nil {
		return nil, fmt.Errorf("pending offers: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Waiting returns up to limit queued conversations, oldest first.
func (db *DB) Waiting(ctx context.Context, limit int) ([]parley.Conversation, error) {
	return db.conversations(ctx, `WHERE c.status = 'queued' ORDER BY c.enqueued_at, c.id LIMIT $1`, limit)
}

// Team is a team of agents.
type Team struct {
	ID   int64  `json:"id,string"`
	Name string `json:"name"`
}

// Teams lists the teams by name.
func (db *DB) Teams(ctx context.Context) ([]Team, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name FROM teams ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Team, error) {
		var t Team
		err := row.Scan(&t.ID, &t.Name)
		return t, err
	})
}
