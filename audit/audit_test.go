package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis/audit"
	"munigis/internal/pgtest"
	"munigis/internal/postgis"
)

const parcel = `INSERT INTO features.cadastre_parcels (geom, identifier, area_m2, land_use)
	SELECT ST_Multi(ST_MakeEnvelope(490000 + i * 20, 4735000, 490010 + i * 20, 4735010, 7801)), '68134.100.' || i, 100, 'нива'
	FROM generate_series($1::int, $2::int) i`

func count(t *testing.T, db audit.Querier, where string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustVerify(t *testing.T, db audit.Querier) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestFeatureChangesAudited(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	err := postgis.Tx(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', 'U-000007', true), set_config('munigis.address', '192.0.2.1', true)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, parcel, 1, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE features.cadastre_parcels SET area_m2 = 250 WHERE identifier = '68134.100.1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM features.cadastre_parcels WHERE identifier = '68134.100.1'`); err != nil {
		t.Fatal(err)
	}
	got, total, err := audit.List(ctx, db.Pool, audit.Filter{Object: "layer:cadastre_parcels"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 3 || len(got) != 3 {
		t.Fatalf("want 3 audit rows for the layer, got %d (%d listed)", total, len(got))
	}
	del, upd, ins := got[0], got[1], got[2] // newest first
	type values struct {
		Layer    string           `json:"layer"`
		IDs      []int64          `json:"ids"`
		Features []map[string]any `json:"features"`
	}
	parse := func(raw json.RawMessage) values {
		var v values
		if raw == nil {
			return v
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return v
	}
	if ins.Action != "feature.insert" || ins.Actor != "U-000007" || ins.Address != "192.0.2.1" || ins.Before != nil {
		t.Errorf("insert row: %+v", ins)
	}
	if a := parse(ins.After); a.Layer != "cadastre_parcels" || len(a.Features) != 1 || a.Features[0]["area_m2"] != 100.0 {
		t.Errorf("insert after: %s", ins.After)
	}
	if !strings.HasPrefix(ins.Object, "layer:cadastre_parcels/") {
		t.Errorf("insert object %q", ins.Object)
	}
	if _, hasGeom := parse(ins.After).Features[0]["geom"]; !hasGeom {
		t.Errorf("the geometry is not recorded: %s", ins.After)
	}
	if upd.Action != "feature.update" || upd.Actor != "db:postgres" {
		t.Errorf("update row: %+v", upd)
	}
	if b, a := parse(upd.Before), parse(upd.After); len(b.Features) != 1 || b.Features[0]["area_m2"] != 100.0 ||
		len(a.Features) != 1 || a.Features[0]["area_m2"] != 250.0 || a.Features[0]["version"] != 2.0 {
		t.Errorf("update before/after: %s / %s", upd.Before, upd.After)
	}
	if del.Action != "feature.delete" || del.After != nil || parse(del.Before).Features[0]["area_m2"] != 250.0 {
		t.Errorf("delete row: %+v %s", del, del.Before)
	}
	if !ins.At.Equal(ins.At.Truncate(time.Second)) || ins.At.Location() != time.UTC {
		t.Errorf("time %v is not whole seconds in UTC", ins.At)
	}
	if rep := mustVerify(t, db.Pool); !rep.OK() || rep.Rows != 3 {
		t.Fatalf("verify: %+v", rep)
	}
}

func TestCatalogChangesAudited(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO layer_types (name, title_bg, title_en, geometry_type, attributes) VALUES
		  ('benches', 'Пейки', 'Benches', 'Point', '[{"name":"colour","type":"text","title_bg":"Цвят","title_en":"Colour"}]');
		INSERT INTO layers (name, layer_type, title_bg, title_en) VALUES ('benches', 'benches', 'Пейки', 'Benches');
		UPDATE layers SET visibility = 'public' WHERE name = 'benches';`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ action, object string }{
		{"layer_type.create", "layer_type:benches"}, {"layer.create", "layer:benches"}, {"layer.update", "layer:benches"},
	} {
		if n := count(t, db.Pool, `action = $1 AND object = $2`, c.action, c.object); n != 1 {
			t.Errorf("%s %s: %d rows", c.action, c.object, n)
		}
	}
	var before, after string
	if err := db.Pool.QueryRow(ctx, `SELECT before->>'visibility', after->>'visibility' FROM audit_log WHERE action = 'layer.update'`).Scan(&before, &after); err != nil {
		t.Fatal(err)
	}
	if before != "internal" || after != "public" {
		t.Errorf("layer.update visibility %s -> %s", before, after)
	}
}

// The application role creates a layer: the table belongs to the owner,
// carries the audit triggers, and the application may edit its features.
func TestAppRoleCreatesAuditedLayer(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	app, err := postgis.Open(ctx, postgis.Config{URL: db.URL, MaxConns: 2, Role: "munigis_app"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var who string
	if err := app.QueryRow(ctx, `SELECT current_user`).Scan(&who); err != nil || who != "munigis_app" {
		t.Fatalf("current_user %q, %v", who, err)
	}
	if _, err := app.Exec(ctx, `
		INSERT INTO layer_types (name, title_bg, title_en, geometry_type, attributes) VALUES
		  ('benches', 'Пейки', 'Benches', 'Point', '[{"name":"colour","type":"text","title_bg":"Цвят","title_en":"Colour"}]');
		INSERT INTO layers (name, layer_type, title_bg, title_en) VALUES ('benches', 'benches', 'Пейки', 'Benches');
		SELECT munigis_create_layer_table('benches');
		INSERT INTO features.benches (geom, colour) VALUES (ST_SetSRID(ST_MakePoint(490200, 4735970), 7801), 'зелен');
		UPDATE features.benches SET colour = 'червен';
		INSERT INTO features.cadastre_parcels (geom, identifier) VALUES
		  (ST_Multi(ST_MakeEnvelope(490000, 4735000, 490010, 4735010, 7801)), '68134.100.1');`); err != nil {
		t.Fatal(err)
	}
	var owner string
	if err := db.Pool.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE schemaname = 'features' AND tablename = 'benches'`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner == "munigis_app" {
		t.Errorf("the feature table belongs to the application role")
	}
	if n := count(t, db.Pool, `object LIKE 'layer:benches/%' AND action IN ('feature.insert', 'feature.update')`); n != 2 {
		t.Errorf("benches: %d feature audit rows, want 2", n)
	}
	if _, err := app.Exec(ctx, `ALTER TABLE features.benches DISABLE TRIGGER audit_insert`); !isCode(err, "42501") {
		t.Errorf("the application disabled an audit trigger: %v", err)
	}
	if _, err := app.Exec(ctx, `UPDATE audit_head SET last_id = 0`); !isCode(err, "42501") {
		t.Errorf("the application wrote the chain's head: %v", err)
	}
	if rep := mustVerify(t, app); !rep.OK() {
		t.Fatalf("verify: %+v", rep.Broken)
	}
}

func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

func TestAppendOnly(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := audit.Record(ctx, db.Pool, "sign_in", "user:U-000001", nil, nil, "10.1.2.3"); err != nil {
		t.Fatal(err)
	}
	// As the owner (the superuser postgres): the triggers refuse.
	for _, q := range []string{
		`UPDATE audit_log SET actor = 'forged'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`TRUNCATE audit_log_default`,
		fmt.Sprintf(`TRUNCATE audit_log_%d`, time.Now().UTC().Year()),
		fmt.Sprintf(`UPDATE audit_log_%d SET actor = 'forged'`, time.Now().UTC().Year()),
	} {
		if _, err := db.Pool.Exec(ctx, q); !isCode(err, "MG010") {
			t.Errorf("%s as owner: want the append-only error, got %v", q, err)
		}
	}
	// As the application role: no right to.
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET ROLE munigis_app`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), `RESET ROLE`)
	for _, q := range []string{
		`UPDATE audit_log SET actor = 'forged'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		fmt.Sprintf(`UPDATE audit_log_%d SET actor = 'forged'`, time.Now().UTC().Year()),
	} {
		_, err := conn.Exec(ctx, q)
		if !isCode(err, "42501") || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as munigis_app: want permission denied, got %v", q, err)
		}
	}
	// It may append, and read.
	if err := audit.Record(ctx, conn, "sign_out", "user:U-000001", nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	// It may not choose the time.
	if _, err := conn.Exec(ctx, `INSERT INTO audit_log (actor, action, at) VALUES ('x', 'forged', now() - interval '1 day')`); !isCode(err, "MG010") {
		t.Errorf("backdated insert: %v", err)
	}
	// A plain INSERT is chained too.
	if _, err := conn.Exec(ctx, `INSERT INTO audit_log (action, object) VALUES ('test.plain', 'x')`); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, conn); !rep.OK() || rep.Rows != 3 {
		t.Fatalf("verify: %+v %v", rep, rep.Broken)
	}
	if n := count(t, conn, `actor = 'forged'`); n != 0 {
		t.Fatalf("%d forged rows", n)
	}
}

