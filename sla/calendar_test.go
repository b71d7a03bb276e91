package sla

import (
	"os"
	"testing"
	"time"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func sh(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// officeHours is Mon–Fri 09:00–12:00 and 13:00–18:00 (8 h a day) in
// Shanghai, with mainland China's 2026 holidays.
func officeHours(t *testing.T) *Hours {
	t.Helper()
	data, err := os.ReadFile("testdata/cn-2026.json")
	if err != nil {
		t.Fatal(err)
	}
	days, err := ParseDays(data)
	if err != nil {
		t.Fatal(err)
	}
	day := []Interval{{"09:00", "12:00"}, {"13:00", "18:00"}}
	c := Calendar{Name: "Shanghai office", TimeZone: "Asia/Shanghai", Days: days,
		Weekly: map[string][]Interval{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}
	h, err := c.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBusinessHoursAddAcrossWeekendHolidayAndMakeUpDay(t *testing.T) {
	h := officeHours(t)
	for _, tc := range []struct {
		name  string
		from  string
		add   time.Duration
		want  string
		check time.Duration // business time between from and want
	}{
		{"within a morning", "2026-01-12 09:30", time.Hour, "2026-01-12 10:30", time.Hour},
		{"over lunch", "2026-01-12 11:30", time.Hour, "2026-01-12 13:30", time.Hour},
		{"to the end of the day exactly", "2026-01-12 17:00", time.Hour, "2026-01-12 18:00", time.Hour},
		{"Friday evening over the weekend", "2026-01-09 17:00", 2 * time.Hour, "2026-01-12 10:00", 2 * time.Hour},
		{"from Saturday", "2026-01-10 10:00", time.Hour, "2026-01-12 10:00", time.Hour},
		{"before opening", "2026-01-12 07:00", 30 * time.Minute, "2026-01-12 09:30", 30 * time.Minute},
		{"New Year holiday to the Sunday make-up day", "2025-12-31 17:00", 2 * time.Hour, "2026-01-04 10:00", 2 * time.Hour},
		{"Spring Festival: Saturday make-up day, nine days off", "2026-02-13 17:00", 10 * time.Hour, "2026-02-24 10:00", 10 * time.Hour},
		{"four days of work over National Day", "2026-09-30 09:00", 32 * time.Hour, "2026-10-10 18:00", 32 * time.Hour},
		{"nothing to add", "2026-01-10 10:00", 0, "2026-01-10 10:00", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.Add(sh(tc.from), tc.add)
			if !got.Equal(sh(tc.want)) {
				t.Fatalf("%s + %v = %v; want %s", tc.from, tc.add, got.In(shanghai), tc.want)
			}
			if b := h.Between(sh(tc.from), got); b != tc.check {
				t.Fatalf("business time %s → %s = %v; want %v", tc.from, tc.want, b, tc.check)
			}
		})
	}
}

func TestSampleHolidaysFallOnTheStatedWeekdays(t *testing.T) {
	h := officeHours(t)
	for _, tc := range []struct {
		day  string
		wd   time.Weekday
		open bool
	}{
		{"2026-01-01", time.Thursday, false}, {"2026-01-04", time.Sunday, true},
		{"2026-02-14", time.Saturday, true}, {"2026-02-23", time.Monday, false}, {"2026-02-28", time.Saturday, true},
		{"2026-04-06", time.Monday, false}, {"2026-05-05", time.Tuesday, false}, {"2026-05-09", time.Saturday, true},
		{"2026-06-19", time.Friday, false}, {"2026-09-20", time.Sunday, true}, {"2026-09-25", time.Friday, false},
		{"2026-10-07", time.Wednesday, false}, {"2026-10-10", time.Saturday, true}, {"2026-10-08", time.Thursday, true},
	} {
		at := sh(tc.day + " 10:00")
		if at.Weekday() != tc.wd || h.Open(at) != tc.open {
			t.Errorf("%s: %v open=%v; want %v open=%v", tc.day, at.Weekday(), h.Open(at), tc.wd, tc.open)
		}
	}
}

func TestNilHoursIsWallClockAndDSTDaysAreShort(t *testing.T) {
	var always *Hours
	a := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	if got := always.Add(a, 36*time.Hour); !got.Equal(a.Add(36 * time.Hour)) {
		t.Fatalf("24/7 add = %v", got)
	}
	all := []Interval{{"00:00", "24:00"}}
	h, err := Calendar{Name: "NY", TimeZone: "America/New_York", Weekly: map[string][]Interval{"sun": all}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	day := time.Date(2026, 3, 8, 0, 0, 0, 0, ny) // clocks spring forward at 02:00
	if got := h.Between(day, day.Add(48*time.Hour)); got != 23*time.Hour {
		t.Fatalf("business time of the DST Sunday = %v; want 23h", got)
	}
}

func TestCalendarValidation(t *testing.T) {
	for _, c := range []Calendar{
		{Name: "x", TimeZone: "Mars/Olympus", Weekly: map[string][]Interval{"mon": {{"09:00", "17:00"}}}},
		{Name: "x", TimeZone: "UTC"},
		{Name: "x", TimeZone: "UTC", Weekly: map[string][]Interval{"mon": {{"17:00", "09:00"}}}},
		{Name: "x", TimeZone: "UTC", Weekly: map[string][]Interval{"mon": {{"09:00", "13:00"}, {"12:00", "17:00"}}}},
		{Name: "x", TimeZone: "UTC", Weekly: map[string][]Interval{"mon": {{"09:00", "17:00"}}}, Days: []Day{{Date: "2026-13-01", Kind: DayHoliday}}},
		{Name: "x", TimeZone: "UTC", Weekly: map[string][]Interval{"funday": {{"09:00", "17:00"}}}},
	} {
		if _, err := c.Compile(); err == nil {
			t.Errorf("calendar %+v compiled; want an error", c)
		}
	}
}

func TestParseDaysAcceptsPlainDatesAndObjects(t *testing.T) {
	days, err := ParseDays([]byte(`["2026-01-01", {"date": "2026-01-04", "kind": "workday"}]`))
	if err != nil || len(days) != 2 || days[0].Kind != DayHoliday || days[1].Kind != DayWorkday {
		t.Fatalf("got %+v, %v", days, err)
	}
	merged := MergeDays([]Day{{Date: "2026-01-04", Kind: DayHoliday}, {Date: "2025-12-25", Kind: DayHoliday}}, days)
	if len(merged) != 3 || merged[0].Date != "2025-12-25" || merged[2].Kind != DayWorkday {
		t.Fatalf("merged %+v", merged)
	}
}
