package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"munigis/internal/pgtest"
)

// TestOGCClients is the acceptance test of the OGC services (issue 5, "Real
// clients"): the real server (`munigis serve`) on a demo municipality of 300
// parcels, read by the clients GIS people use, installed from Debian by
// scripts/deps.sh:
//
//   - GDAL: ogrinfo and ogr2ogr through the WFS and OAPIF drivers,
//     gdal_translate through the WMS driver;
//   - OWSLib (python3-owslib): WebMapService 1.3.0 and 1.1.1,
//     WebFeatureService 2.0.0 and 1.1.0, OGC API Features
//     (testdata/ogcclients/owslib_check.py);
//   - QGIS 3.22 headless (python3-qgis): a WMS, a WFS and an OGC API
//     Features layer, counted and rendered (testdata/ogcclients/qgis_check.py).
//
// Each client must list what the caller may see, count as many features as
// the database holds, read the right identifiers and coordinates, and get
// images with content. The public must not see the internal layers through
// any of them; staff (an admin's API token) must. The python scripts only
// report JSON: the assertions are here, and each failure names the client,
// what it asked and what it got.
//
// The clients run with /usr/bin/python3, not whatever python3 is first on
// the PATH, because Debian's python3-owslib and python3-qgis live there.
// Without them (or GDAL's tools) the test skips, except under
// MUNIGIS_REQUIRE_DB=1, where it fails.
func TestOGCClients(t *testing.T) {
	require := os.Getenv("MUNIGIS_REQUIRE_DB") == "1"
	missing := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf(format+" (MUNIGIS_REQUIRE_DB=1; run make test, whose scripts/deps.sh installs it)", args...)
		}
		t.Skipf(format+"; make test runs this test", args...)
	}
	for _, tool := range []string{"ogrinfo", "ogr2ogr", "gdal_translate", "gdalinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing("%s is not installed (Debian package gdal-bin)", tool)
		}
	}
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import owslib.wms, owslib.wfs, owslib.ogcapi.features").CombinedOutput(); err != nil {
		missing("%s cannot import owslib (Debian package python3-owslib): %v %s", python, err, tail(out))
	}
	if out, err := exec.Command(python, "-c", "import qgis.core").CombinedOutput(); err != nil {
		missing("%s cannot import qgis.core (Debian package python3-qgis): %v %s", python, err, tail(out))
	}
	scripts, err := filepath.Abs(filepath.Join("testdata", "ogcclients"))
	if err != nil {
		t.Fatal(err)
	}

	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	// The default register data comes too (its layers are in the catalog
	// the clients list); the demo says how much.
	if code, out, errOut := run(t, "demo", "--parcels", "300", "--seed", "1"); code != exitOK || !strings.Contains(out, "municipal_property") {
		t.Fatalf("demo: exit %d %s %s", code, out, errOut)
	}
	code, token, errOut := run(t, "token", "create", "--user", "admin", "--name", "ogc-clients-test")
	token = strings.TrimSpace(token)
	if code != exitOK || token == "" {
		t.Fatalf("token create: exit %d %q %s", code, token, errOut)
	}
	want := loadTruth(t, db)
	base, serverLog := startServe(t)

	// The viewers: the public (no token) and staff (an admin's token).
	type viewer struct {
		name   string
		token  string
		layers []string // the layers this viewer must see
		hidden []string // the layers this viewer must not see
	}
	viewers := []viewer{
		{name: "public", layers: want.public, hidden: want.internal},
		{name: "staff", token: token, layers: append(slices.Clone(want.public), want.internal...)},
	}
	out := t.TempDir()

	// GDAL, OWSLib and QGIS for both viewers run side by side: the group
	// returns when all have finished, before the server stops.
	t.Run("clients", func(t *testing.T) {
		for _, v := range viewers {
			t.Run("GDAL/"+v.name, func(t *testing.T) {
				t.Parallel()
				checkGDAL(t, base, v.token, v.layers, v.hidden, want, filepath.Join(out, "gdal-"+v.name))
			})
			t.Run("OWSLib/"+v.name, func(t *testing.T) {
				t.Parallel()
				args := []string{filepath.Join(scripts, "owslib_check.py"), base, out}
				var got map[string]map[string]any
				runJSON(t, "OWSLib", python, args, tokenEnv(v.token), &got)
				checkOWSLib(t, got, v.layers, v.hidden, want)
			})
			t.Run("QGIS/"+v.name, func(t *testing.T) {
				t.Parallel()
				profile := t.TempDir()
				args := []string{filepath.Join(scripts, "qgis_check.py"), base, out, profile}
				env := append(tokenEnv(v.token), "QT_QPA_PLATFORM=offscreen", "XDG_RUNTIME_DIR="+profile, "HOME="+profile,
					"QGIS_CHECK_LAYERS="+parcels+","+internalLayer)
				var got map[string]map[string]any
				runJSON(t, "QGIS", python, args, env, &got)
				checkQGIS(t, got, v.token != "", want)
			})
		}
	})
	if t.Failed() {
		t.Logf("server log:\n%s", tail([]byte(serverLog.String())))
	}
}