// A superuser bypasses the triggers and edits or removes rows: Verify
// names the row.
func TestVerifyDetectsTampering(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		if err := audit.Record(ctx, db.Pool, "grant", fmt.Sprintf("layer:l%d", i), map[string]any{"role": "clerk"}, map[string]any{"role": "planner"}, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, lastID(t, db.Pool))
	}
	if rep := mustVerify(t, db.Pool); !rep.OK() || rep.Rows != 5 || rep.LastID != ids[4] {
		t.Fatalf("intact chain: %+v", rep)
	}
	tamper := func(sql string, args ...any) {
		t.Helper()
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A changed value (jsonb), row 3.
	tamper(`UPDATE audit_log SET after = '{"role": "admin"}' WHERE id = $1`, ids[2])
	rep := mustVerify(t, db.Pool)
	if rep.OK() || rep.Broken.ID != ids[2] || !strings.Contains(rep.Broken.Reason, "contents") {
		t.Fatalf("changed row %d: %+v %v", ids[2], rep, rep.Broken)
	}

	// Fresh chain for the next cases.
	db = pgtest.New(t)
	ids = ids[:0]
	for i := range 5 {
		if err := audit.Record(ctx, db.Pool, "grant", fmt.Sprintf("layer:l%d", i), nil, nil, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, lastID(t, db.Pool))
	}
	// A sub-second change of the time, with the trigger disabled the other way.
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER append_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE audit_log DROP CONSTRAINT audit_log_at_check`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET at = at + interval '1 microsecond' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db.Pool); rep.OK() || rep.Broken.ID != ids[1] {
		t.Fatalf("retimed row %d: %+v", ids[1], rep.Broken)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET at = at - interval '1 microsecond' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db.Pool); !rep.OK() {
		t.Fatalf("restored: %+v", rep.Broken)
	}
	// A removed row: the next one is named.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_log WHERE id = $1`, ids[2]); err != nil {
		t.Fatal(err)
	}
	rep = mustVerify(t, db.Pool)
	if rep.OK() || rep.Broken.ID != ids[3] || !strings.Contains(rep.Broken.Reason, "removed") {
		t.Fatalf("deleted row %d: %+v %v", ids[2], rep, rep.Broken)
	}
	// Removed rows at the end: the head shows it.
	db = pgtest.New(t)
	for i := range 3 {
		if err := audit.Record(ctx, db.Pool, "grant", fmt.Sprintf("layer:l%d", i), nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER append_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db.Pool); rep.OK() || !strings.Contains(rep.Broken.Reason, "end") {
		t.Fatalf("deleted last row: %+v", rep)
	}
}

