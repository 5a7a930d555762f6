package gdalio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"munigis"
	"munigis/internal/pgtest"
	"munigis/layers"
)

// env is a fresh database with the built-in layers and a store on it.
type env struct {
	t     *testing.T
	db    *pgtest.DB
	store *layers.Store
	dir   string
	ctx   context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.New(t)
	return &env{t: t, db: db, store: layers.NewStore(db.Pool), dir: t.TempDir(), ctx: context.Background()}
}

// with returns e for subtest t.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// write creates a file in the test folder and returns its path.
func (e *env) write(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// importFile imports and fails the test on error.
func (e *env) importFile(opt ImportOptions) ImportResult {
	e.t.Helper()
	var out bytes.Buffer
	res, err := Import(e.ctx, e.store, opt, &out)
	if err != nil {
		e.t.Fatalf("import %s: %v\noutput:\n%s", filepath.Base(opt.File), err, out.String())
	}
	return res
}

// importError imports, expects an Invalid *munigis.Error and returns its
// message.
func (e *env) importError(opt ImportOptions) string {
	e.t.Helper()
	var out bytes.Buffer
	_, err := Import(e.ctx, e.store, opt, &out)
	if err == nil {
		e.t.Fatalf("import %s succeeded; want an error\noutput:\n%s", filepath.Base(opt.File), out.String())
	}
	var me *munigis.Error
	if !errors.As(err, &me) || me.Code != munigis.Invalid {
		e.t.Fatalf("import %s: got %T %v; want a munigis.Error with code invalid", filepath.Base(opt.File), err, err)
	}
	e.t.Log(me.Message)
	return me.Message
}

// digest is the count and an md5 of all rows of a feature table, to check
// that a failed import changed nothing.
func (e *env) digest(layer string) string {
	e.t.Helper()
	var n int64
	var sum string
	err := e.db.Pool.QueryRow(e.ctx, fmt.Sprintf(
		`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') FROM features.%s t`, layer)).Scan(&n, &sum)
	if err != nil {
		e.t.Fatal(err)
	}
	var versions int64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT count(*) FROM feature_versions`).Scan(&versions); err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("%d rows, %d versions, md5 %s", n, versions, sum)
}

func (e *env) count(layer string) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT count(*) FROM features.`+layer).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// featureCollection wraps GeoJSON features; crs, when set, is an EPSG code.
func featureCollection(crs int, features ...string) string {
	c := ""
	if crs != 0 {
		c = fmt.Sprintf(`"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::%d"}},`, crs)
	}
	return `{"type": "FeatureCollection", ` + c + ` "features": [` + strings.Join(features, ",\n") + `]}`
}

// square is a GeoJSON polygon: a square of side d (degrees or metres) with
// its first corner at x, y.
func square(x, y, d float64) string {
	return fmt.Sprintf(`{"type": "Polygon", "coordinates": [[[%v, %v], [%v, %v], [%v, %v], [%v, %v], [%v, %v]]]}`,
		x, y, x+d, y, x+d, y+d, x, y+d, x, y)
}

func feature(props, geometry string) string {
	return `{"type": "Feature", "properties": {` + props + `}, "geometry": ` + geometry + `}`
}

// translate converts src with GDAL's ogr2ogr, e.g. to write a shapefile.
func translate(t *testing.T, src, dst string, switches ...string) {
	t.Helper()
	register()
	ds, err := godal.Open(src, godal.VectorOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	out, err := ds.VectorTranslate(dst, switches)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func wantContains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("message %q\ndoes not contain %q", got, w)
		}
	}
}
