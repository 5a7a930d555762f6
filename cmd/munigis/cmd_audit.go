package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"

	"munigis/audit"
)

// cmdAudit: munigis audit verify.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: munigis audit verify

Recomputes the SHA-256 chain of the audit trail over every row, in order.
Exits 0 with "chain intact: N rows" and the last row's hash (note it down
outside the database: a later verify must pass through it), or 1 naming the
first row that was changed or follows a removed row.`)
	}
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	if fs.NArg() != 1 || fs.Arg(0) != "verify" {
		return usagef("say `munigis audit verify`")
	}
	pool, err := connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := audit.Verify(ctx, pool)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("chain broken at row %d after %d intact rows: %s", rep.Broken.ID, rep.Rows-1, rep.Broken.Reason)
	}
	fmt.Fprintf(stdout, "chain intact: %d rows\n", rep.Rows)
	if rep.Rows > 0 {
		fmt.Fprintf(stdout, "last row %d, hash %s\n", rep.LastID, hex.EncodeToString(rep.LastHash))
	}
	return nil
}
