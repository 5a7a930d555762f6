package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/access"
	"munigis/accounts"
	"munigis/demo"
	"munigis/gdalio"
	"munigis/layers"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	parcels := fs.Int("parcels", 20000, "number of land parcels to generate")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same municipality")
	ekatte := fs.String("ekatte", "", "EKATTE code of the settlement (default: the demo town)")
	ifEmpty := fs.Bool("if-empty", false, "load only when the cadastre is empty (used by make run)")
	replace := fs.Bool("replace", false, "replace existing demo data (its history is kept)")
	entries := fs.Int("register-entries", 0, "register entries to generate in all: 0 the default share of the parcels, -1 none")
	caseFiles := fs.Int("case-files", 0, "case files to open and work: 0 one per 60 parcels (at least 50), -1 none")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: munigis demo [--parcels N] [--seed S] [--ekatte CODE] [--register-entries N] [--case-files N] [--if-empty] [--replace]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *parcels < 1 {
		return usagef("--parcels must be at least 1")
	}
	if *entries < -1 {
		return usagef("--register-entries must be -1 (none), 0 (the default) or a number of entries")
	}
	if *caseFiles < -1 {
		return usagef("--case-files must be -1 (none), 0 (the default) or a number of case files")
	}
	if *caseFiles >= 0 && *entries < 0 {
		return usagef("case files are opened by the demo's persons: --case-files needs the registers (drop --register-entries -1, or add --case-files -1)")
	}
	pool, err := connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *ifEmpty {
		empty, err := demo.Empty(ctx, pool)
		if err != nil {
			return err
		}
		if !empty {
			fmt.Fprintln(stdout, "the cadastre already holds data; demo not loaded (use `munigis demo --replace` to reload)")
			return demoAccounts(ctx, pool, stdout)
		}
	}
	start := time.Now()
	sum, err := demo.Load(ctx, pool, demo.Options{Parcels: *parcels, Seed: *seed, EKATTE: *ekatte,
		Progress: true, Replace: *replace, RegisterEntries: *entries}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo municipality loaded in %s:\n", time.Since(start).Round(time.Second))
	for _, l := range sum.Layers {
		fmt.Fprintf(stdout, "  %-22s %9d\n", l.Layer, l.Count)
	}
	if *entries >= 0 {
		fmt.Fprint(stdout, sum.Registers.String())
	}
	if err := demoAccounts(ctx, pool, stdout); err != nil {
		return err
	}
	if *caseFiles < 0 {
		return nil
	}
	administration := ""
	if sum.Town != "" {
		administration = "Община " + sum.Town
	}
	return demoCaseFiles(ctx, pool, *caseFiles, *seed, administration, stdout, stderr)
}

