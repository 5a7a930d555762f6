package casefiles_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/internal/pgtest"
	"munigis/workdays"
)

type env struct {
	pool  *pgxpool.Pool
	docs  *documents.Store
	store *casefiles.Store
	// units: parent (Дирекция) with a sub-unit (Отдел), and another unit.
	parent, sub, other int64
	// users: head of the sub-unit, head of the parent, a clerk of the
	// other unit (system ids).
	subHead, parentHead, clerk string
	service                    casefiles.Service
}

// day returns a clock stuck at noon of date in Sofia.
func day(date string) func() time.Time {
	t, err := time.ParseInLocation(time.DateOnly, date, casefiles.Sofia)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t.Add(12 * time.Hour) }
}

func newEnv(t testing.TB, today string) *env {
	t.Helper()
	db := pgtest.New(t)
	e := &env{pool: db.Pool, docs: documents.NewStore(db.Pool, documents.Config{})}
	e.store = casefiles.NewStore(db.Pool, e.docs, workdays.Bulgaria())
	e.store.Now = day(today)
	ctx := context.Background()
	q := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := e.pool.QueryRow(ctx, sql, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return id
	}
	e.parent = q(`INSERT INTO units (name_bg) VALUES ('Дирекция „Устройство на територията“') RETURNING id`)
	e.sub = q(`INSERT INTO units (name_bg, parent_id) VALUES ('Отдел „Архитектура“', $1) RETURNING id`, e.parent)
	e.other = q(`INSERT INTO units (name_bg) VALUES ('Деловодство') RETURNING id`)
	user := func(first, username string, unit int64) (int64, string) {
		var id int64
		var sid string
		err := e.pool.QueryRow(ctx, `INSERT INTO users (first_name, surname, admin_body, job_title, unit_id, username,
				password_hash, role, created_by)
			VALUES ($1, 'Тестов', 'Кмет на община Троян', 'главен експерт', $2, $3, '$argon2id$test', 'planner', 'test')
			RETURNING id, system_id`, first, unit, username).Scan(&id, &sid)
		if err != nil {
			t.Fatal(err)
		}
		return id, sid
	}
	subHeadID, subHead := user("Иван", "ivan", e.sub)
	parentHeadID, parentHead := user("Мария", "maria", e.parent)
	_, clerk := user("Петър", "petar", e.other)
	e.subHead, e.parentHead, e.clerk = subHead, parentHead, clerk
	if _, err := e.pool.Exec(ctx, `UPDATE units SET head_user_id = $2 WHERE id = $1`, e.sub, subHeadID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE units SET head_user_id = $2 WHERE id = $1`, e.parent, parentHeadID); err != nil {
		t.Fatal(err)
	}
	seven, ten := 7, 10
	svc, err := e.store.CreateService(as(e.parentHead), casefiles.Service{
		Code: "T-1", Name: "Тестова услуга", StatutoryDays: &ten, InternalDays: &seven, DayKind: casefiles.WorkingDays,
		Stages: []casefiles.Stage{
			{Name: "Приемане", Days: 2, ExecutorUnitID: &e.sub, ResultTypes: []string{"receipt_confirmation"}},
			{Name: "Проверка", Description: "Проверка на редовността", Days: 3, ExecutorUnitID: &e.sub},
			{Name: "Издаване", Days: 2, ExecutorUnitID: &e.parent, Executor: "Главен архитект", ResultTypes: []string{"certificate"}},
		}})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	e.service = svc
	return e
}

// as is a context acting as user sid.
func as(sid string) context.Context {
	return munigis.WithAddress(munigis.WithActor(context.Background(), sid), "198.51.100.9")
}

func pdf(body string) *documents.Upload {
	b := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Title (" + body + ") >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return &documents.Upload{FileName: body + ".pdf", Content: bytes.NewReader(b)}
}

// doc creates a document of type typ.
func (e *env) doc(t testing.TB, name, typ string, forApplicant bool) documents.Document {
	t.Helper()
	d, err := e.docs.Create(as(e.clerk), documents.NewDocument{Name: name, TypeCode: typ, ReceivedVia: "counter",
		ForApplicant: forApplicant, File: pdf(name)})
	if err != nil {
		t.Fatalf("documents.Create(%s): %v", name, err)
	}
	return d
}

// open opens a case on a new application.
func (e *env) open(t testing.TB, name, service string, ids ...string) casefiles.Opened {
	t.Helper()
	o, err := e.store.Open(as(e.clerk), casefiles.Opening{Name: name, ServiceCode: service, Identifiers: ids,
		Document: &documents.NewDocument{Name: "Заявление: " + name, TypeCode: "application", ReceivedVia: "counter",
			ForApplicant: true, File: pdf("application " + name)}})
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	return o
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// wantErr checks err's code and that its messages contain en and bg.
func wantErr(t testing.TB, err error, code munigis.Code, en, bg string) {
	t.Helper()
	var me *munigis.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want *munigis.Error %s", err, err, code)
	}
	if me.Code != code || !strings.Contains(me.Message, en) || !strings.Contains(me.MessageBG, bg) {
		t.Fatalf("error %s %q / %q, want %s containing %q / %q", me.Code, me.Message, me.MessageBG, code, en, bg)
	}
}

func ptr[T any](v T) *T { return &v }
