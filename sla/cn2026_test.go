package sla

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSampleHolidaysMatchTheStatutoryArithmetic checks sla/testdata/cn-2026.json
// against the rules the State Council's notice must follow (it cannot check
// the notice itself): the 13 statutory days of 《全国年节及纪念日放假办法》
// as revised in 2024 (New Year 1, Spring Festival 4 = New Year's Eve to the
// 3rd day, Qingming 1, Labour Day 2, Dragon Boat 1, Mid-Autumn 1, National
// Day 3) fall on their 2026 dates (lunar dates: Spring Festival 17 Feb,
// Dragon Boat 19 Jun, Mid-Autumn 25 Sep; Qingming 5 Apr); each is a
// holiday in the sample; a statutory day on a weekend is made up on a
// weekday; so in every festival's block, the weekdays closed equal the
// statutory days plus the make-up working days.
func TestSampleHolidaysMatchTheStatutoryArithmetic(t *testing.T) {
	data, err := os.ReadFile("testdata/cn-2026.json")
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Days []Day `json:"days"`
	}
	if err := json.Unmarshal(data, &sample); err != nil {
		t.Fatal(err)
	}
	statutory := map[string][]string{
		"元旦":  {"2026-01-01"},
		"春节":  {"2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19"},
		"清明节": {"2026-04-05"},
		"劳动节": {"2026-05-01", "2026-05-02"},
		"端午节": {"2026-06-19"},
		"中秋节": {"2026-09-25"},
		"国庆节": {"2026-10-01", "2026-10-02", "2026-10-03"},
	}
	total := 0
	kinds := map[string]string{}
	for _, d := range sample.Days {
		kinds[d.Date] = d.Kind
	}
	for festival, days := range statutory {
		total += len(days)
		for _, d := range days {
			if kinds[d] != DayHoliday {
				t.Errorf("%s: statutory day %s is %q in the sample; want holiday", festival, d, kinds[d])
			}
		}
		weekdaysClosed, makeUp := 0, 0
		for _, d := range sample.Days {
			if !strings.HasPrefix(d.Name, festival) {
				continue
			}
			day, err := time.Parse(time.DateOnly, d.Date)
			if err != nil {
				t.Fatal(err)
			}
			weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
			switch {
			case d.Kind == DayHoliday && !weekend:
				weekdaysClosed++
			case d.Kind == DayWorkday && weekend:
				makeUp++
			case d.Kind == DayWorkday:
				t.Errorf("%s: make-up working day %s is not a weekend day", festival, d.Date)
			}
		}
		if weekdaysClosed != len(days)+makeUp {
			t.Errorf("%s: %d weekdays closed; want %d statutory + %d make-up days", festival, weekdaysClosed, len(days), makeUp)
		}
	}
	if total != 13 {
		t.Errorf("%d statutory days; want 13", total)
	}
}
