package gdalio

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"munigis/layers"
)

// The test vector of cadastre-bg.md §3.3: lon 25.3799991, lat 42.7589996
// is easting 490177.508, northing 4735953.349 in EPSG:7801.
const (
	vecLon, vecLat           = 25.3799991, 42.7589996
	vecEasting, vecNorthing  = 490177.508, 4735953.349
	sofiaEasting, sofiaNorth = 322000.0, 4729000.0
)

func TestImportGeoJSON4326LandsInCCS2005(t *testing.T) {
	e := newEnv(t)
	file := e.write("parcels.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5", "area_m2": 12.5, "land_use": "нива", "address": "ул. „Христо Ботев“ 15"`, square(vecLon, vecLat, 0.0005)),
		feature(`"identifier": "68134.1.6", "area_m2": null, "ownership": "частна", "extra": 1`,
			`{"type": "MultiPolygon", "coordinates": [[[[25.381, 42.759], [25.382, 42.759], [25.382, 42.760], [25.381, 42.759]]]]}`),
	))
	var out bytes.Buffer
	res, err := Import(e.ctx, e.store, ImportOptions{File: file, Layer: "cadastre_parcels", Actor: "tester"}, &out)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if res.Features != 2 {
		t.Fatalf("Features = %d, want 2", res.Features)
	}
	wantContains(t, out.String(), "fields not imported", "extra")

	var x, y float64
	var area *float64
	var address, landUse, createdBy string
	err = e.db.Pool.QueryRow(e.ctx, `SELECT ST_X(p), ST_Y(p), area_m2, address, land_use, created_by
		FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1) AS p, * FROM features.cadastre_parcels
		      WHERE identifier = '68134.1.5') s`).Scan(&x, &y, &area, &address, &landUse, &createdBy)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(x-vecEasting) > 0.001 || math.Abs(y-vecNorthing) > 0.001 {
		t.Errorf("first vertex = (%.4f, %.4f), want (%.3f, %.3f): x must be the easting", x, y, vecEasting, vecNorthing)
	}
	if area == nil || *area != 12.5 || address != "ул. „Христо Ботев“ 15" || landUse != "нива" || createdBy != "tester" {
		t.Errorf("attributes = %v %q %q %q", area, address, landUse, createdBy)
	}
	// A JSON null is NULL, not 0 (godal's own Fields cannot tell).
	var nullArea *float64
	var ownership string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT area_m2, ownership FROM features.cadastre_parcels WHERE identifier = '68134.1.6'`).Scan(&nullArea, &ownership); err != nil {
		t.Fatal(err)
	}
	if nullArea != nil || ownership != "частна" {
		t.Errorf("second feature: area_m2 = %v (want NULL), ownership = %q", nullArea, ownership)
	}
}

// writeCP1251Shapefile writes parcels.shp with a CP1251 DBF (and .cpg).
func writeCP1251Shapefile(t *testing.T, e *env, name string) string {
	t.Helper()
	src := e.write(name+".geojson", featureCollection(7801,
		feature(`"identifier": "68134.1.5", "address": "ул. Христо Ботев 15", "land_use": "жилищна"`, square(vecEasting, vecNorthing, 10)),
		feature(`"identifier": "68134.1.6", "address": "ж.к. Младост, бл. 5", "land_use": "озеленяване"`, square(vecEasting+20, vecNorthing, 10)),
	))
	shp := filepath.Join(e.dir, name+".shp")
	translate(t, src, shp, "-f", "ESRI Shapefile", "-lco", "ENCODING=CP1251")
	dbf, err := os.ReadFile(filepath.Join(e.dir, name+".dbf"))
	if err != nil {
		t.Fatal(err)
	}
	// "Христо" in Windows-1251.
	if !bytes.Contains(dbf, []byte{0xD5, 0xF0, 0xE8, 0xF1, 0xF2, 0xEE}) {
		t.Fatalf("the DBF is not in CP1251")
	}
	return shp
}

