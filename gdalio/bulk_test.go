package gdalio

import (
	"fmt"
	"testing"
)

// TestBulkImportRebuildsIndexes runs the bulk path (indexes dropped before
// COPY, rebuilt after) on a small file by lowering the threshold. Progress
// makes the reader count a GeoJSON file first, as the CLI does; without a
// count the bulk path is not taken.
func TestBulkImportRebuildsIndexes(t *testing.T) {
	old := bulkMinFeatures
	bulkMinFeatures = 3
	t.Cleanup(func() { bulkMinFeatures = old })

	e := newEnv(t)
	indexes := func() string {
		var defs string
		if err := e.db.Pool.QueryRow(e.ctx, `SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes
			WHERE schemaname = 'features' AND tablename = 'cadastre_parcels'`).Scan(&defs); err != nil {
			t.Fatal(err)
		}
		return defs
	}
	want := indexes()

	var feats []string
	for i := 1; i <= 5; i++ {
		feats = append(feats, feature(fmt.Sprintf(`"identifier": "68134.1.%d"`, i), square(25.38+float64(i)*0.001, 42.759, 0.0005)))
	}
	dup := append(append([]string{}, feats...), feature(`"identifier": "68134.1.2"`, square(25.39, 42.759, 0.0005)))
	msg := e.importError(ImportOptions{File: e.write("dup.geojson", featureCollection(0, dup...)), Layer: "cadastre_parcels", Progress: true})
	wantContains(t, msg, `dup.geojson: field identifier: "68134.1.2" is already taken`)
	if n := e.count("cadastre_parcels"); n != 0 {
		t.Errorf("a failed bulk import left %d parcels", n)
	}
	if got := indexes(); got != want {
		t.Errorf("indexes after a failed bulk import:\n%s\nwant\n%s", got, want)
	}

	res := e.importFile(ImportOptions{File: e.write("ok.geojson", featureCollection(0, feats...)), Layer: "cadastre_parcels", Progress: true})
	if res.Features != 5 {
		t.Errorf("imported %d, want 5", res.Features)
	}
	if got := indexes(); got != want {
		t.Errorf("indexes after a bulk import:\n%s\nwant\n%s", got, want)
	}
	// The rebuilt unique index still guards the layer.
	if _, err := e.db.Pool.Exec(e.ctx, `INSERT INTO features.cadastre_parcels (geom, identifier)
		VALUES (ST_Multi(ST_MakeEnvelope(490000, 4735000, 490010, 4735010, 7801)), '68134.1.3')`); err == nil {
		t.Error("a duplicate identifier was accepted after the bulk import")
	}
}
