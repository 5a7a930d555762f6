package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"

	"munigis"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/workdays"
)

// The case files of the demo municipality (issue 7): a few hundred
// applications for the building-related services of the seed (sketches,
// certificates, design approvals, building permits, …) and some citizen
// signals, opened over the last five months on the demo's parcels and
// worked through the real stores, so that every number, section, task and
// audit row is made exactly as a clerk's work would make it:
//
//   - each opens with a registered application (a short text file from
//     the applicant, one of the demo's persons) and gets its access code;
//   - stages whose planned end has passed are mostly done, each with a
//     result document (an opinion in the internal section; the issued act,
//     registered and meant for the applicant, in the official section);
//   - a case whose stages are all done is closed, a few are withdrawn, and
//     some stages are left late, so the overdue lists have something to
//     show.
//
// The stores' clocks are moved to each step's day, so dates, numbers and
// the yearly sequence follow one another as in a real register.

// CaseOptions sizes and places the demo case files.
type CaseOptions struct {
	// Count is the number of case files; 0 means one per 60 parcels
	// (about 330 at the default 20,000), at least 50.
	Count int
	Seed  int64
	// Clerk registers the applications and does the first stage; Planner
	// and Inspector the others (system ids of the demo accounts).
	Clerk, Planner, Inspector string
	// Administration names the municipality in the register's name.
	Administration string
	Progress       bool
}

// CaseCounts reports what LoadCaseFiles wrote.
type CaseCounts struct {
	CaseFiles, Closed, Cancelled, Documents, TasksDone, TasksLate int
}

func (c CaseCounts) String() string {
	return fmt.Sprintf("case files: %d (%d closed, %d withdrawn), %d documents, %d tasks done, %d late\n",
		c.CaseFiles, c.Closed, c.Cancelled, c.Documents, c.TasksDone, c.TasksLate)
}

// demoService is a service of the demo's mix and its share of the cases.
type demoService struct {
	code  string
	share float64
	// result is the document type of the act issued at the last stage.
	result string
}

var demoServices = []demoService{
	{"2027", 0.34, "sketch"},
	{"2119", 0.10, "certificate"},
	{"2082", 0.08, "certificate"},
	{"2054", 0.10, "order"},
	{"2112", 0.10, "building_permit"},
	{"2084", 0.07, "certificate"},
	{"2117", 0.04, "order"},
	{"2120", 0.05, "certificate"},
	{"signal", 0.12, "reply"},
}

// streamCases keys the PCG stream of the case files.
const streamCases = 21

var receivedVia = []string{"counter", "counter", "counter", "post", "email", "web"}