func TestImportShapefileCP1251(t *testing.T) {
	e := newEnv(t)
	check := func(t *testing.T) {
		t.Helper()
		var addr, use string
		err := e.db.Pool.QueryRow(e.ctx, `SELECT address, land_use FROM features.cadastre_parcels WHERE identifier = '68134.1.6'`).Scan(&addr, &use)
		if err != nil {
			t.Fatal(err)
		}
		if addr != "ж.к. Младост, бл. 5" || use != "озеленяване" {
			t.Errorf("address %q, land_use %q: Cyrillic garbled", addr, use)
		}
		if _, err := e.db.Pool.Exec(e.ctx, `DELETE FROM features.cadastre_parcels`); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("cpg", func(t *testing.T) {
		e := e.with(t)
		shp := writeCP1251Shapefile(t, e, "with_cpg")
		e.importFile(ImportOptions{File: shp, Layer: "cadastre_parcels"})
		check(t)
	})
	t.Run("encoding option", func(t *testing.T) {
		e := e.with(t)
		shp := writeCP1251Shapefile(t, e, "option")
		os.Remove(strings.TrimSuffix(shp, ".shp") + ".cpg")
		e.importFile(ImportOptions{File: shp, Layer: "cadastre_parcels", Encoding: "CP1251"})
		check(t)
	})
	t.Run("ANSI means CP1251", func(t *testing.T) {
		e := e.with(t)
		shp := writeCP1251Shapefile(t, e, "ansi")
		os.Remove(strings.TrimSuffix(shp, ".shp") + ".cpg")
		// Language driver 87 (0x57), "ANSI": what ArcView wrote; GDAL
		// alone would read it as Latin-1.
		f, err := os.OpenFile(strings.TrimSuffix(shp, ".shp")+".dbf", os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte{0x57}, 29)
		f.Close()
		var out bytes.Buffer
		if _, err := Import(e.ctx, e.store, ImportOptions{File: shp, Layer: "cadastre_parcels", Progress: true}, &out); err != nil {
			t.Fatal(err)
		}
		wantContains(t, out.String(), "CP1251", "import ansi.shp")
		check(t)
	})
	t.Run("undeclared means CP1251", func(t *testing.T) {
		e := e.with(t)
		shp := writeCP1251Shapefile(t, e, "undeclared")
		os.Remove(strings.TrimSuffix(shp, ".shp") + ".cpg")
		var out bytes.Buffer
		if _, err := Import(e.ctx, e.store, ImportOptions{File: shp, Layer: "cadastre_parcels"}, &out); err != nil {
			t.Fatal(err)
		}
		wantContains(t, out.String(), "CP1251")
		check(t)
	})
}

// seed imports one valid feature so that "nothing changed" means more than
// an empty table.
func seed(t *testing.T, e *env) {
	t.Helper()
	e.importFile(ImportOptions{File: e.write("seed.geojson", featureCollection(0,
		feature(`"identifier": "68134.9.1", "area_m2": 1`, square(25.30, 42.70, 0.001)))), Layer: "cadastre_parcels"})
}

func TestImportTypeMismatchChangesNothing(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	before := e.digest("cadastre_parcels")
	file := e.write("parcels.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5", "area_m2": 12.5`, square(25.38, 42.759, 0.0005)),
		feature(`"identifier": "68134.1.6", "area_m2": "abc"`, square(25.381, 42.759, 0.0005)),
	))
	msg := e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, `parcels.geojson: feature 2: field area_m2: "abc" is not a number`)
	if after := e.digest("cadastre_parcels"); after != before {
		t.Errorf("table changed: %s → %s", before, after)
	}

	// A mapped field is named as the file spells it, with the attribute.
	file = e.write("mapped.geojson", featureCollection(0,
		feature(`"ID": "68134.1.5", "PLOSHT": "12,5"`, square(25.38, 42.759, 0.0005)),
		feature(`"ID": "68134.1.6", "PLOSHT": "дванайсет"`, square(25.381, 42.759, 0.0005)),
	))
	msg = e.importError(ImportOptions{File: file, Layer: "cadastre_parcels", Map: map[string]string{"identifier": "ID", "area_m2": "plosht"}})
	wantContains(t, msg, `mapped.geojson: feature 2: field PLOSHT (area_m2): "дванайсет" is not a number`)
	if after := e.digest("cadastre_parcels"); after != before {
		t.Errorf("table changed: %s → %s", before, after)
	}
}

// bowtie is a self-intersecting polygon.
func bowtie(x, y, d float64) string {
	return `{"type": "Polygon", "coordinates": [[` +
		strings.Join([]string{pt(x, y), pt(x+d, y+d), pt(x+d, y), pt(x, y+d), pt(x, y)}, ", ") + `]]}`
}

func pt(x, y float64) string { return fmt.Sprintf("[%v, %v]", x, y) }

func TestImportInvalidGeometry(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	before := e.digest("cadastre_parcels")
	file := e.write("bad.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5"`, square(25.38, 42.759, 0.0005)),
		feature(`"identifier": "68134.1.6"`, square(25.381, 42.759, 0.0005)),
		feature(`"identifier": "68134.1.7"`, bowtie(25.382, 42.759, 0.0005)),
		feature(`"identifier": "68134.1.8"`, square(25.383, 42.759, 0.0005)),
	))
	msg := e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, "bad.geojson: feature 3: invalid geometry: Self-intersection at POINT(", "--make-valid")
	if after := e.digest("cadastre_parcels"); after != before {
		t.Errorf("table changed: %s → %s", before, after)
	}

	res := e.importFile(ImportOptions{File: file, Layer: "cadastre_parcels", MakeValid: true})
	if res.Features != 4 || res.Repaired != 1 {
		t.Errorf("make-valid: %d features, %d repaired; want 4 and 1", res.Features, res.Repaired)
	}
	var parts int
	var valid bool
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT ST_NumGeometries(geom), ST_IsValid(geom) FROM features.cadastre_parcels WHERE identifier = '68134.1.7'`).Scan(&parts, &valid); err != nil {
		t.Fatal(err)
	}
	if parts != 2 || !valid {
		t.Errorf("repaired bow-tie: %d parts, valid %v; want the two triangles", parts, valid)
	}
}

func TestImportDatabaseRulesNameTheFeature(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	before := e.digest("cadastre_parcels")
	file := e.write("ids.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5"`, square(25.38, 42.759, 0.0005)),
		feature(`"identifier": "68134.1"`, square(25.381, 42.759, 0.0005)),
	))
	msg := e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, "ids.geojson: feature 2: field identifier:")
	file = e.write("dup.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5"`, square(25.38, 42.759, 0.0005)),
		feature(`"identifier": "68134.9.1"`, square(25.381, 42.759, 0.0005)),
	))
	msg = e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, `dup.geojson: feature 2: field identifier: "68134.9.1" is already taken`)
	file = e.write("enum.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5", "land_use": "луна"`, square(25.38, 42.759, 0.0005)),
	))
	msg = e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, `enum.geojson: feature 1: field land_use: "луна" is not one of the allowed values`)
	if after := e.digest("cadastre_parcels"); after != before {
		t.Errorf("table changed: %s → %s", before, after)
	}
}

