// Command munigis is the one binary of the platform: it serves HTTP, applies
// migrations, loads the demo municipality, imports and exports layers, and
// manages the layer catalog.
//
//	munigis serve | migrate | demo | import | export | layer | user | unit | token | audit | version
//
// Configuration comes from the environment (see config.go); the database is
// DATABASE_URL, or the project cluster under var/pg when that is unset.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"munigis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exit codes: 0 done, 1 failed, 2 bad usage or bad input.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve the HTTP API", cmdServe},
		{"migrate", "apply database migrations", cmdMigrate},
		{"demo", "load the demo municipality", cmdDemo},
		{"import", "import a file (Shapefile, GeoJSON, GPKG, KML, DXF, CSV) into a layer", cmdImport},
		{"export", "export a layer to GPKG, GeoJSON, Shapefile or CSV", cmdExport},
		{"layer", "list layers, define layer types, create layers", cmdLayer},
		{"register", "list, define, search and export registers", cmdRegister},
		{"odr", "the official document register: name, index, entries, completeness check", cmdODR},
		{"user", "add, list and disable users; change a password", cmdUser},
		{"unit", "add and list administrative units; set a unit head", cmdUnit},
		{"token", "create, list and revoke API tokens", cmdToken},
		{"audit", "verify the audit trail's hash chain", cmdAudit},
		{"version", "print the version", cmdVersion},
	}
}

// Run runs the subcommand named by args[0] and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil {
			return exitOK
		}
		return report(stderr, c.name, err)
	}
	fmt.Fprintf(stderr, "munigis: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// report prints an error for a person and picks the exit code: bad input
// exits 2, anything else 1. Internal errors keep their detail here because
// the operator at the terminal is the one who must act on it.
func report(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "munigis %s: %s\nRun `munigis %s -h` for help.\n", cmd, ue.msg, cmd)
		return exitUsage
	}
	fmt.Fprintf(stderr, "munigis %s: %s\n", cmd, err.Error())
	switch munigis.ErrorCode(err) {
	case munigis.Invalid, munigis.NotFound, munigis.Conflict:
		return exitUsage
	}
	return exitFail
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef reports bad usage; flag.ErrHelp (from -h) passes through so that
// asking for help exits 0.
func usagef(format string, args ...any) error {
	for _, a := range args {
		if e, ok := a.(error); ok && errors.Is(e, flag.ErrHelp) {
			return flag.ErrHelp
		}
	}
	return usageError{fmt.Sprintf(format, args...)}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "munigis — municipal GIS on PostGIS")
	fmt.Fprintln(w, "\nUsage: munigis COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nThe database is DATABASE_URL, or the project cluster under var/pg (make db-start).")
}