// LoadCaseFiles opens and works the demo's case files. It refuses when the
// register already holds case files: they are never deleted, so a second
// load would only pile more on.
func LoadCaseFiles(ctx context.Context, pool *pgxpool.Pool, opt CaseOptions, out io.Writer) (CaseCounts, error) {
	var c CaseCounts
	var existing int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM case_files`).Scan(&existing); err != nil {
		return c, fmt.Errorf("demo: case files: %w", err)
	}
	if existing > 0 {
		return c, munigis.Errorf(munigis.Conflict, "the register already holds %d case files; demo case files are loaded only into an empty one", existing)
	}
	var parcels []string
	rows, err := pool.Query(ctx, `SELECT identifier FROM features.cadastre_parcels ORDER BY id`)
	if err != nil {
		return c, fmt.Errorf("demo: case files: parcels: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return c, fmt.Errorf("demo: case files: parcels: %w", err)
		}
		parcels = append(parcels, id)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("demo: case files: parcels: %w", err)
	}
	if len(parcels) == 0 {
		return c, munigis.Errorf(munigis.Invalid, "load the demo cadastre first: case files are opened on its parcels")
	}
	var people []applicant
	rows, err = pool.Query(ctx, `SELECT id, name FROM persons ORDER BY id`)
	if err != nil {
		return c, fmt.Errorf("demo: case files: persons: %w", err)
	}
	for rows.Next() {
		var a applicant
		if err := rows.Scan(&a.id, &a.name); err != nil {
			rows.Close()
			return c, fmt.Errorf("demo: case files: persons: %w", err)
		}
		people = append(people, a)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("demo: case files: persons: %w", err)
	}
	if len(people) == 0 {
		return c, munigis.Errorf(munigis.Invalid, "load the demo registers first: applicants are the demo's persons")
	}

	n := opt.Count
	if n == 0 {
		n = max(50, len(parcels)/60)
	}
	seed := opt.Seed
	if seed == 0 {
		seed = DefaultSeed
	}
	rng := rand.New(rand.NewPCG(uint64(seed), streamCases))

	// One clock for both stores, moved to each step's moment.
	var clock time.Time
	now := func() time.Time { return clock }
	docs := documents.NewStore(pool, documents.Config{Now: now})
	cal := workdays.Bulgaria()
	cases := casefiles.NewStore(pool, docs, cal)
	cases.Now = now
	ctx = munigis.WithActor(ctx, opt.Clerk)
	if opt.Administration != "" {
		set, err := docs.Settings(ctx)
		if err != nil {
			return c, err
		}
		set.Administration = opt.Administration
		if _, err := docs.SetSettings(ctx, set); err != nil {
			return c, err
		}
	}

	// Opening days over the last 150 days, working days only, in order:
	// the register's numbers then follow the dates.
	today := demoToday()
	days := make([]time.Time, n)
	for i := range days {
		d := today.AddDate(0, 0, -1-rng.IntN(150))
		for !cal.IsWorkday(d) {
			d = d.AddDate(0, 0, -1)
		}
		days[i] = d
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })

	var bar *progressbar.ProgressBar
	if opt.Progress && out != nil {
		bar = progressbar.NewOptions(n, progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription("case files          "),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }))
	}
	// The work is replayed day by day, each day's steps a few minutes
	// apart, so that the register's numbers follow the time of entry as
	// in a real register: applications and issued acts interleave.
	sim := caseSim{ctx: ctx, rng: rng, cases: cases, docs: docs, clock: &clock, opt: opt, c: &c,
		services: map[string]casefiles.Service{}}
	next := 0
	for d := days[0]; d.Before(today); d = d.AddDate(0, 0, 1) {
		if !cal.IsWorkday(d) {
			continue
		}
		sim.day(d)
		for next < n && !days[next].After(d) {
			if err := sim.open(parcels, people[rng.IntN(len(people))]); err != nil {
				return c, fmt.Errorf("demo: case files: open case %d of %d: %w", next+1, n, err)
			}
			next++
			if bar != nil {
				_ = bar.Add(1)
			}
		}
		if err := sim.work(d); err != nil {
			return c, fmt.Errorf("demo: case files: %w", err)
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	for _, a := range sim.active {
		if a.late {
			c.TasksLate++
		}
	}
	return c, nil
}

// caseSim replays the demo's case work.
type caseSim struct {
	ctx      context.Context
	rng      *rand.Rand
	cases    *casefiles.Store
	docs     *documents.Store
	clock    *time.Time
	opt      CaseOptions
	c        *CaseCounts
	services map[string]casefiles.Service
	active   []*activeCase
	// minute is the time of the day's next step, after 9:00.
	today  time.Time
	minute int
}

// activeCase is an open case file and where its work stands.
type activeCase struct {
	id       int64
	number   string
	ds       demoService
	tasks    []int64 // pending when opened, in order
	next     int     // the task being worked on
	due      time.Time
	late     bool // the current task is left past its planned end
	withdraw time.Time
}

var sofiaZone = sofiaLocation()

// day starts day d; tick moves the clock to its next step.
func (s *caseSim) day(d time.Time) { s.today, s.minute = d, 0 }

func (s *caseSim) tick() {
	s.minute += 2 + s.rng.IntN(12)
	*s.clock = time.Date(s.today.Year(), s.today.Month(), s.today.Day(), 9, 0, 0, 0, sofiaZone).Add(time.Duration(s.minute) * time.Minute)
}

type applicant struct {
	id   int64
	name string
}

// open opens a case for who on one of the parcels.
func (s *caseSim) open(parcels []string, who applicant) error {
	ds := pickService(s.rng)
	svc, ok := s.services[ds.code]
	if !ok {
		var err error
		if svc, err = s.cases.Service(s.ctx, ds.code); err != nil {
			return fmt.Errorf("service %s: %w", ds.code, err)
		}
		s.services[ds.code] = svc
	}
	parcel := parcels[s.rng.IntN(len(parcels))]
	typ, docName := "application", "Заявление: "+svc.Name
	if ds.code == "signal" {
		typ, docName = "signal", "Сигнал за имот "+parcel
	}
	s.tick()
	body := fmt.Sprintf("%s\n\nЗаявител: %s\nИмот: %s\nДата: %s\n", docName, who.name, parcel, s.clock.In(sofiaZone).Format("02.01.2006"))
	opened, err := s.cases.Open(s.ctx, casefiles.Opening{
		Name:        svc.Name + " — ПИ " + parcel,
		ServiceCode: svc.Code,
		Document: &documents.NewDocument{Name: docName, TypeCode: typ, Direction: documents.Incoming,
			Author: who.name, AuthorPersonID: &who.id, ReceivedVia: receivedVia[s.rng.IntN(len(receivedVia))],
			File: &documents.Upload{FileName: "zayavlenie.txt", Content: strings.NewReader(body)}},
		Identifiers:       []string{parcel},
		ApplicantPersonID: &who.id,
		ExecutorSystemID:  s.opt.Clerk,
	})
	if err != nil {
		return err
	}
	s.c.CaseFiles++
	s.c.Documents++
	a := &activeCase{id: opened.CaseFile.ID, number: opened.CaseFile.Number, ds: ds}
	for _, t := range opened.CaseFile.Tasks {
		if t.List == casefiles.Pending {
			a.tasks = append(a.tasks, t.ID)
		}
	}
	if s.rng.Float64() < 0.03 {
		a.withdraw = s.today.AddDate(0, 0, 2) // the applicant withdraws
	}
	s.active = append(s.active, a)
	return nil
}

// work does on day d every step that falls due: withdrawals, and the
// current task of each case whose (jittered) end has come.
func (s *caseSim) work(d time.Time) error {
	keep := s.active[:0]
	for _, a := range s.active {
		finished, err := s.step(a, d)
		if err != nil {
			return fmt.Errorf("case %s: %w", a.number, err)
		}
		if !finished {
			keep = append(keep, a)
		}
	}
	s.active = keep
	return nil
}

func (s *caseSim) step(a *activeCase, d time.Time) (finished bool, err error) {
	if !a.withdraw.IsZero() && !a.withdraw.After(d) {
		cf, err := s.cases.Get(s.ctx, a.id)
		if err != nil {
			return false, err
		}
		s.tick()
		if _, err := s.cases.Close(s.ctx, a.id, cf.Version, casefiles.Cancelled); err != nil {
			return false, err
		}
		s.c.Cancelled++
		return true, nil
	}
	for a.next < len(a.tasks) {
		t, err := s.cases.Task(s.ctx, a.tasks[a.next])
		if err != nil {
			return false, err
		}
		if a.due.IsZero() {
			// Decide once when this stage ends: a few days before its
			// planned end, on it, or — for some — left late.
			end, err := time.Parse(time.DateOnly, t.PlannedEnd)
			if err != nil {
				return false, fmt.Errorf("task %d planned end %q: %w", t.ID, t.PlannedEnd, err)
			}
			a.due = end.AddDate(0, 0, s.rng.IntN(5)-3)
			if s.rng.Float64() < 0.12 {
				a.due = a.due.AddDate(0, 0, 20+s.rng.IntN(60))
			}
		}
		a.late = t.PlannedEnd < d.Format(time.DateOnly)
		start := t.ActualStart
		if start == "" {
			start = t.PlannedStart
		}
		if a.due.After(d) || start > d.Format(time.DateOnly) {
			return false, nil
		}
		executor := s.opt.Planner
		if a.next == 0 {
			executor = s.opt.Clerk
		} else if a.ds.code == "signal" || s.rng.Float64() < 0.2 {
			executor = s.opt.Inspector
		}
		s.tick()
		if t.ExecutorSystemID != executor {
			tu := casefiles.TaskUpdate{ID: t.ID, Version: t.Version, ExecutorSystemID: &executor}
			if t, err = s.cases.UpdateTask(s.ctx, tu); err != nil {
				return false, err
			}
		}
		last := a.next == len(a.tasks)-1
		nd := documents.NewDocument{Name: "Становище по " + a.number + ": " + t.Name, TypeCode: "internal_note",
			Direction: documents.Internal, Author: "Общинска администрация",
			File: &documents.Upload{FileName: "stanovishte.txt", Content: strings.NewReader("Становище: " + t.Name + "\n")}}
		section := casefiles.Internal
		if last {
			// The issued act: registered before it is sent (Art. 101) and
			// meant for the applicant.
			name := resultName(a.ds, a.number)
			nd = documents.NewDocument{Name: name, TypeCode: a.ds.result, Direction: documents.Outgoing,
				Author: "Общинска администрация", Signatory: "Кмет на общината", ForApplicant: true, Register: true,
				File: &documents.Upload{FileName: "akt.txt", Content: strings.NewReader(name + "\n")}}
			section = casefiles.Official
		}
		// The executor writes the result and closes the task.
		ctx := munigis.WithActor(s.ctx, executor)
		doc, err := s.docs.Create(ctx, nd)
		if err != nil {
			return false, err
		}
		s.c.Documents++
		if _, err := s.cases.AddItem(ctx, a.id, section, &doc.ID, nil); err != nil {
			return false, err
		}
		endS := d.Format(time.DateOnly)
		results := []int64{doc.ID}
		if _, err := s.cases.CompleteTask(ctx, casefiles.TaskUpdate{ID: t.ID, Version: t.Version,
			ActualStart: &start, ActualEnd: &endS, Results: &results}); err != nil {
			return false, err
		}
		s.c.TasksDone++
		a.next++
		a.due, a.late = time.Time{}, false
	}
	cf, err := s.cases.Get(s.ctx, a.id)
	if err != nil {
		return false, err
	}
	s.tick()
	if _, err := s.cases.Close(s.ctx, a.id, cf.Version, casefiles.Closed); err != nil {
		return false, err
	}
	s.c.Closed++
	return true, nil
}

func resultName(ds demoService, number string) string {
	switch ds.result {
	case "sketch":
		return "Скица на поземлен имот по " + number
	case "building_permit":
		return "Разрешение за строеж по " + number
	case "order":
		return "Заповед по " + number
	case "reply":
		return "Отговор на сигнал " + number
	}
	return "Удостоверение по " + number
}

func pickService(rng *rand.Rand) demoService {
	x := rng.Float64()
	for _, s := range demoServices {
		if x < s.share {
			return s
		}
		x -= s.share
	}
	return demoServices[0]
}

func sofiaLocation() *time.Location {
	loc, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return loc
}