func TestImportCorruptShapefile(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	before := e.digest("cadastre_parcels")
	var feats []string
	for i := 0; i < 50; i++ {
		feats = append(feats, feature(`"identifier": "68134.2.`+strconv.Itoa(i+1)+`"`, square(vecEasting+float64(i)*20, vecNorthing, 10)))
	}
	src := e.write("many.geojson", featureCollection(7801, feats...))

	t.Run("truncated", func(t *testing.T) {
		e := e.with(t)
		shp := filepath.Join(e.dir, "truncated.shp")
		translate(t, src, shp, "-f", "ESRI Shapefile")
		st, _ := os.Stat(shp)
		if err := os.Truncate(shp, st.Size()/2+7); err != nil {
			t.Fatal(err)
		}
		msg := e.importError(ImportOptions{File: shp, Layer: "cadastre_parcels"})
		wantContains(t, msg, "truncated.shp: feature ", "damaged")
	})
	t.Run("garbled header", func(t *testing.T) {
		e := e.with(t)
		shp := filepath.Join(e.dir, "garbled.shp")
		translate(t, src, shp, "-f", "ESRI Shapefile")
		f, err := os.OpenFile(shp, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("this is not a shapefile header, no!!"), 0)
		f.Close()
		msg := e.importError(ImportOptions{File: shp, Layer: "cadastre_parcels"})
		wantContains(t, msg, "garbled.shp: GDAL cannot open it")
	})
	t.Run("missing shx", func(t *testing.T) {
		e := e.with(t)
		shp := filepath.Join(e.dir, "noshx.shp")
		translate(t, src, shp, "-f", "ESRI Shapefile")
		os.Remove(filepath.Join(e.dir, "noshx.shx"))
		msg := e.importError(ImportOptions{File: shp, Layer: "cadastre_parcels"})
		wantContains(t, msg, "noshx.shp:")
	})
	t.Run("broken json", func(t *testing.T) {
		e := e.with(t)
		file := e.write("broken.geojson", `{"type": "FeatureCollection", "features": [{"type": "Feature", "prop`)
		msg := e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
		wantContains(t, msg, "broken.geojson: GDAL cannot open it")
	})
	if after := e.digest("cadastre_parcels"); after != before {
		t.Errorf("table changed: %s → %s", before, after)
	}
}

