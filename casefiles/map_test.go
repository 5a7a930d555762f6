package casefiles_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/casefiles"
	"munigis/demo"
)

func TestRelatedAndTheMapLayer(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	bg := context.Background()
	if _, err := demo.Load(bg, e.pool, demo.Options{Parcels: 300}, io.Discard); err != nil {
		t.Fatal(err)
	}
	// A building, its parcel, and another parcel.
	var building, parcel, other string
	if err := e.pool.QueryRow(bg, `SELECT b.identifier, p.identifier FROM features.cadastre_buildings b
		JOIN features.cadastre_parcels p ON b.identifier LIKE p.identifier || '.%' ORDER BY b.identifier LIMIT 1`).Scan(&building, &parcel); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(bg, `SELECT identifier FROM features.cadastre_parcels WHERE identifier <> $1
		ORDER BY identifier LIMIT 1`, parcel).Scan(&other); err != nil {
		t.Fatal(err)
	}

	older := e.open(t, "Търпимост на сграда", "2084", building)
	newer := e.open(t, "Скица на имот", "2027", parcel)
	e.open(t, "Друг имот", "2027", other)

	rel, err := e.store.Related(bg, parcel)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel) != 2 || rel[0].ID != newer.CaseFile.ID || rel[1].ID != older.CaseFile.ID {
		t.Fatalf("related to %s: %+v, want the parcel's case then the building's", parcel, rel)
	}
	if rel[1].Identifier != building || rel[1].Service != "2084" || rel[0].Identifier != parcel || rel[0].OpenedOn == "" {
		t.Errorf("summaries %+v", rel)
	}
	if rel, _ := e.store.Related(bg, building); len(rel) != 1 || rel[0].ID != older.CaseFile.ID {
		t.Errorf("related to the building: %+v", rel)
	}
	list, total, err := e.store.List(bg, casefiles.Query{Identifier: parcel, Below: true})
	if err != nil || total != 2 || len(list) != 2 || list[1].Identifiers[0] != building {
		t.Errorf("List below %s: %d %+v %v", parcel, total, list, err)
	}

	// The layer draws the linked parcel where the cadastre has it.
	var same bool
	var number, status string
	if err := e.pool.QueryRow(bg, `SELECT v.number, v.status, ST_Equals(v.geom, p.geom) AND ST_Equals(v.geom_3857, p.geom_3857)
		FROM features.case_files v JOIN features.cadastre_parcels p ON p.identifier = v.identifier
		WHERE v.case_file_id = $1`, newer.CaseFile.ID).Scan(&number, &status, &same); err != nil {
		t.Fatal(err)
	}
	if !same || number != newer.CaseFile.Number || status != casefiles.Open {
		t.Errorf("layer row: %s %s same geometry %v", number, status, same)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM layers WHERE name = 'case_files' AND source = 'case_files' AND visibility = 'internal'`); n != 1 {
		t.Error("no case_files catalog layer")
	}

	// A status change and a link drop the tiles of the case's area.
	listen, err := pgx.Connect(bg, connString(e))
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(bg)
	if _, err := listen.Exec(bg, `LISTEN munigis_tiles`); err != nil {
		t.Fatal(err)
	}
	waitTiles := func(what string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		for {
			n, err := listen.WaitForNotification(wctx)
			if err != nil {
				t.Fatalf("%s: no tile notification for case_files: %v", what, err)
			}
			var m struct {
				Layer string    `json:"layer"`
				BBox  []float64 `json:"bbox"`
			}
			if json.Unmarshal([]byte(n.Payload), &m) == nil && m.Layer == "case_files" && len(m.BBox) == 4 {
				return
			}
		}
	}
	if _, err := e.store.Close(as(e.clerk), newer.CaseFile.ID, newer.CaseFile.Version, casefiles.Cancelled); err != nil {
		t.Fatal(err)
	}
	waitTiles("cancel")

	// A feature link keeps the geometry the feature had.
	var fid int64
	if err := e.pool.QueryRow(bg, `SELECT id FROM features.cadastre_parcels WHERE identifier = $1`, other).Scan(&fid); err != nil {
		t.Fatal(err)
	}
	c, err := e.store.Link(as(e.clerk), older.CaseFile.ID, nil, []casefiles.FeatureLink{{Layer: "cadastre_parcels", FeatureID: fid}})
	if err != nil {
		t.Fatal(err)
	}
	waitTiles("link")
	if len(c.Features) != 1 || c.Features[0].FeatureID != fid {
		t.Errorf("features %+v", c.Features)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM features.case_files WHERE case_file_id = $1`, older.CaseFile.ID); n != 2 {
		t.Errorf("%d layer rows for the building case and the feature", n)
	}
	_, err = e.store.Link(as(e.clerk), older.CaseFile.ID, nil, []casefiles.FeatureLink{{Layer: "cadastre_parcels", FeatureID: -1}})
	if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), "no feature -1") {
		t.Errorf("link to a missing feature: %v", err)
	}
	c, err = e.store.Unlink(as(e.clerk), older.CaseFile.ID, []string{building}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitTiles("unlink")
	if len(c.Identifiers) != 0 {
		t.Errorf("identifiers after unlink %v", c.Identifiers)
	}
	if rel, _ := e.store.Related(bg, parcel); len(rel) != 1 {
		t.Errorf("related after unlink: %+v", rel)
	}
	_, err = e.store.Unlink(as(e.clerk), older.CaseFile.ID, []string{building}, nil)
	wantErr(t, err, munigis.Invalid, "is not linked to", "не е свързана")
	// The unlinked link stays as history.
	if n := count(t, e.pool, `SELECT count(*) FROM case_file_objects WHERE case_file_id = $1 AND unlinked_by = $2`, older.CaseFile.ID, e.clerk); n != 1 {
		t.Errorf("%d unlinked rows", n)
	}
}

func connString(e *env) string {
	return e.pool.Config().ConnString()
}
