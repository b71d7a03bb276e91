// Package sla holds Parley's service-level agreements: policies chosen by
// the first matching rule, business-hours calendars with holidays and
// make-up working days, and the clocks (first response, next response,
// resolution, voice answer) with the pure arithmetic that drives them. The
// Service applies the events outbox to the clocks stored in PostgreSQL and
// fires warnings and breaches through timers (asynq).
package sla

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // calendars name IANA zones; containers may lack zoneinfo

	"github.com/parleyhq/parley"
)

// Day kinds of a calendar's exceptions.
const (
	// DayHoliday closes a day that would otherwise be worked.
	DayHoliday = "holiday"
	// DayWorkday opens a day that would otherwise be closed (a make-up
	// working day, 调休), with the day's Hours or the calendar's
	// WorkdayHours.
	DayWorkday = "workday"
)

// Interval is a span of working time within a day, "09:00" to "18:00".
// End may be "24:00". Start is inclusive, end exclusive.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Day is an exception to a calendar's weekly hours.
type Day struct {
	// Date is the local date, "2026-10-01".
	Date string `json:"date"`
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	// Hours of a workday (default: the calendar's WorkdayHours).
	Hours []Interval `json:"hours,omitempty"`
}

// Weekdays names the keys of Calendar.Weekly, Sunday first like time.Weekday.
var Weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Calendar is a business-hours calendar: a time zone, working hours per
// weekday, and dated exceptions (holidays, make-up working days).
type Calendar struct {
	ID       int64  `json:"id,string"`
	Name     string `json:"name"`
	TimeZone string `json:"timezone"`
	// Weekly maps "mon".."sun" to the day's working intervals; a missing
	// or empty day is closed.
	Weekly map[string][]Interval `json:"weekly"`
	// WorkdayHours are the hours of a make-up working day that names none
	// (default: Monday's hours).
	WorkdayHours []Interval `json:"workday_hours,omitempty"`
	Days         []Day      `json:"days"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	// DeletedAt is set on a retired calendar (kept for running clocks).
	DeletedAt time.Time `json:"deleted_at,omitzero"`
}

// span is an interval in minutes since local midnight.
type span struct{ start, end int }

// date is a local calendar date.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) next() date {
	return dateOf(time.Date(d.y, d.m, d.d+1, 12, 0, 0, 0, time.UTC))
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// at returns the instant min minutes after the local midnight of d (a
// minute count of 1440 is the next midnight); DST gaps move forward as
// time.Date does.
func (d date) at(min int, loc *time.Location) time.Time {
	return time.Date(d.y, d.m, d.d, min/60, min%60, 0, 0, loc)
}

func parseDate(s string) (date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return date{}, err
	}
	return dateOf(t), nil
}

func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || mm < 0 || mm > 59 || hh < 0 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	v := hh*60 + mm
	if v > 24*60 || (v == 24*60 && !end) {
		return 0, fmt.Errorf("%q is past the end of the day", s)
	}
	return v, nil
}

func compileSpans(in []Interval) ([]span, error) {
	out := make([]span, 0, len(in))
	for _, iv := range in {
		s, err := parseClock(iv.Start, false)
		if err != nil {
			return nil, err
		}
		e, err := parseClock(iv.End, true)
		if err != nil {
			return nil, err
		}
		if e <= s {
			return nil, fmt.Errorf("%s-%s ends before it starts", iv.Start, iv.End)
		}
		out = append(out, span{s, e})
	}
	slices.SortFunc(out, func(a, b span) int { return a.start - b.start })
	for i := 1; i < len(out); i++ {
		if out[i].start < out[i-1].end {
			return nil, fmt.Errorf("intervals overlap")
		}
	}
	return out, nil
}

// Hours is a compiled calendar: what the clock arithmetic runs on. A nil
// *Hours is 24/7.
type Hours struct {
	loc    *time.Location
	weekly [7][]span
	days   map[date][]span // exceptions: nil slice = closed
}

// maxScanDays bounds the search for working time (a calendar that is
// closed for ten years has no deadline).
const maxScanDays = 3660

// Compile validates the calendar and returns its arithmetic.
func (c Calendar) Compile() (*Hours, error) {
	f := map[string]string{}
	h := &Hours{days: map[date][]span{}}
	var err error
	if h.loc, err = time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" || strings.EqualFold(c.TimeZone, "local") {
		f["timezone"] = "must be an IANA time zone such as Asia/Shanghai"
	}
	if strings.TrimSpace(c.Name) == "" {
		f["name"] = "required"
	}
	worked := false
	for k, ivs := range c.Weekly {
		i := slices.Index(Weekdays[:], k)
		if i < 0 {
			f["weekly"] = "keys are mon, tue, wed, thu, fri, sat, sun"
			continue
		}
		sp, err := compileSpans(ivs)
		if err != nil {
			f["weekly."+k] = err.Error()
			continue
		}
		h.weekly[i] = sp
		worked = worked || len(sp) > 0
	}
	if !worked {
		f["weekly"] = "at least one working interval is required"
	}
	workday := h.weekly[time.Monday]
	if len(c.WorkdayHours) > 0 {
		if workday, err = compileSpans(c.WorkdayHours); err != nil {
			f["workday_hours"] = err.Error()
		}
	}
	for i, d := range c.Days {
		key := fmt.Sprintf("days.%d", i)
		dt, err := parseDate(d.Date)
		if err != nil {
			f[key] = "date must be YYYY-MM-DD"
			continue
		}
		switch d.Kind {
		case DayHoliday:
			h.days[dt] = nil
		case DayWorkday:
			sp := workday
			if len(d.Hours) > 0 {
				if sp, err = compileSpans(d.Hours); err != nil {
					f[key] = err.Error()
					continue
				}
			}
			if len(sp) == 0 {
				f[key] = "a workday needs hours (set workday_hours or Monday's hours)"
			}
			h.days[dt] = sp
		default:
			f[key] = "kind must be holiday or workday"
		}
	}
	if len(f) > 0 {
		return nil, parley.Invalid("Invalid calendar.", f)
	}
	return h, nil
}

// MergeDays adds or replaces the calendar's exceptions by date and keeps
// them sorted.
func MergeDays(cur, add []Day) []Day {
	byDate := map[string]Day{}
	for _, d := range cur {
		byDate[d.Date] = d
	}
	for _, d := range add {
		byDate[d.Date] = d
	}
	out := make([]Day, 0, len(byDate))
	for _, d := range byDate {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	return out
}

// ParseDays reads an imported list of dates: a JSON array of Day objects
// or of plain "YYYY-MM-DD" strings (holidays), or an object {"days": [...]}.
func ParseDays(data []byte) ([]Day, error) {
	var wrapped struct {
		Days json.RawMessage `json:"days"`
	}
	if json.Unmarshal(data, &wrapped) == nil && len(wrapped.Days) > 0 {
		data = wrapped.Days
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, parley.Invalid("The import is not a JSON list of dates.", map[string]string{"days": "a list of dates or {date, kind, name}"})
	}
	out := make([]Day, 0, len(raw))
	for _, r := range raw {
		var d Day
		var s string
		if json.Unmarshal(r, &s) == nil {
			d = Day{Date: s, Kind: DayHoliday}
		} else if err := json.Unmarshal(r, &d); err != nil {
			return nil, parley.Invalid("Invalid date in the import.", map[string]string{"days": err.Error()})
		}
		if d.Kind == "" {
			d.Kind = DayHoliday
		}
		out = append(out, d)
	}
	return out, nil
}

// Location returns the calendar's time zone (UTC for 24/7).
func (h *Hours) Location() *time.Location {
	if h == nil {
		return time.UTC
	}
	return h.loc
}

// spans returns the working intervals of a local date.
func (h *Hours) spans(d date) []span {
	if sp, ok := h.days[d]; ok {
		return sp
	}
	return h.weekly[d.weekday()]
}

// Add returns the instant d of business time after t. Adding nothing (or
// less) returns t unchanged. A nil *Hours adds wall-clock time.
func (h *Hours) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	if h == nil {
		return t.Add(d)
	}
	t = t.In(h.loc)
	day := dateOf(t)
	for range maxScanDays {
		for _, sp := range h.spans(day) {
			s, e := day.at(sp.start, h.loc), day.at(sp.end, h.loc)
			if !e.After(t) {
				continue
			}
			if s.Before(t) {
				s = t
			}
			if avail := e.Sub(s); d <= avail {
				return s.Add(d)
			} else {
				d -= avail
			}
		}
		day = day.next()
	}
	return t.Add(100 * 365 * 24 * time.Hour) // never
}

// Between returns the business time in [a, b) (0 when b is not after a).
// A nil *Hours measures wall-clock time.
func (h *Hours) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if h == nil {
		return b.Sub(a)
	}
	a, b = a.In(h.loc), b.In(h.loc)
	var total time.Duration
	last := dateOf(b)
	for day, i := dateOf(a), 0; i < maxScanDays*3; day, i = day.next(), i+1 {
		for _, sp := range h.spans(day) {
			s, e := day.at(sp.start, h.loc), day.at(sp.end, h.loc)
			if s.Before(a) {
				s = a
			}
			if e.After(b) {
				e = b
			}
			if e.After(s) {
				total += e.Sub(s)
			}
		}
		if day == last {
			break
		}
	}
	return total
}

// Open reports whether t is within working hours.
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	t = t.In(h.loc)
	day := dateOf(t)
	for _, sp := range h.spans(day) {
		if !t.Before(day.at(sp.start, h.loc)) && t.Before(day.at(sp.end, h.loc)) {
			return true
		}
	}
	return false
}
