package gdalio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"munigis"
	"munigis/layers"
)

// roundTripType has an attribute of every type, names longer than a DBF
// takes (two with the same first 10 characters) and Cyrillic values.
func roundTripType() layers.Type {
	return layers.Type{Name: "roundtrip", TitleBG: "Проба", TitleEN: "Round trip", GeometryType: "MultiPolygon",
		Attributes: []layers.Attribute{
			{Name: "identifier", Type: layers.CadastralID, Required: true, Unique: true},
			{Name: "long_attribute_one", Type: layers.Text},
			{Name: "long_attribute_two", Type: layers.Integer},
			{Name: "area_m2", Type: layers.Number},
			{Name: "surveyed_on", Type: layers.Date},
			{Name: "is_public", Type: layers.Boolean},
			{Name: "land_use", Type: layers.Enum, Values: []string{"нива", "гора"}},
		}}
}

func (e *env) createLayer(name string) {
	e.t.Helper()
	if err := e.store.CreateLayer(e.ctx, layers.Layer{Name: name, TypeName: "roundtrip", TitleBG: name, TitleEN: name}); err != nil {
		e.t.Fatal(err)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	e := newEnv(t)
	if err := e.store.CreateType(e.ctx, roundTripType()); err != nil {
		t.Fatal(err)
	}
	e.createLayer("rt_src")
	_, err := e.db.Pool.Exec(e.ctx, `INSERT INTO features.rt_src
		(identifier, long_attribute_one, long_attribute_two, area_m2, surveyed_on, is_public, land_use, geom) VALUES
		('68134.1.5', 'ул. „Христо Ботев“ 15, вх. А — адрес, по-дълъг от четиридесет букви на кирилица', 42, 1234.5678, '2024-03-01', true, 'нива',
		 ST_GeomFromText('MULTIPOLYGON(((490177.508 4735953.349, 490277.508 4735953.349, 490277.508 4736053.349, 490177.508 4736053.349, 490177.508 4735953.349),
		   (490200.1234 4735980.5678, 490210.1234 4735980.5678, 490210.1234 4735990.5678, 490200.1234 4735980.5678)))', 7801)),
		('68134.1.6', NULL, NULL, NULL, NULL, NULL, NULL,
		 ST_GeomFromText('MULTIPOLYGON(((490300 4735900, 490310 4735900, 490310 4735910, 490300 4735900)), ((490320 4735900, 490330 4735900, 490330 4735910, 490320 4735900)))', 7801)),
		('68134.1.7', 'plain', -7, 0.1, '1999-12-31', false, 'гора',
		 ST_GeomFromText('MULTIPOLYGON(((322000.001 4729000.002, 322010 4729000, 322010 4729010, 322000.001 4729000.002)))', 7801))`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ format, file, layer string }{
		{"GPKG", "gp.gpkg", "rt_gpkg"},
		{"GeoJSON", "gj.geojson", "rt_geojson"},
		{"ESRI Shapefile", "sh.shp", "rt_shp"},
		{"CSV", "cs.csv", "rt_csv"},
	} {
		t.Run(c.format, func(t *testing.T) {
			e := e.with(t)
			file := filepath.Join(e.dir, c.file)
			var out bytes.Buffer
			n, err := Export(e.ctx, e.store, ExportOptions{Layer: "rt_src", Format: c.format, File: file}, &out)
			if err != nil {
				t.Fatalf("export: %v\n%s", err, out.String())
			}
			if n != 3 {
				t.Fatalf("exported %d features, want 3", n)
			}
			if c.format == "ESRI Shapefile" {
				dbf, err := os.ReadFile(filepath.Join(e.dir, "sh.dbf"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(dbf, []byte("long_att_1")) || !bytes.Contains(dbf, []byte("surveyed_o")) {
					t.Errorf("the DBF lacks the shortened names long_att_1 and surveyed_o")
				}
			}
			e.createLayer(c.layer)
			out.Reset()
			res, err := Import(e.ctx, e.store, ImportOptions{File: file, Layer: c.layer}, &out)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, out.String())
			}
			if res.Features != 3 {
				t.Fatalf("imported %d features, want 3", res.Features)
			}
			if strings.Contains(out.String(), "left empty") || strings.Contains(out.String(), "not imported") {
				t.Errorf("fields did not map back:\n%s", out.String())
			}
			rows, err := e.db.Pool.Query(e.ctx, `SELECT coalesce(s.identifier, d.identifier),
				s.long_attribute_one IS NOT DISTINCT FROM d.long_attribute_one,
				s.long_attribute_two IS NOT DISTINCT FROM d.long_attribute_two,
				s.area_m2 IS NOT DISTINCT FROM d.area_m2,
				s.surveyed_on IS NOT DISTINCT FROM d.surveyed_on,
				s.is_public IS NOT DISTINCT FROM d.is_public,
				s.land_use IS NOT DISTINCT FROM d.land_use,
				coalesce(ST_NumGeometries(s.geom) = ST_NumGeometries(d.geom) AND ST_HausdorffDistance(s.geom, d.geom) < 0.001, false),
				format('%s | %s', to_jsonb(s) - 'geom' - 'geom_3857', to_jsonb(d) - 'geom' - 'geom_3857'),
				coalesce(ST_HausdorffDistance(s.geom, d.geom), -1)
				FROM features.rt_src s FULL JOIN features.`+c.layer+` d USING (identifier) ORDER BY 1`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var seen int
			for rows.Next() {
				var id, both string
				var same [7]bool
				var dist float64
				if err := rows.Scan(&id, &same[0], &same[1], &same[2], &same[3], &same[4], &same[5], &same[6], &both, &dist); err != nil {
					t.Fatal(err)
				}
				seen++
				names := []string{"long_attribute_one", "long_attribute_two", "area_m2", "surveyed_on", "is_public", "land_use", "geometry"}
				for i, ok := range same {
					if !ok {
						t.Errorf("%s: %s differs (Hausdorff %.6f m)\n%s", id, names[i], dist, both)
					}
				}
			}
			if seen != 3 {
				t.Errorf("%d rows compared, want 3", seen)
			}
		})
	}
}

func TestExportRefusesToOverwrite(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	file := filepath.Join(e.dir, "parcels.shp")
	if _, err := Export(e.ctx, e.store, ExportOptions{Layer: "cadastre_parcels", File: file}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := Export(e.ctx, e.store, ExportOptions{Layer: "cadastre_parcels", File: file}, nil)
	var me *munigis.Error
	if !errors.As(err, &me) || me.Code != munigis.Conflict || !strings.Contains(me.Message, "parcels.shp already exists") {
		t.Fatalf("second export: %v; want a conflict naming parcels.shp", err)
	}
	// Only the .dbf left over is still a clash.
	for _, ext := range []string{".shp", ".shx", ".prj", ".cpg"} {
		os.Remove(strings.TrimSuffix(file, ".shp") + ext)
	}
	if _, err := Export(e.ctx, e.store, ExportOptions{Layer: "cadastre_parcels", File: file}, nil); err == nil {
		t.Fatal("export over a leftover .dbf succeeded")
	}
	n, err := Export(e.ctx, e.store, ExportOptions{Layer: "cadastre_parcels", File: file, Overwrite: true}, nil)
	if err != nil || n != 1 {
		t.Fatalf("overwrite: %d, %v", n, err)
	}
	entries, _ := os.ReadDir(e.dir)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), ".munigis-export") {
			t.Errorf("temporary %s left behind", en.Name())
		}
	}
	_, err = Export(e.ctx, e.store, ExportOptions{Layer: "cadastre_parcels", File: filepath.Join(e.dir, "x.gpkg"), SRS: "EPSG:999999"}, nil)
	if !errors.As(err, &me) || !strings.Contains(me.Message, "EPSG:999999") {
		t.Fatalf("unknown srs: %v", err)
	}
}
