package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfigTileSettings(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@/none?host=/nonexistent")
	tests := []struct {
		cache, maxAge string
		wantMB        int
		wantAge       time.Duration
		wantErr       string
	}{
		{"", "", 256, time.Minute, ""},
		{"0", "5s", 0, 5 * time.Second, ""},
		{"1024", "", 1024, time.Minute, ""},
		{"-1", "", 0, 0, "MUNIGIS_TILE_CACHE_MB"},
		{"lots", "", 0, 0, "MUNIGIS_TILE_CACHE_MB"},
		{"", "0s", 0, 0, "MUNIGIS_TILE_MAX_AGE"},
		{"", "soon", 0, 0, "MUNIGIS_TILE_MAX_AGE"},
	}
	for _, tc := range tests {
		t.Setenv("MUNIGIS_TILE_CACHE_MB", tc.cache)
		t.Setenv("MUNIGIS_TILE_MAX_AGE", tc.maxAge)
		c, err := loadConfig()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("cache %q max-age %q: error %v, want one naming %s", tc.cache, tc.maxAge, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.TileCacheMB != tc.wantMB || c.TileMaxAge != tc.wantAge {
			t.Errorf("cache %q max-age %q: %d MB, %s, %v; want %d MB, %s", tc.cache, tc.maxAge, c.TileCacheMB, c.TileMaxAge, err, tc.wantMB, tc.wantAge)
		}
	}
}

// TestLoadConfigCaseSettings: the file limit, the tracking rate and the
// declared days off and working days reach the calendar that counts
// deadlines; a bad value names its variable.
func TestLoadConfigCaseSettings(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@/none?host=/nonexistent")
	t.Setenv("MUNIGIS_MAX_FILE_MB", "5")
	t.Setenv("MUNIGIS_TRACK_PER_MINUTE", "30")
	// 28 Dec 2026 is a Monday declared off, worked off on Saturday 19 Dec.
	t.Setenv("MUNIGIS_DAYS_OFF", "2026-12-28")
	t.Setenv("MUNIGIS_WORKING_DAYS", "2026-12-19")
	c, err := loadConfig()
	if err != nil || c.MaxFileMB != 5 || c.TrackPerMinute != 30 {
		t.Fatalf("config %+v, %v", c, err)
	}
	cal := c.calendar()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	if cal.IsWorkday(day("2026-12-28")) || !cal.IsWorkday(day("2026-12-19")) || !cal.IsWorkday(day("2026-12-29")) {
		t.Error("the declared days did not reach the calendar")
	}
	for name, bad := range map[string]string{"MUNIGIS_MAX_FILE_MB": "0", "MUNIGIS_TRACK_PER_MINUTE": "many", "MUNIGIS_DAYS_OFF": "28.12.2026"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v, want an error naming it", name, bad, err)
			}
		})
	}
}
