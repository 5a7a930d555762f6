package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"munigis"
	"munigis/registers"
	"munigis/spatial"
	"munigis/web"
)

func cmdRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	help := func() {
		fmt.Fprintln(stderr, `Usage:
  munigis register types                              list the registers
  munigis register define-type --file FILE.json       define a register (name, title_bg, title_en,
                                                      published, fields[]); "-" reads stdin
  munigis register list NAME [--q TEXT] [--identifier ID [--below]] [--number N]
                             [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--limit N] [--offset N]
  munigis register export NAME --format csv|xlsx [the search flags of list] > FILE`)
	}
	if len(args) == 0 {
		help()
		return usagef("say what to do with registers")
	}
	switch args[0] {
	case "types", "define-type", "list", "export":
	case "-h", "--help", "help":
		help()
		return flag.ErrHelp
	default:
		help()
		return usagef("unknown register command %q", args[0])
	}
	pool, err := connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := registers.NewStore(pool)
	ctx = cliActor(ctx)

	switch args[0] {
	case "types":
		all, err := store.Types(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPUBLISHED\tBUILT-IN\tFIELDS\tTITLE")
		for _, t := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", t.Name, yesNo(t.Published), yesNo(t.BuiltIn), len(t.Fields), t.TitleBG)
		}
		return tw.Flush()
	case "define-type":
		fs := flag.NewFlagSet("register define-type", flag.ContinueOnError)
		fs.SetOutput(stderr)
		file := fs.String("file", "", `the register definition (JSON); "-" reads stdin`)
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("%v", err)
		}
		// Like `munigis layer define-type FILE`, the file may also be given
		// without --file.
		if *file == "" && fs.NArg() == 1 {
			*file = fs.Arg(0)
		} else if fs.NArg() > 0 {
			return usagef("define-type takes one --file FILE.json")
		}
		if *file == "" {
			help()
			return usagef("define-type takes one --file FILE.json")
		}
		var r io.Reader = os.Stdin
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		var t registers.Type
		dec := json.NewDecoder(io.LimitReader(r, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return usagef("%s: not a register definition: %v", *file, err)
		}
		t.BuiltIn = false
		if _, err := store.CreateType(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "register %s defined (map layer reg_%s)\n", t.Name, t.Name)
		return nil
	}

	// list and export: NAME, then the search flags (in any order).
	name, rest := "", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("register "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var q registers.Query
	var ident, from, to, format string
	fs.StringVar(&q.Text, "q", "", "free text (Cyrillic or Latin)")
	fs.StringVar(&ident, "identifier", "", "cadastral identifier")
	fs.BoolVar(&q.Below, "below", false, "with --identifier: also the buildings and units under it")
	fs.StringVar(&q.Number, "number", "", "entry number")
	fs.Int64Var(&q.PersonID, "person", 0, "person id")
	fs.StringVar(&from, "from", "", "entries dated on or after (YYYY-MM-DD)")
	fs.StringVar(&to, "to", "", "entries dated on or before (YYYY-MM-DD)")
	fs.StringVar(&format, "format", "", "export: csv or xlsx")
	lang := fs.String("lang", "bg", "export: column titles in bg or en")
	fs.IntVar(&q.Limit, "limit", 50, "list: at most this many entries")
	fs.IntVar(&q.Offset, "offset", 0, "list: skip this many entries")
	if err := fs.Parse(rest); err != nil {
		return usagef("%v", err)
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if name == "" {
		help()
		return usagef("%s takes the register's NAME", args[0])
	}
	t, err := store.Type(ctx, name)
	if err != nil {
		return err
	}
	q.Register = t.Name
	if ident != "" {
		id, err := spatial.Parse(ident)
		if err != nil {
			return munigis.Wrap(munigis.Invalid, err, "--identifier: %s", err.Error())
		}
		q.Identifier = id.String()
	}
	for _, d := range []struct{ flag, v string }{{"--from", from}, {"--to", to}} {
		if _, err := time.Parse(time.DateOnly, d.v); d.v != "" && err != nil {
			return usagef("%s: %q is not a date (YYYY-MM-DD)", d.flag, d.v)
		}
	}
	q.DateFrom, q.DateTo = from, to

	if args[0] == "export" {
		if format != "csv" && format != "xlsx" {
			return usagef("export needs --format csv or --format xlsx")
		}
		if *lang != "bg" && *lang != "en" {
			return usagef("--lang: %q is not bg or en", *lang)
		}
		// The file goes to stdout through a buffer; the search streams,
		// so memory stays flat for any number of entries.
		bw := bufio.NewWriterSize(stdout, 64<<10)
		if err := web.ExportEntries(ctx, store, t, q, format, *lang == "en", bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	if format != "" {
		return usagef("--format is for export; list prints a table")
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return usagef("--limit must be between 1 and 1000")
	}
	n, err := store.Count(ctx, q)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNUMBER\tDATE\tSTATUS\tIDENTIFIERS\tPARTIES")
	err = store.Search(ctx, q, func(e registers.Entry) error {
		parties := make([]string, 0, len(e.Parties))
		for _, p := range e.Parties {
			parties = append(parties, p.Name)
		}
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Number, e.Date, e.Status,
			strings.Join(e.Identifiers, ","), strings.Join(parties, "; "))
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d of %d entries\n", min(int64(q.Limit), max(n-int64(q.Offset), 0)), n)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