const (
	parcels       = "cadastre_parcels"
	internalLayer = "utility_lines" // internal: staff only
	wfsPrefix     = "munigis:"
	// coordTolerance is how far (degrees, EPSG:4326) a client's coordinate
	// may be from PostGIS's: about 10 cm, above GML/JSON rounding and PROJ
	// differences, far below any real error (a swapped axis is off by 18°,
	// a wrong datum by metres).
	coordTolerance = 1e-6
)

// truth is what the database holds, for comparing the clients' answers.
type truth struct {
	public, internal []string           // local layers by visibility
	count            map[string]int     // features per layer
	parcelByIdent    map[string]feature // cadastre_parcels by identifier
	extent           [4]float64         // of cadastre_parcels, lon/lat
}

type feature struct {
	id   int64
	bbox [4]float64 // lon/lat min x, min y, max x, max y in EPSG:4326
}

func loadTruth(t *testing.T, db *pgtest.DB) truth {
	t.Helper()
	ctx := context.Background()
	w := truth{count: map[string]int{}, parcelByIdent: map[string]feature{}}
	rows, err := db.Pool.Query(ctx, `SELECT name, visibility FROM layers WHERE source = 'local' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, vis string
		if err := rows.Scan(&name, &vis); err != nil {
			t.Fatal(err)
		}
		if vis == "public" {
			w.public = append(w.public, name)
		} else {
			w.internal = append(w.internal, name)
		}
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for _, name := range append(slices.Clone(w.public), w.internal...) {
		var n int
		if err := db.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM features.%q`, name)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		w.count[name] = n
	}
	if !slices.Contains(w.public, parcels) || !slices.Contains(w.internal, internalLayer) ||
		w.count[parcels] == 0 || w.count[internalLayer] == 0 {
		t.Fatalf("the demo has public %v, internal %v, counts %v: want %s public and %s internal, both with features",
			w.public, w.internal, w.count, parcels, internalLayer)
	}
	rows, err = db.Pool.Query(ctx, `SELECT id, identifier, ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g)
		FROM (SELECT id, identifier, ST_Transform(geom, 4326)::box2d AS g FROM features.cadastre_parcels) p`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f feature
		var ident string
		if err := rows.Scan(&f.id, &ident, &f.bbox[0], &f.bbox[1], &f.bbox[2], &f.bbox[3]); err != nil {
			t.Fatal(err)
		}
		w.parcelByIdent[ident] = f
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if err := db.Pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(ST_Transform(geom, 4326)) AS e FROM features.cadastre_parcels) x`).
		Scan(&w.extent[0], &w.extent[1], &w.extent[2], &w.extent[3]); err != nil {
		t.Fatal(err)
	}
	return w
}

// tokenEnv is the environment that makes the python clients ask as staff:
// MUNIGIS_TOKEN, an API token (OWSLib sends it as "Authorization: Bearer",
// QGIS as Basic with the username, as a planner would set it up). It is
// not an argument, so that it shows neither in ps nor in failure messages.
func tokenEnv(token string) []string {
	if token == "" {
		return nil
	}
	return []string{"MUNIGIS_TOKEN=" + token}
}

// clientEnv is the environment of every client: the test's own, without
// credentials a developer's shell may hold (so the public run is the
// public), and no proxy for the loopback, whatever the machine sets.
func clientEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "MUNIGIS_TOKEN=") || strings.HasPrefix(kv, "GDAL_HTTP_HEADERS=") ||
			strings.HasPrefix(kv, "GDAL_HTTP_AUTH=") || strings.HasPrefix(kv, "GDAL_HTTP_USERPWD=")
	})
	return append(env, append([]string{"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"}, extra...)...)
}

// tool runs a client and returns its stdout and stderr; on failure it fails
// the test with the command line and the tail of its stderr.
func tool(t *testing.T, client string, env []string, name string, args ...string) (string, string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = clientEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("%s: %s %s: %v\nstdout: %s\nstderr: %s", client, name, redact(strings.Join(args, " ")), err,
			tail(stdout.Bytes()), tail(stderr.Bytes()))
		return stdout.String(), stderr.String(), false
	}
	return stdout.String(), stderr.String(), true
}

// runJSON runs a python client script and decodes the JSON it prints.
func runJSON(t *testing.T, client, python string, args, env []string, v any) {
	t.Helper()
	stdout, _, ok := tool(t, client, env, python, args...)
	if !ok {
		t.FailNow()
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("%s: %s printed no JSON (%v):\n%s", client, filepath.Base(args[0]), err, tail([]byte(stdout)))
	}
}

var tokenRE = regexp.MustCompile(`mgt_[A-Za-z0-9_\-]+`)

// redact keeps API tokens out of the test log.
func redact(s string) string { return tokenRE.ReplaceAllString(s, "mgt_…") }

// tail is the end of a client's output, enough to see its error.
func tail(b []byte) string {
	s := strings.TrimSpace(redact(string(b)))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// checkGDAL reads munigis with GDAL's WFS, OAPIF and WMS drivers.
func checkGDAL(t *testing.T, base, token string, layers, hidden []string, want truth, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// GDAL reads its configuration options from the environment too, so the
	// token stays out of the command line (and the failure messages).
	env := []string{"GDAL_PAM_ENABLED=NO", "GDAL_HTTP_TIMEOUT=60"}
	if token != "" {
		env = append(env, "GDAL_HTTP_HEADERS=Authorization: Bearer "+token)
	}
	gdalErr := func(name string, args ...string) (string, string, bool) {
		t.Helper()
		return tool(t, "GDAL", env, name, args...)
	}
	gdal := func(name string, args ...string) (string, bool) {
		t.Helper()
		out, _, ok := gdalErr(name, args...)
		return out, ok
	}
	layerRE := regexp.MustCompile(`(?m)^\d+: (\S+)`)
	countRE := regexp.MustCompile(`(?m)^Feature Count: (\d+)`)
	listed := func(out string) []string {
		var names []string
		for _, m := range layerRE.FindAllStringSubmatch(out, -1) {
			names = append(names, m[1])
		}
		return names
	}

	for _, drv := range []struct{ name, ds, prefix string }{
		{"WFS", "WFS:" + base + "/wfs", wfsPrefix},
		{"OAPIF", "OAPIF:" + base + "/ogc", ""},
	} {
		// The layer list.
		if out, ok := gdal("ogrinfo", "-ro", "-so", drv.ds); ok {
			names := listed(out)
			for _, l := range layers {
				if !slices.Contains(names, drv.prefix+l) {
					t.Errorf("GDAL: ogrinfo -ro -so %s lists %v, without %s", drv.ds, names, drv.prefix+l)
				}
			}
			for _, l := range hidden {
				if slices.Contains(names, drv.prefix+l) {
					t.Errorf("GDAL: ogrinfo -ro -so %s lists the internal layer %s to the public", drv.ds, drv.prefix+l)
				}
			}
		}
		// The feature count, as ogrinfo works it out (resultType=hits or
		// numberMatched, else by reading).
		typename := drv.prefix + parcels
		if out, ok := gdal("ogrinfo", "-ro", "-al", "-so", drv.ds, typename); ok {
			m := countRE.FindStringSubmatch(out)
			if m == nil || m[1] != strconv.Itoa(want.count[parcels]) {
				t.Errorf("GDAL: ogrinfo -ro -al -so %s %s: %q, want Feature Count: %d\n%s", drv.ds, typename,
					m, want.count[parcels], tail([]byte(out)))
			}
		}
		// Every feature, reprojected by GDAL to EPSG:4326: identifiers, ids
		// and coordinates as in the database.
		file := filepath.Join(dir, drv.name+".geojson")
		// -preserve_fid: OAPIF gives the feature id as the FID (WFS as gml_id).
		if _, ok := gdal("ogr2ogr", "-preserve_fid", "-f", "GeoJSON", "-t_srs", "EPSG:4326", file, drv.ds, typename); ok {
			compareGeoJSON(t, fmt.Sprintf("GDAL: ogr2ogr -preserve_fid -f GeoJSON -t_srs EPSG:4326 out.json %s %s", drv.ds, typename), file, want)
		}
		// One feature by its id, as ogrinfo -fid asks (WFS: a ResourceId
		// filter; OAPIF: /items/{id}).
		ident, f := someParcel(want)
		fidArgs := []string{"ogrinfo", "-ro", drv.ds, typename, "-fid", strconv.FormatInt(f.id, 10)}
		if out, errOut, ok := gdalErr(fidArgs[0], fidArgs[1:]...); ok && !strings.Contains(out, "identifier (String) = "+ident) {
			t.Errorf("GDAL: %s: want the feature with identifier %s, got\n%s\nstderr: %s", strings.Join(fidArgs, " "), ident,
				tail([]byte(out[max(0, len(out)-300):])), tail([]byte(errOut)))
		}
	}

	// A map through the WMS driver. WMS 1.3.0 with EPSG:4326 takes the BBOX
	// latitude first.
	e := want.extent
	url := fmt.Sprintf("WMS:%s/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=EPSG:4326&BBOX=%f,%f,%f,%f&FORMAT=image/png",
		base, parcels, e[1], e[0], e[3], e[2])
	img := filepath.Join(dir, "wms.png")
	if _, ok := gdal("gdal_translate", "-of", "PNG", "-outsize", "512", "512", url, img); ok {
		if out, ok := gdal("gdalinfo", "-json", "-stats", img); ok {
			var info struct {
				Bands []band `json:"bands"`
			}
			if err := json.Unmarshal([]byte(out), &info); err != nil || len(info.Bands) < 3 {
				t.Errorf("GDAL: gdalinfo -json -stats of the WMS image: %v %s", err, tail([]byte(out)))
			} else if !slices.ContainsFunc(info.Bands[:3], func(b band) bool { return b.Minimum < b.Maximum }) {
				t.Errorf("GDAL: gdal_translate %s gave a single-colour image (bands %+v)", url, info.Bands)
			}
		}
		checkImage(t, "GDAL: gdal_translate "+url, img)
	}
}

// band is a band of `gdalinfo -json -stats`.
type band struct {
	Minimum, Maximum float64
}

// compareGeoJSON checks a client's GeoJSON of cadastre_parcels (in EPSG:4326)
// against the database: the same features, by identifier, each with its id
// and bounding box.
func compareGeoJSON(t *testing.T, asked, file string, want truth) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("%s: %v", asked, err)
		return
	}
	var fc struct {
		Features []struct {
			ID         any            `json:"id"`
			Properties map[string]any `json:"properties"`
			Geometry   struct {
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Errorf("%s: not GeoJSON: %v\n%s", asked, err, tail(b))
		return
	}
	if len(fc.Features) != want.count[parcels] {
		t.Errorf("%s: %d features, the database has %d", asked, len(fc.Features), want.count[parcels])
	}
	seen := map[string]bool{}
	bad := 0
	for i, f := range fc.Features {
		ident, _ := f.Properties["identifier"].(string)
		db, ok := want.parcelByIdent[ident]
		if !ok {
			t.Errorf("%s: feature %d has identifier %q, which the database does not have (properties %v)", asked, i, ident, f.Properties)
			if bad++; bad > 3 {
				return
			}
			continue
		}
		if seen[ident] {
			t.Errorf("%s: identifier %s twice", asked, ident)
		}
		seen[ident] = true
		if id := featureID(f.ID, f.Properties); id != db.id {
			t.Errorf("%s: %s has feature id %v (gml_id %v), the database's is %d", asked, ident, f.ID, f.Properties["gml_id"], db.id)
			bad++
		}
		var box [4]float64
		if !bboxOf(f.Geometry.Coordinates, &box) {
			t.Errorf("%s: %s has no coordinates: %s", asked, ident, f.Geometry.Coordinates)
			bad++
		} else {
			for k := range box {
				if math.Abs(box[k]-db.bbox[k]) > coordTolerance {
					t.Errorf("%s: %s has the bounding box %v (lon/lat), the database %v", asked, ident, box, db.bbox)
					bad++
					break
				}
			}
		}
		if bad > 3 {
			t.Errorf("%s: giving up after %d wrong features", asked, bad)
			return
		}
	}
}

// someParcel is a parcel from the middle of the database's, the same every
// run.
func someParcel(want truth) (string, feature) {
	idents := slices.Sorted(maps.Keys(want.parcelByIdent))
	ident := idents[len(idents)/2]
	return ident, want.parcelByIdent[ident]
}

// featureID is the munigis id in a client's feature: GeoJSON's id, or the
// number after the last dot of a WFS gml_id ("cadastre_parcels.17").
func featureID(id any, props map[string]any) int64 {
	for _, v := range []any{props["gml_id"], id} {
		switch v := v.(type) {
		case float64:
			return int64(v)
		case string:
			if n, err := strconv.ParseInt(v[strings.LastIndex(v, ".")+1:], 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// bboxOf widens box over every position in GeoJSON coordinates.
func bboxOf(raw json.RawMessage, box *[4]float64) bool {
	*box = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	var walk func(json.RawMessage) bool
	walk = func(r json.RawMessage) bool {
		var pos []float64
		if json.Unmarshal(r, &pos) == nil && len(pos) >= 2 {
			box[0], box[1] = min(box[0], pos[0]), min(box[1], pos[1])
			box[2], box[3] = max(box[2], pos[0]), max(box[3], pos[1])
			return true
		}
		var parts []json.RawMessage
		if json.Unmarshal(r, &parts) != nil {
			return false
		}
		any := false
		for _, p := range parts {
			any = walk(p) || any
		}
		return any
	}
	return walk(raw)
}

// checkImage decodes a PNG a client saved and fails if it is blank: one
// colour, or (almost) every pixel transparent.
func checkImage(t *testing.T, asked, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("%s: no image: %v", asked, err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %s is not a PNG: %v", asked, path, err)
		return
	}
	colours := map[[4]uint32]int{}
	opaque, total := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}]++
			if a > 0 {
				opaque++
			}
			total++
		}
	}
	top := 0
	for _, n := range colours {
		top = max(top, n)
	}
	if len(colours) < 2 || float64(top) > 0.995*float64(total) || float64(opaque) < 0.005*float64(total) {
		t.Errorf("%s: the image %s (%v) is blank: %d colours, the commonest on %d of %d pixels, %d not transparent",
			asked, path, b.Size(), len(colours), top, total, opaque)
	}
}

// section returns a script's answer for one check, failing when the client
// raised.
func section(t *testing.T, client string, got map[string]map[string]any, key string) (map[string]any, bool) {
	t.Helper()
	s, ok := got[key]
	if !ok {
		t.Errorf("%s: the script reported nothing for %s", client, key)
		return nil, false
	}
	if e, ok := s["error"]; ok {
		t.Errorf("%s: %v\ngot: %v\n%v\nthe server: %v", client, s["asked"], e, s["traceback"], s["server"])
		return nil, false
	}
	return s, true
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, s := range l {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func num(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		return int(v), true
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

func checkLists(t *testing.T, client, asked string, names []string, prefix string, layers, hidden []string) {
	t.Helper()
	for _, l := range layers {
		if !slices.Contains(names, prefix+l) {
			t.Errorf("%s: %s lists %v, without %s", client, asked, names, prefix+l)
		}
	}
	for _, l := range hidden {
		if slices.Contains(names, prefix+l) {
			t.Errorf("%s: %s lists the internal layer %s to the public", client, asked, prefix+l)
		}
	}
}

func checkOWSLib(t *testing.T, got map[string]map[string]any, layers, hidden []string, want truth) {
	n := want.count[parcels]
	for _, key := range []string{"wms130", "wms111"} {
		s, ok := section(t, "OWSLib", got, key)
		if !ok {
			continue
		}
		asked := fmt.Sprint(s["asked"])
		checkLists(t, "OWSLib", asked, strs(s["layers"]), "", layers, hidden)
		for _, crs := range []string{"EPSG:4326", "EPSG:7801", "EPSG:3857"} {
			if !slices.Contains(strs(s["crs"]), crs) {
				t.Errorf("OWSLib: %s: %s offers the CRS %v, without %s", asked, parcels, s["crs"], crs)
			}
		}
		gm, _ := s["getmap"].(map[string]any)
		if gm["png"] != true {
			t.Errorf("OWSLib: %s: GetMap gave no PNG: %v", asked, gm)
			continue
		}
		checkImage(t, "OWSLib: "+asked, fmt.Sprint(gm["image"]))
	}
	for _, key := range []string{"wfs200", "wfs110"} {
		s, ok := section(t, "OWSLib", got, key)
		if !ok {
			continue
		}
		asked := fmt.Sprint(s["asked"])
		checkLists(t, "OWSLib", asked, strs(s["layers"]), wfsPrefix, layers, hidden)
		gf, _ := s["getfeature"].(map[string]any)
		if c, _ := num(gf["features"]); c != n {
			t.Errorf("OWSLib: %s: %v features, the database has %d (answer: %v)", asked, gf["features"], n, gf)
		}
		if m, ok := num(gf["numberMatched"]); ok && m != n {
			t.Errorf("OWSLib: %s: numberMatched/numberOfFeatures %d, the database has %d", asked, m, n)
		}
		first, _ := gf["first"].(map[string]any)
		ident, _ := first["identifier"].(string)
		if db, ok := want.parcelByIdent[ident]; !ok {
			t.Errorf("OWSLib: %s: the first feature %v has no identifier of the database", asked, first)
		} else if id := featureID(nil, map[string]any{"gml_id": first["gml_id"]}); id != db.id {
			t.Errorf("OWSLib: %s: %s has gml:id %v, the database's id is %d", asked, ident, first["gml_id"], db.id)
		}
	}
	if s, ok := section(t, "OWSLib", got, "oapif"); ok {
		asked := fmt.Sprint(s["asked"])
		checkLists(t, "OWSLib", asked, strs(s["collections"]), "", layers, hidden)
		if c, _ := num(s["limit5"]); c != 5 {
			t.Errorf("OWSLib: %s: limit=5 gave %v features", asked, s["limit5"])
		}
		if c, _ := num(s["count"]); c != n {
			t.Errorf("OWSLib: %s: read %v features page by page, the database has %d", asked, s["count"], n)
		}
		if m, ok := num(s["numberMatched"]); ok && m != n {
			t.Errorf("OWSLib: %s: numberMatched %d, the database has %d", asked, m, n)
		}
		first, _ := s["first"].(map[string]any)
		ident, _ := first["identifier"].(string)
		if db, ok := want.parcelByIdent[ident]; !ok {
			t.Errorf("OWSLib: %s: the first feature %v has no identifier of the database", asked, first)
		} else if id := featureID(first["id"], map[string]any{}); id != db.id {
			t.Errorf("OWSLib: %s: %s has id %v, the database's is %d", asked, ident, first["id"], db.id)
		}
	}
}

func checkQGIS(t *testing.T, got map[string]map[string]any, staff bool, want truth) {
	for _, name := range []string{parcels, internalLayer} {
		visible := staff || name == parcels
		for _, kind := range []string{"wms", "wfs", "oapif"} {
			s, ok := section(t, "QGIS", got, kind+":"+name)
			if !ok {
				continue
			}
			asked := fmt.Sprint(s["asked"])
			if !visible {
				// The public asked for an internal layer: QGIS must not
				// get it (an invalid layer, or one with nothing in it).
				if s["valid"] == true {
					if c, _ := num(s["featureCount"]); kind == "wms" || c > 0 {
						t.Errorf("QGIS: %s: the public got the internal layer %s: %v", asked, name, s)
					}
				}
				continue
			}
			if s["valid"] != true {
				t.Errorf("QGIS: %s: the layer is not valid: %v", asked, s["layerError"])
				continue
			}
			if kind == "wms" {
				if errs := strs(s["renderErrors"]); len(errs) > 0 {
					t.Errorf("QGIS: %s: rendering reported %v", asked, errs)
				}
				checkImage(t, "QGIS: "+asked, fmt.Sprint(s["image"]))
				continue
			}
			n := want.count[name]
			if c, _ := num(s["featureCount"]); c != n {
				t.Errorf("QGIS: %s: featureCount() %v, the database has %d", asked, s["featureCount"], n)
			}
			if c, _ := num(s["iterated"]); c != n {
				t.Errorf("QGIS: %s: getFeatures() gave %v features, the database has %d", asked, s["iterated"], n)
			}
			if name == parcels {
				first, _ := s["first"].(map[string]any)
				ident, _ := first["identifier"].(string)
				if _, ok := want.parcelByIdent[ident]; !ok {
					t.Errorf("QGIS: %s: the first feature %v has no identifier of the database", asked, first)
				}
			}
		}
	}
}
