package casefiles_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"munigis"
	"munigis/casefiles"
)

func TestTrackShowsTheOfficialSectionOnly(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	ctx := as(e.clerk)
	o := e.open(t, "Проследяване", "T-1")
	c := o.CaseFile
	sketch := e.doc(t, "Скица", "sketch", true)
	note := e.doc(t, "Вътрешна бележка", "internal_note", true)
	wrong := e.doc(t, "Грешно приложен", "sketch", true)
	hidden := e.doc(t, "Не за заявителя", "protocol", false)
	for _, x := range []struct {
		section string
		id      int64
	}{{casefiles.Official, sketch.ID}, {casefiles.Internal, note.ID}, {casefiles.Official, wrong.ID}, {casefiles.Official, hidden.ID}} {
		if _, err := e.store.AddItem(ctx, c.ID, x.section, &x.id, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.store.Get(context.Background(), c.ID)
	var wrongItem int64
	for _, it := range got.Items {
		if it.DocumentID != nil && *it.DocumentID == wrong.ID {
			wrongItem = it.ID
		}
	}
	if _, err := e.store.RemoveItem(ctx, c.ID, wrongItem, "приложен по грешка", true); err != nil {
		t.Fatal(err)
	}

	// The code as typed from paper: lower case, no dashes.
	typed := strings.ToLower(strings.ReplaceAll(o.AccessCode, "-", ""))
	tr, err := e.store.Track(context.Background(), c.Number, typed)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, d := range tr.Documents {
		docs = append(docs, d.Name)
	}
	want := []string{"Заявление: Проследяване", "Скица", "Не за заявителя"}
	if strings.Join(docs, "|") != strings.Join(want, "|") {
		t.Fatalf("tracked documents %v, want %v", docs, want)
	}
	if d := tr.Documents[0]; d.Number != c.Number || d.ReceivedVia != "counter" || !d.Downloadable || d.Position != 1 {
		t.Errorf("opening document as tracked: %+v", d)
	}
	if tr.Documents[2].Downloadable {
		t.Error("a document not for the applicant is downloadable")
	}
	if tr.Service != "Тестова услуга" || tr.DueOn != c.DueOn || tr.Status != casefiles.Open || len(tr.Stages) != 3 {
		t.Errorf("tracking %+v", tr)
	}
	if s := tr.Stages[2]; s.Name != "Издаване" || s.Executor != "Дирекция „Устройство на територията“" || s.List != casefiles.Pending || s.PlannedEnd == "" {
		t.Errorf("stage 3 as tracked: %+v", s)
	}
	for _, s := range tr.Stages {
		if strings.Contains(s.Executor, "Иван") || strings.Contains(s.Executor, "Мария") {
			t.Errorf("a person's name is shown to the applicant: %+v", s)
		}
	}

	// A wrong code and a wrong number give the same error.
	_, errCode := e.store.Track(context.Background(), c.Number, "2222-2222-2222")
	_, errNumber := e.store.Track(context.Background(), c.Number+"9", o.AccessCode)
	var a, b *munigis.Error
	if !errors.As(errCode, &a) || !errors.As(errNumber, &b) {
		t.Fatalf("errors %v, %v", errCode, errNumber)
	}
	if a.Code != munigis.NotFound || *a != *b {
		t.Errorf("wrong code %+v, wrong number %+v: not the same", a, b)
	}
	wantErr(t, errCode, munigis.NotFound, "no case file with this number and access code", "няма преписка с този номер и код за достъп")

	// Downloads: only official, not removed, for the applicant.
	fi, body, err := e.store.TrackDocument(context.Background(), c.Number, o.AccessCode, sketch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fi.MediaType != "application/pdf" || !strings.Contains(string(body), "Скица") {
		t.Errorf("downloaded %+v %q", fi, body)
	}
	for _, id := range []int64{note.ID, wrong.ID, hidden.ID} {
		_, _, err := e.store.TrackDocument(context.Background(), c.Number, o.AccessCode, id)
		wantErr(t, err, munigis.NotFound, "no case file with this number and access code", "няма преписка")
	}
	_, _, err = e.store.TrackDocument(context.Background(), c.Number, "2222-2222-2222", sketch.ID)
	wantErr(t, err, munigis.NotFound, "no case file with this number and access code", "няма преписка")

	// A new code replaces the old one.
	code2, err := e.store.NewAccessCode(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Track(context.Background(), c.Number, o.AccessCode); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("the old code still works: %v", err)
	}
	if _, err := e.store.Track(context.Background(), c.Number, code2); err != nil {
		t.Errorf("the new code: %v", err)
	}
}