func TestConcurrentAppends(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Half the workers use REPEATABLE READ, where a concurrent
				// append is a serialization failure to retry.
				opts := pgx.TxOptions{}
				if w%2 == 1 {
					opts.IsoLevel = pgx.RepeatableRead
				}
				for {
					err := pgx.BeginTxFunc(ctx, db.Pool, opts, func(tx pgx.Tx) error {
						err := audit.Record(ctx, tx, "test.concurrent", fmt.Sprintf("worker:%d/%d", w, i), nil, map[string]int{"i": i}, "")
						if err != nil {
							return err
						}
						// Something else in the same transaction, while the head is held.
						_, err = tx.Exec(ctx, `SELECT pg_sleep(0.001)`)
						return err
					})
					if isCode(err, "40001") {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep := mustVerify(t, db.Pool)
	if !rep.OK() || rep.Rows != workers*each {
		t.Fatalf("verify after concurrent appends: rows %d, %v", rep.Rows, rep.Broken)
	}
}

func TestListFilter(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	rec := func(actor, action, object string) {
		t.Helper()
		err := postgis.Tx(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', $1, true)`, actor); err != nil {
				return err
			}
			err := audit.Record(ctx, tx, action, object, nil, nil, "")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rec("U-000001", "sign_in", "user:U-000001")
	rec("U-000001", "grant", "layer:cadastre_parcels")
	rec("U-000002", "sign_in", "user:U-000002")
	rec("U-000002", "feature.update", "layer:cadastre_parcels/7")
	rec("U-000002", "feature.update", "layer:cadastre_parcels_old/7") // not under layer:cadastre_parcels
	rec("U-000003", "sign_in_failed", "user:U-000010")                // "user:U-00001" must not match it

	check := func(f audit.Filter, want int64, wantFirst string) {
		t.Helper()
		got, total, err := audit.List(ctx, db.Pool, f)
		if err != nil {
			t.Fatal(err)
		}
		if total != want {
			t.Errorf("%+v: total %d, want %d", f, total, want)
		}
		if wantFirst != "" && (len(got) == 0 || got[0].Object != wantFirst) {
			t.Errorf("%+v: first %+v, want object %s", f, got, wantFirst)
		}
	}
	check(audit.Filter{}, 6, "user:U-000010")
	check(audit.Filter{Object: "layer:cadastre_parcels"}, 2, "layer:cadastre_parcels/7")
	check(audit.Filter{Object: "user:U-00001"}, 0, "")
	check(audit.Filter{Actor: "U-000002"}, 3, "layer:cadastre_parcels_old/7")
	check(audit.Filter{Actor: "U-000002", Object: "user:U-000002"}, 1, "user:U-000002")
	now := time.Now()
	check(audit.Filter{From: now.Add(-time.Hour), To: now.Add(time.Hour)}, 6, "")
	check(audit.Filter{From: now.Add(time.Hour)}, 0, "")
	check(audit.Filter{To: now.Add(-time.Hour)}, 0, "")

	page, total, err := audit.List(ctx, db.Pool, audit.Filter{Limit: 2, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if total != 6 || len(page) != 2 || page[0].Object != "layer:cadastre_parcels/7" {
		t.Errorf("page: total %d, %+v", total, page)
	}
}

// An import of many features writes one audit row per 10,000 features, and
// above 100 features records ids and versions instead of values.
func TestBulkImportBounded(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, parcel, 1, 1000); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db.Pool, `action = 'feature.insert'`); n != 1 {
		t.Fatalf("1000-feature insert: %d audit rows, want 1", n)
	}
	var ids, versions int
	if err := db.Pool.QueryRow(ctx, `SELECT jsonb_array_length(after->'ids'), jsonb_array_length(after->'versions') FROM audit_log`).Scan(&ids, &versions); err != nil {
		t.Fatal(err)
	}
	if ids != 1000 || versions != 1000 {
		t.Errorf("ids %d, versions %d", ids, versions)
	}
	if _, err := db.Pool.Exec(ctx, parcel, 1001, 26000); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db.Pool, `action = 'feature.insert'`); n != 1+3 {
		t.Fatalf("25,000 more: %d audit rows, want 4", n)
	}
	if n := count(t, db.Pool, `action = 'feature.insert' AND after ? 'versions' AND NOT after ? 'features'`); n != 4 {
		t.Errorf("large statement rows with versions instead of values: %d", n)
	}
	var total int
	if err := db.Pool.QueryRow(ctx, `SELECT sum(jsonb_array_length(after->'ids')) FROM audit_log`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 26000 {
		t.Errorf("ids recorded %d, want 26000", total)
	}
	// A statement of up to 100 features copies their values.
	if _, err := db.Pool.Exec(ctx, parcel, 26001, 26100); err != nil {
		t.Fatal(err)
	}
	var feats int
	if err := db.Pool.QueryRow(ctx, `SELECT jsonb_array_length(after->'features') FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&feats); err != nil {
		t.Fatal(err)
	}
	if feats != 100 {
		t.Errorf("100-feature insert: %d features copied", feats)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE features.cadastre_parcels SET area_m2 = 5 WHERE id <= 15000`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db.Pool, `action = 'feature.update'`); n != 2 {
		t.Errorf("15,000-feature update: %d audit rows, want 2", n)
	}
	if rep := mustVerify(t, db.Pool); !rep.OK() {
		t.Fatal(rep.Broken)
	}
}

// lastID is the id of the newest chained row (a record is chained, and
// gets its id, when its transaction commits).
func lastID(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT max(id) FROM audit_log`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLongTransactionDoesNotHoldTheChain: a transaction that recorded an
// event and is still running (an import, say) must not make a sign-in
// wait; records are chained when they commit.
func TestLongTransactionDoesNotHoldTheChain(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	long, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Rollback(ctx)
	if err := audit.Record(ctx, long, "feature.insert", "layer:x", nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := audit.Record(quick, db.Pool, "sign_in", "user:someone", nil, nil, ""); err != nil {
		t.Fatalf("a sign-in waited for a running transaction that had recorded an event: %v", err)
	}
	if err := long.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var actions []string
	rows, _ := db.Pool.Query(ctx, `SELECT action FROM audit_log ORDER BY id`)
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if strings.Join(actions, ",") != "sign_in,feature.insert" {
		t.Errorf("chain order = %v, want the sign-in first (it committed first)", actions)
	}
	if rep := mustVerify(t, db.Pool); !rep.OK() || rep.Rows != 2 {
		t.Errorf("verify = %+v", rep)
	}
}

// A layer's attributes may carry any valid name, also names the audit
// trigger uses for itself (it once failed every insert into a layer with an
// attribute called n: 'column reference "n" is ambiguous').
func TestAttributeNamesDoNotClashWithTheAuditTrigger(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	names := []string{"n", "r", "o", "nr", "s", "c", "v", "ov", "nv", "chunk", "copy_limit", "v_action", "v_layer", "oversion", "nversion", "b"}
	var attrs []string
	for _, n := range names {
		attrs = append(attrs, fmt.Sprintf(`{"name": %q, "type": "integer", "title_bg": %q, "title_en": %q}`, n, n, n))
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO layer_types (name, title_bg, title_en, geometry_type, attributes)
		VALUES ('clash', 'Сблъсък', 'Clash', 'Point', $1::jsonb)`, "["+strings.Join(attrs, ",")+"]"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO layers (name, layer_type, title_bg, title_en, visibility) VALUES ('clash', 'clash', 'Сблъсък', 'Clash', 'public')`,
		`SELECT munigis_create_layer_table('clash')`,
		`INSERT INTO features.clash (geom, n, r, c, v) VALUES (ST_SetSRID(ST_MakePoint(490000, 4735000), 7801), 1, 2, 3, 4)`,
		`UPDATE features.clash SET n = 5, o = 6`,
		`DELETE FROM features.clash`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	got, total, err := audit.List(ctx, db.Pool, audit.Filter{Object: "layer:clash"})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the three feature changes, then the layer's creation.
	if total != 4 || got[1].Action != "feature.update" || !strings.Contains(string(got[1].After), `"n": 5`) || !strings.Contains(string(got[1].Before), `"n": 1`) {
		t.Fatalf("audit of the clash layer: %d rows; update %s → %s", total, got[1].Before, got[1].After)
	}
}
