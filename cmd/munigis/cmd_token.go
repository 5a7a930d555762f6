package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	help := func() {
		fmt.Fprintln(stderr, `Usage:
  munigis token create --user USERNAME --name "GPS unit 7"   prints the token once
  munigis token list [--user USERNAME]
  munigis token revoke ID`)
	}
	if len(args) == 0 {
		help()
		return usagef("say what to do with API tokens")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the user the token acts as (username or system identifier)")
	name := fs.String("name", "", "what uses the token, e.g. \"GPS unit 7\"")
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return usagef("%v", err)
	}
	var id int64
	switch args[0] {
	case "create":
		if *user == "" || *name == "" {
			return usagef("token create needs --user and --name")
		}
		if len(pos) > 0 {
			return usagef("unexpected argument %q", pos[0])
		}
	case "list":
		if len(pos) > 0 {
			return usagef("unexpected argument %q", pos[0])
		}
	case "revoke":
		if len(pos) != 1 {
			return usagef("token revoke takes one ID (see munigis token list)")
		}
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil || id <= 0 {
			return usagef("token ID %q is not a number", pos[0])
		}
	default:
		help()
		return usagef("unknown token command %q", args[0])
	}
	store, closeDB, err := openAccounts(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = cliActor(ctx)
	switch args[0] {
	case "create":
		raw, t, err := store.CreateToken(ctx, *user, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "API token %d %q for %s created; it is shown only now, keep it secret:\n", t.ID, t.Name, t.Username)
		fmt.Fprintln(stdout, raw)
	case "list":
		list, err := store.Tokens(ctx, *user)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tPREFIX\tCREATED\tLAST USED\tSTATUS")
		for _, t := range list {
			used, status := "never", "active"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.UTC().Format("2006-01-02 15:04")
			}
			if t.RevokedAt != nil {
				status = "revoked " + t.RevokedAt.UTC().Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Username, t.Name, t.Prefix,
				t.CreatedAt.UTC().Format("2006-01-02"), used, status)
		}
		return tw.Flush()
	case "revoke":
		t, err := store.RevokeToken(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API token %d %q of %s revoked\n", t.ID, t.Name, t.Username)
	}
	return nil
}