// demoCaseFiles opens and works the demo's case files as the demo clerk,
// planner and inspector, unless the register already holds case files
// (they are never deleted, so a --replace leaves them).
func demoCaseFiles(ctx context.Context, pool *pgxpool.Pool, n int, seed int64, administration string, stdout, stderr io.Writer) error {
	var existing int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM case_files`).Scan(&existing); err != nil {
		return err
	}
	if existing > 0 {
		fmt.Fprintf(stdout, "case files: %d kept from before (case files are never deleted); no demo case files added\n", existing)
		return nil
	}
	store := accounts.NewStore(pool, accounts.Config{})
	ids := map[string]string{}
	for _, name := range []string{"clerk", "planner", "inspector"} {
		u, err := store.User(ctx, name)
		if err != nil {
			return fmt.Errorf("demo case files need the demo account %q: %w", name, err)
		}
		ids[name] = u.SystemID
	}
	start := time.Now()
	c, err := demo.LoadCaseFiles(ctx, pool, demo.CaseOptions{Count: n, Seed: seed, Clerk: ids["clerk"], Planner: ids["planner"],
		Inspector: ids["inspector"], Administration: administration, Progress: true}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s  (in %s)\n", strings.TrimSuffix(c.String(), "\n"), time.Since(start).Round(time.Second))
	return nil
}

// demoAccounts creates the demo units and one user per role, each with a
// random password printed once; accounts that exist are left alone.
func demoAccounts(ctx context.Context, pool *pgxpool.Pool, stdout io.Writer) error {
	store := accounts.NewStore(pool, accounts.Config{})
	ctx = cliActor(ctx)
	units := []struct{ bg, en, parent string }{
		{"Дирекция УТ", "Spatial Planning Directorate", ""},
		{"Отдел „Контрол по строителството“", "Construction Control Department", "Дирекция УТ"},
		{"Отдел „Административно обслужване“", "Front Office Department", ""},
	}
	existing, err := store.Units(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, u := range existing {
		have[u.NameBG] = true
	}
	for _, u := range units {
		if !have[u.bg] {
			if _, err := store.CreateUnit(ctx, u.bg, u.en, u.parent); err != nil {
				return err
			}
		}
	}
	const body = "Общинска администрация"
	people := []accounts.NewUser{
		{Username: "admin", FirstName: "Асен", Patronymic: "Борисов", Surname: "Веселинов", Role: access.Admin,
			AdminBody: body, JobTitle: "Системен администратор"},
		{Username: "planner", FirstName: "Петя", Patronymic: "Иванова", Surname: "Стоянова", Role: access.Planner,
			AdminBody: body, JobTitle: "Главен архитект", Unit: "Дирекция УТ"},
		{Username: "clerk", FirstName: "Мария", Patronymic: "Георгиева", Surname: "Димитрова", Role: access.Clerk,
			AdminBody: body, JobTitle: "Старши специалист", Unit: "Отдел „Административно обслужване“"},
		{Username: "inspector", FirstName: "Иван", Patronymic: "Петров", Surname: "Николов", Role: access.Inspector,
			AdminBody: body, JobTitle: "Инспектор", Unit: "Отдел „Контрол по строителството“"},
	}
	var created []accounts.NewUser
	for _, nu := range people {
		if _, err := store.User(ctx, nu.Username); err == nil {
			continue
		} else if munigis.ErrorCode(err) != munigis.NotFound {
			return err
		}
		nu.Password = generatePassword()
		if _, err := store.CreateUser(ctx, nu); err != nil {
			return err
		}
		created = append(created, nu)
		if nu.Username == "planner" {
			if err := store.SetUnitHead(ctx, "Дирекция УТ", "planner"); err != nil {
				return err
			}
		}
	}
	if len(created) == 0 {
		return nil
	}
	fmt.Fprintln(stdout, "\ndemo accounts (the passwords are shown only now; sign in at /login):")
	for _, nu := range created {
		fmt.Fprintf(stdout, "  %-10s %-10s %s\n", nu.Username, nu.Role, nu.Password)
	}
	return nil
}

// mapFlag collects repeated --map target=source pairs.
type mapFlag map[string]string

func (m mapFlag) String() string { return fmt.Sprint(map[string]string(m)) }

func (m mapFlag) Set(s string) error {
	target, source, ok := strings.Cut(s, "=")
	if !ok || target == "" || source == "" {
		return fmt.Errorf("--map wants target=source, got %q", s)
	}
	m[target] = source
	return nil
}

// interleaved lets flags follow the positional FILE argument, as in
// `munigis import parcels.shp --layer cadastre_parcels`.
func interleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// fileAndLayer parses the flags of import and export, which take one FILE
// and a required --layer flag, bound to layer.
func fileAndLayer(fs *flag.FlagSet, args []string, layer *string, verb string) (string, error) {
	pos, err := interleaved(fs, args)
	if err != nil {
		return "", usagef("%v", err)
	}
	if len(pos) != 1 {
		return "", usagef("give exactly one FILE to %s", verb)
	}
	if *layer == "" {
		return "", usagef("--layer is required")
	}
	return pos[0], nil
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opt := gdalio.ImportOptions{Map: map[string]string{}}
	fs.StringVar(&opt.Layer, "layer", "", "target munigis layer (required)")
	fs.StringVar(&opt.SourceLayer, "source-layer", "", "layer of a multi-layer file (default: the first)")
	fs.StringVar(&opt.SRS, "srs", "", "CRS of the file when it has none or a wrong one, e.g. EPSG:7801")
	fs.StringVar(&opt.Encoding, "encoding", "", "text encoding of the attributes, e.g. CP1251")
	fs.Var(mapFlag(opt.Map), "map", "target=source: fill attribute target from source field (repeatable)")
	fs.BoolVar(&opt.MakeValid, "make-valid", false, "repair invalid geometries (ST_MakeValid) instead of refusing the file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: munigis import FILE --layer NAME [--srs EPSG:N] [--encoding CP1251] [--map target=source ...] [--make-valid]\n\nAll or nothing: one transaction; on any error nothing is written.")
		fs.PrintDefaults()
	}
	file, err := fileAndLayer(fs, args, &opt.Layer, "import")
	if err != nil {
		return err
	}
	opt.File, opt.Progress = file, true
	store, closeDB, err := openLayers(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := gdalio.Import(cliActor(ctx), store, opt, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d features from %s into %s in %s\n", res.Features, opt.File, opt.Layer, res.Elapsed.Round(time.Millisecond))
	return nil
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt gdalio.ExportOptions
	fs.StringVar(&opt.Layer, "layer", "", "munigis layer to export (required)")
	fs.StringVar(&opt.Format, "format", "GPKG", `GPKG, GeoJSON, "ESRI Shapefile" or CSV`)
	fs.StringVar(&opt.SRS, "srs", "", "CRS of the file (default EPSG:7801; EPSG:4326 for GeoJSON)")
	fs.BoolVar(&opt.Overwrite, "overwrite", false, "replace FILE if it exists")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: munigis export --layer NAME --format GPKG|GeoJSON|\"ESRI Shapefile\"|CSV FILE [--srs EPSG:N]")
		fs.PrintDefaults()
	}
	file, err := fileAndLayer(fs, args, &opt.Layer, "write")
	if err != nil {
		return err
	}
	opt.File, opt.Progress = file, true
	store, closeDB, err := openLayers(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	n, err := gdalio.Export(ctx, store, opt, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d features of %s to %s\n", n, opt.Layer, opt.File)
	return nil
}

// openLayers opens the database for the commands that work on layers;
// call the returned function when done.
func openLayers(ctx context.Context) (*layers.Store, func(), error) {
	pool, err := connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return layers.NewStore(pool), pool.Close, nil
}
