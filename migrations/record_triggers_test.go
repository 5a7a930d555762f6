package migrations_test

import (
	"context"
	"strings"
	"testing"

	"munigis/internal/pgtest"
)

// The generic triggers of 000011 on a table of the test's own: what a new
// register or the case files rely on.
func TestRecordTriggers(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	exec := func(sql string) error {
		_, err := db.Pool.Exec(ctx, sql)
		return err
	}
	if err := exec(`
		CREATE TABLE t_things (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
			version int NOT NULL, created_at timestamptz NOT NULL, created_by text NOT NULL,
			updated_at timestamptz NOT NULL, updated_by text NOT NULL);
		CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON t_things FOR EACH ROW EXECUTE FUNCTION munigis_stamp();
		CREATE TRIGGER history AFTER UPDATE OR DELETE ON t_things FOR EACH ROW EXECUTE FUNCTION munigis_keep_version();
		CREATE TRIGGER audit_insert AFTER INSERT ON t_things REFERENCING NEW TABLE AS new_rows
			FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('thing');
		CREATE TRIGGER audit_update AFTER UPDATE ON t_things REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
			FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('thing');
		CREATE TRIGGER audit_delete AFTER DELETE ON t_things REFERENCING OLD TABLE AS old_rows
			FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('thing');
		CREATE TABLE t_ledger (id int PRIMARY KEY);
		CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON t_ledger FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('ledger lines');
		INSERT INTO t_ledger VALUES (1);`); err != nil {
		t.Fatal(err)
	}
	as := func(actor, sql string) error {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', $1, true)`, actor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	if err := as("U-000007", `INSERT INTO t_things (name, version, created_at, created_by, updated_at, updated_by)
		VALUES ('first', 99, '2000-01-01', 'forged', '2000-01-01', 'forged')`); err != nil {
		t.Fatal(err)
	}
	if err := as("U-000008", `UPDATE t_things SET name = 'second', created_by = 'forged again'`); err != nil {
		t.Fatal(err)
	}
	var version int
	var createdBy, updatedBy string
	if err := db.Pool.QueryRow(ctx, `SELECT version, created_by, updated_by FROM t_things`).Scan(&version, &createdBy, &updatedBy); err != nil {
		t.Fatal(err)
	}
	if version != 2 || createdBy != "U-000007" || updatedBy != "U-000008" {
		t.Errorf("stamp: version %d, created by %q, updated by %q; want 2, U-000007, U-000008", version, createdBy, updatedBy)
	}
	var oldName, replacedBy string
	if err := db.Pool.QueryRow(ctx, `SELECT data ->> 'name', replaced_by FROM record_versions
		WHERE tbl = 't_things' AND version = 1`).Scan(&oldName, &replacedBy); err != nil || oldName != "first" || replacedBy != "U-000008" {
		t.Errorf("record_versions: %q replaced by %q (%v); want first, U-000008", oldName, replacedBy, err)
	}
	if err := as("U-000009", `DELETE FROM t_things`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT action || ' ' || actor FROM audit_log WHERE object LIKE 'thing:%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if want := "thing.insert U-000007,thing.update U-000008,thing.delete U-000009"; strings.Join(got, ",") != want {
		t.Errorf("audit: %v; want %s", got, want)
	}
	if err := exec(`UPDATE t_ledger SET id = 2`); err == nil || !strings.Contains(err.Error(), "ledger lines are never changed") {
		t.Errorf("an append-only table took an update: %v", err)
	}
	if err := exec(`DELETE FROM record_versions`); err == nil {
		t.Error("record_versions lost its rows")
	}
}
