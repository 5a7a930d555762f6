package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"munigis/documents"
)

// cmdODR looks after the official document register (Art. 23–31) from the
// command line: its name and registration index, and the completeness
// check that an operator runs from cron (exit code 1 when numbers are
// missing, so the check can page someone).
func cmdODR(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	help := func() {
		fmt.Fprintln(stderr, `Usage:
  munigis odr show                                    the register's name, index and state
  munigis odr set [--index INDEX] [--administration "Община Троян"]
  munigis odr list [--year YYYY] [--q TEXT] [--limit N] [--offset N]
  munigis odr check [--year YYYY]                     completeness: missing numbers, corrections
                                                      (exit code 1 when a number is missing)`)
	}
	if len(args) == 0 {
		help()
		return usagef("say what to do with the official document register")
	}
	switch args[0] {
	case "show", "set", "list", "check":
	case "-h", "--help", "help":
		help()
		return flag.ErrHelp
	default:
		help()
		return usagef("unknown odr command %q", args[0])
	}
	fs := flag.NewFlagSet("odr "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	index := fs.String("index", "", "the registration index (the register's number in the register of registers)")
	admin := fs.String("administration", "", `the administration that keeps it, e.g. "Община Троян"`)
	year := fs.Int("year", 0, "the calendar year (default: this year in Europe/Sofia)")
	q := fs.String("q", "", "text in the number or the document's name")
	limit := fs.Int("limit", 50, "entries per page")
	offset := fs.Int("offset", 0, "entries to skip")
	if err := fs.Parse(args[1:]); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *year == 0 {
		*year = time.Now().In(sofia()).Year()
	}
	pool, err := connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := documents.NewStore(pool, documents.Config{})
	ctx = cliActor(ctx)

	switch args[0] {
	case "show", "set":
		s, err := store.Settings(ctx)
		if err != nil {
			return err
		}
		if args[0] == "set" {
			if *index == "" && *admin == "" {
				return usagef("odr set needs --index or --administration")
			}
			if *index != "" {
				s.Index = *index
			}
			if *admin != "" {
				s.Administration = *admin
			}
			if s, err = store.SetSettings(ctx, s); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%s\n  registration index: %s\n  state: %s\n", s.Name, s.Index, s.Status)
		return nil
	case "list":
		entries, total, err := store.Entries(ctx, documents.EntryQuery{Year: *year, Q: *q, Limit: *limit, Offset: *offset})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tENTERED\tBY\tTYPE\tDOCUMENT\tCORRECTIONS")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", e.Number, e.EnteredAt.In(sofia()).Format("02.01.2006 15:04:05"),
				e.EnteredBy, e.TypeName, e.DocumentName, len(e.Corrections))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d of %d entries in %d\n", len(entries), total, *year)
		return nil
	}
	c, err := store.Check(ctx, *year)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d: %d entries, numbers %d to %d\n", c.Year, c.Count, c.First, c.Last)
	if len(c.Missing) > 0 {
		fmt.Fprintf(stdout, "  MISSING numbers: %s\n", joinInts(c.Missing))
	}
	if len(c.Duplicates) > 0 {
		fmt.Fprintf(stdout, "  DUPLICATE numbers: %s\n", joinInts(c.Duplicates))
	}
	for _, k := range c.Corrections {
		fmt.Fprintf(stdout, "  correction of entry %d (%s: %q → %q) by %s at %s: %s\n", k.EntryID, k.Field, k.OldValue, k.NewValue,
			k.By, k.At.In(sofia()).Format("02.01.2006 15:04:05"), k.Reason)
	}
	if !c.Complete {
		// A plain error: exit code 1, for cron and monitoring.
		return fmt.Errorf("the register for %d is not complete: numbers are missing or repeated; see above", c.Year)
	}
	fmt.Fprintln(stdout, "  complete: no number is missing or repeated")
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// sofia is the time zone dates are shown in.
func sofia() *time.Location {
	loc, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return loc
}
