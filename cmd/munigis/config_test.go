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