func TestImportSRS(t *testing.T) {
	e := newEnv(t)
	csv := e.write("parcels.csv", "WKT,identifier,area_m2\n"+
		`"POLYGON ((490177.508 4735953.349,490187.508 4735953.349,490187.508 4735963.349,490177.508 4735953.349))",68134.1.5,12.5`+"\n")

	msg := e.importError(ImportOptions{File: csv, Layer: "cadastre_parcels"})
	wantContains(t, msg, "parcels.csv: the file does not say which coordinate reference system", "--srs EPSG:N")

	msg = e.importError(ImportOptions{File: csv, Layer: "cadastre_parcels", SRS: "EPSG:999999"})
	wantContains(t, msg, "--srs EPSG:999999: there is no coordinate reference system EPSG:999999")
	msg = e.importError(ImportOptions{File: csv, Layer: "cadastre_parcels", SRS: "Sofia"})
	wantContains(t, msg, `--srs "Sofia": write it as EPSG:N`)

	// Degrees claimed to be cadastral metres land near (0, 0).
	msg = e.importError(ImportOptions{File: e.write("deg.csv", "WKT,network\n\"POINT (25.38 42.759)\",water\n"), Layer: "utility_manholes", SRS: "EPSG:7801"})
	wantContains(t, msg, "feature 1:", "lie outside Bulgaria", "degrees")

	// Northing first, as EPSG defines 7801 but no file should store it.
	swapped := e.write("swapped.geojson", featureCollection(7801,
		feature(`"identifier": "68134.1.5"`, square(vecNorthing, vecEasting, 10))))
	msg = e.importError(ImportOptions{File: swapped, Layer: "cadastre_parcels"})
	wantContains(t, msg, "swapped.geojson: feature 1:", "outside Bulgaria", "northing and easting swapped")

	// Cadastral metres claimed to be degrees cannot even be transformed.
	metres := e.write("metres.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5"`, square(vecEasting, vecNorthing, 10))))
	msg = e.importError(ImportOptions{File: metres, Layer: "cadastre_parcels"})
	wantContains(t, msg, "metres.geojson: feature 1:", "coordinate reference system is wrong")

	if n := e.count("cadastre_parcels"); n != 0 {
		t.Fatalf("%d features written by failed imports", n)
	}
	res := e.importFile(ImportOptions{File: csv, Layer: "cadastre_parcels", SRS: "EPSG:7801"})
	if res.Features != 1 {
		t.Errorf("CSV with --srs: %d features", res.Features)
	}
}

func TestImportMissingFields(t *testing.T) {
	e := newEnv(t)
	file := e.write("noid.geojson", featureCollection(0, feature(`"name": "x"`, square(25.38, 42.759, 0.0005))))
	msg := e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, "noid.geojson: field identifier is missing", "--map identifier=FIELD", "name")
	msg = e.importError(ImportOptions{File: file, Layer: "cadastre_parcels", Map: map[string]string{"identifier": "ident"}})
	wantContains(t, msg, "noid.geojson: field ident (given with --map identifier=ident) does not exist")
	msg = e.importError(ImportOptions{File: file, Layer: "cadastre_parcels", Map: map[string]string{"nosuch": "name"}})
	wantContains(t, msg, "--map nosuch=name: layer cadastre_parcels has no attribute nosuch")
	msg = e.importError(ImportOptions{File: filepath.Join(e.dir, "nothere.shp"), Layer: "cadastre_parcels"})
	wantContains(t, msg, "nothere.shp: cannot read it: there is no such file")
	msg = e.importError(ImportOptions{File: file, Layer: "cadastre_parcels", Encoding: "KLINGON-8"})
	wantContains(t, msg, `--encoding "KLINGON-8"`)
}

func TestImportGeometryKinds(t *testing.T) {
	e := newEnv(t)
	// A point in a polygon layer names the feature and both kinds.
	file := e.write("points.geojson", featureCollection(0,
		feature(`"identifier": "68134.1.5"`, square(25.38, 42.759, 0.0005)),
		feature(`"identifier": "68134.1.6"`, `{"type": "Point", "coordinates": [25.38, 42.759]}`)))
	msg := e.importError(ImportOptions{File: file, Layer: "cadastre_parcels"})
	wantContains(t, msg, "points.geojson: feature 2: a Point does not fit this layer, which holds MultiPolygon geometries")

	// 3D lines become 2D MultiLineStrings; a KML works the same.
	file = e.write("lines.geojson", featureCollection(0,
		feature(`"line_kind": "регулационна"`, `{"type": "LineString", "coordinates": [[25.38, 42.759, 500], [25.381, 42.759, 510]]}`)))
	e.importFile(ImportOptions{File: file, Layer: "regulation_lines"})
	kml := e.write("manholes.kml", `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>manholes</name>
<Placemark><name>Ш1</name><ExtendedData><Data name="network"><value>water</value></Data><Data name="depth_m"><value>2,5</value></Data></ExtendedData>
<Point><coordinates>25.38,42.759,0</coordinates></Point></Placemark>
</Folder></Document></kml>`)
	e.importFile(ImportOptions{File: kml, Layer: "utility_manholes"})
	var dims int
	var typ string
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT ST_NDims(geom), GeometryType(geom) FROM features.regulation_lines`).Scan(&dims, &typ); err != nil {
		t.Fatal(err)
	}
	if dims != 2 || typ != "MULTILINESTRING" {
		t.Errorf("line stored as %dD %s", dims, typ)
	}
	var depth float64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT depth_m FROM features.utility_manholes`).Scan(&depth); err != nil {
		t.Fatal(err)
	}
	if depth != 2.5 {
		t.Errorf("depth_m = %v, want 2.5 from \"2,5\"", depth)
	}
}

func TestShapefileNames(t *testing.T) {
	typ := layers.Type{Attributes: []layers.Attribute{
		{Name: "long_attribute_one"}, {Name: "identifier"}, {Name: "long_attribute_two"}, {Name: "long_attri"}, {Name: "surveyed_on"},
	}}
	got := shapefileNames(typ)
	want := map[string]string{
		"long_attribute_one": "long_att_1", "identifier": "identifier", "long_attribute_two": "long_att_2",
		"long_attri": "long_attri", "surveyed_on": "surveyed_o",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s → %q, want %q", k, got[k], v)
		}
	}
}

func TestImportDXF(t *testing.T) {
	e := newEnv(t)
	// DXF has no attributes of its own beyond the CAD layer, no CRS, and
	// outlines as closed polylines.
	src := e.write("plan.geojson", featureCollection(7801,
		feature(`"Layer": "68134.1.5"`, square(vecEasting, vecNorthing, 10)),
		feature(`"Layer": "68134.1.6"`, square(vecEasting+20, vecNorthing, 10))))
	dxf := filepath.Join(e.dir, "plan.dxf")
	translate(t, src, dxf, "-f", "DXF")
	msg := e.importError(ImportOptions{File: dxf, Layer: "cadastre_parcels", Map: map[string]string{"identifier": "Layer"}})
	wantContains(t, msg, "plan.dxf: the file does not say which coordinate reference system")
	res := e.importFile(ImportOptions{File: dxf, Layer: "cadastre_parcels", SRS: "EPSG:7801", Map: map[string]string{"identifier": "Layer"}})
	if res.Features != 2 {
		t.Fatalf("%d features from the DXF, want 2", res.Features)
	}
	var area float64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT ST_Area(geom) FROM features.cadastre_parcels WHERE identifier = '68134.1.6'`).Scan(&area); err != nil {
		t.Fatal(err)
	}
	if math.Abs(area-100) > 0.01 {
		t.Errorf("area %.3f m², want 100", area)
	}
}
