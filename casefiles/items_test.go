package casefiles_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"munigis"
	"munigis/casefiles"
)

func TestSectionsAndRemovalToControl(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	ctx := as(e.clerk)
	a := e.open(t, "Преписка А", "").CaseFile
	d2 := e.doc(t, "Становище", "internal_note", false)
	d3 := e.doc(t, "Чернова", "internal_note", false)
	d4 := e.doc(t, "Скица", "sketch", true)

	it2, err := e.store.AddItem(ctx, a.ID, casefiles.Official, &d2.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it2.Position != 2 || it2.Section != casefiles.Official || it2.Document == nil || it2.Document.Name != "Становище" {
		t.Fatalf("official item %+v, want #2 with its document", it2)
	}
	it3, err := e.store.AddItem(ctx, a.ID, casefiles.Internal, &d3.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it3.Position != 1 {
		t.Errorf("first internal item is #%d", it3.Position)
	}
	_, err = e.store.AddItem(ctx, a.ID, casefiles.Official, &d2.ID, nil)
	wantErr(t, err, munigis.Conflict, "already in the official section", "вече е в официалния")
	_, err = e.store.AddItem(ctx, a.ID, casefiles.Control, &d4.ID, nil)
	wantErr(t, err, munigis.Invalid, "control section", "контролния раздел")
	_, err = e.store.AddItem(ctx, a.ID, casefiles.Official, ptr(int64(999999)), nil)
	wantErr(t, err, munigis.Invalid, "no document 999999", "няма документ")

	// Without the right, an official document stays.
	_, err = e.store.RemoveItem(ctx, a.ID, it2.ID, "подаден по грешка", false)
	wantErr(t, err, munigis.Forbidden, "official section", "официалния раздел")
	_, err = e.store.RemoveItem(ctx, a.ID, it2.ID, "  ", true)
	wantErr(t, err, munigis.Invalid, "reason is required", "основанието")

	removed, err := e.store.RemoveItem(as(e.parentHead), a.ID, it2.ID, "подаден по грешка", true)
	if err != nil {
		t.Fatal(err)
	}
	if removed.RemovedAt == nil || removed.RemovedBy != e.parentHead || removed.RemovalNote != "подаден по грешка" {
		t.Errorf("removed item %+v", removed)
	}
	// Numbering in the official section goes on after the removed one.
	it4, err := e.store.AddItem(ctx, a.ID, casefiles.Official, &d4.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it4.Position != 3 {
		t.Errorf("next official item is #%d, want 3", it4.Position)
	}
	// An internal removal goes nowhere.
	if _, err := e.store.RemoveItem(ctx, a.ID, it3.ID, "излишна чернова", false); err != nil {
		t.Fatal(err)
	}

	got, err := e.store.Get(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		section  string
		position int
		doc      int64
		removed  bool
		moved    bool
	}
	want := []row{
		{casefiles.Official, 1, a.OpeningDocumentID, false, false},
		{casefiles.Official, 2, d2.ID, true, false},
		{casefiles.Official, 3, d4.ID, false, false},
		{casefiles.Internal, 1, d3.ID, true, false},
		{casefiles.Control, 1, d2.ID, false, true},
	}
	if len(got.Items) != len(want) {
		t.Fatalf("%d items: %+v", len(got.Items), got.Items)
	}
	for i, w := range want {
		it := got.Items[i]
		if it.Section != w.section || it.Position != w.position || *it.DocumentID != w.doc ||
			(it.RemovedAt != nil) != w.removed || (it.MovedFromID != nil) != w.moved {
			t.Errorf("item %d: %+v, want %+v", i, it, w)
		}
	}
	control := got.Items[4]
	if *control.MovedFromID != it2.ID || control.IncludedBy != e.parentHead {
		t.Errorf("control item %+v, want moved from %d by %s", control, it2.ID, e.parentHead)
	}
	_, err = e.store.RemoveItem(ctx, a.ID, control.ID, "x", true)
	wantErr(t, err, munigis.Invalid, "nothing is removed from it", "нищо не се премахва")
	_, err = e.store.RemoveItem(ctx, a.ID, it2.ID, "x", true)
	wantErr(t, err, munigis.Conflict, "already removed", "вече е премахнат")

	// Inclusions are never corrected, even from psql.
	bg := context.Background()
	const never = "an inclusion in a case file section is never changed; it can only be removed once, with a reason"
	if _, err := e.pool.Exec(bg, `UPDATE case_file_items SET included_by = 'someone' WHERE id = $1`, it4.ID); err == nil || !strings.Contains(err.Error(), never) {
		t.Errorf("included_by corrected: %v, want %q", err, never)
	}
	if _, err := e.pool.Exec(bg, `UPDATE case_file_items SET removal_reason = 'друго' WHERE id = $1`, it2.ID); err == nil || !strings.Contains(err.Error(), never) {
		t.Errorf("a removal changed: %v, want %q", err, never)
	}
	if _, err := e.pool.Exec(bg, `UPDATE case_file_items SET removal_reason = ' ' WHERE id = $1`, it4.ID); err == nil || !strings.Contains(err.Error(), never) {
		t.Errorf("removed without a reason: %v, want %q", err, never)
	}
	if _, err := e.pool.Exec(bg, `DELETE FROM case_file_items WHERE id = $1`, it4.ID); err == nil {
		t.Error("an item was deleted")
	}
}

func TestDocumentInTwoCasesAndCaseInCase(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	ctx := as(e.clerk)
	a := e.open(t, "Главна преписка", "").CaseFile
	b := e.open(t, "Свързана преписка", "").CaseFile
	shared := e.doc(t, "Протокол от оглед", "protocol", false)
	if _, err := e.store.AddItem(ctx, a.ID, casefiles.Official, &shared.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddItem(ctx, b.ID, casefiles.Official, &shared.ID, nil); err != nil {
		t.Fatalf("the same document in a second case file: %v", err)
	}

	_, err := e.store.AddItem(ctx, a.ID, casefiles.Official, nil, &b.ID)
	wantErr(t, err, munigis.Invalid, "only in the internal section", "вътрешния раздел")
	_, err = e.store.AddItem(ctx, a.ID, casefiles.Internal, nil, &a.ID)
	wantErr(t, err, munigis.Invalid, "in itself", "самата себе си")
	child, err := e.store.AddItem(ctx, a.ID, casefiles.Internal, nil, &b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if child.ChildNumber != b.Number || *child.ChildCaseID != b.ID || child.Position != 1 || child.DocumentID != nil {
		t.Errorf("child item %+v", child)
	}
	// B inside A: A cannot go inside B, nor inside C that is inside B.
	_, err = e.store.AddItem(ctx, b.ID, casefiles.Internal, nil, &a.ID)
	wantErr(t, err, munigis.Invalid, "already contains", "вече съдържа")
	c := e.open(t, "Трета", "").CaseFile
	if _, err := e.store.AddItem(ctx, b.ID, casefiles.Internal, nil, &c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.store.AddItem(ctx, c.ID, casefiles.Internal, nil, &a.ID)
	wantErr(t, err, munigis.Invalid, "already contains", "вече съдържа")

	got, err := e.store.Get(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 3 || got.Items[2].ChildNumber != b.Number {
		t.Errorf("items of A: %+v", got.Items)
	}
}

func TestAuditAndHistory(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	a := e.open(t, "Одит", "T-1").CaseFile
	d := e.doc(t, "Бележка", "internal_note", false)
	it, err := e.store.AddItem(as(e.subHead), a.ID, casefiles.Internal, &d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct{ action, object, actor string }{
		{"case_file.insert", "case_file:" + itoa(a.ID), e.clerk},
		{"case_file_item.insert", "case_file_item:" + itoa(a.Items[0].ID), e.clerk},
		{"case_file_item.insert", "case_file_item:" + itoa(it.ID), e.subHead},
		{"task.insert", "task:" + itoa(a.Tasks[0].ID), e.clerk},
	} {
		q := `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = $3 AND ($2 = '' OR object = $2) AND address = '198.51.100.9'`
		if n := count(t, e.pool, q, w.action, w.object, w.actor); n != 1 && !(w.object == "" && n > 0) {
			t.Errorf("audit %s %s by %s: %d rows", w.action, w.object, w.actor, n)
		}
	}
	// A change of the case keeps its old version and is audited.
	if _, err := e.store.Close(as(e.parentHead), a.ID, a.Version, casefiles.Cancelled); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM record_versions WHERE tbl = 'case_files' AND record_id = $1 AND version = 1`, a.ID); n != 1 {
		t.Errorf("%d old versions of the case", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'case_file.update' AND object = $1 AND actor = $2
		AND after ->> 'status' = 'cancelled'`, "case_file:"+itoa(a.ID), e.parentHead); n != 1 {
		t.Errorf("%d audit rows for the cancellation", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'task.update' AND actor = $1
		AND after ->> 'list' = 'cancelled'`, e.parentHead); n != 3 {
		t.Errorf("%d audit rows for the cancelled tasks", n)
	}
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM case_files WHERE id = $1`, a.ID); err == nil {
		t.Error("a case file was deleted")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestConcurrentInclusionsAreNumberedInOrder(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	a := e.open(t, "Едновременно", "").CaseFile
	const n = 8
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = e.doc(t, "Документ "+strconv.Itoa(i), "incoming_letter", false).ID
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.store.AddItem(as(e.clerk), a.ID, casefiles.Official, &ids[i], nil)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("AddItem %d: %v", i, err)
		}
	}
	// Positions 1..n+1 without gaps or repeats, in the order of inclusion.
	if n := count(t, e.pool, `SELECT count(*) FROM (
			SELECT position, row_number() OVER (ORDER BY id) AS k FROM case_file_items
			WHERE case_file_id = $1 AND section = 'official') s WHERE position = k`, a.ID); n != 9 {
		t.Errorf("%d of 9 official items numbered in order", n)
	}
}

func TestControlOnlyFromOfficial(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	a := e.open(t, "Контрол", "").CaseFile
	d := e.doc(t, "Вътрешен", "internal_note", false)
	it, err := e.store.AddItem(as(e.clerk), a.ID, casefiles.Internal, &d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.RemoveItem(as(e.clerk), a.ID, it.ID, "излишен", false); err != nil {
		t.Fatal(err)
	}
	// Written by hand: an internal removal is not a way into control.
	_, err = e.pool.Exec(context.Background(), `INSERT INTO case_file_items (case_file_id, section, position, document_id, moved_from)
		VALUES ($1, 'control', 1, $2, $3)`, a.ID, d.ID, it.ID)
	if err == nil {
		t.Error("an internal item was filed in control")
	}
}
