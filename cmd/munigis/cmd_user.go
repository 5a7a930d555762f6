package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"text/tabwriter"

	"munigis/access"
	"munigis/accounts"
)

// stdin is where --password-stdin and `user passwd` read; tests replace it.
var stdin io.Reader = os.Stdin

// readPassword reads one line from stdin.
func readPassword() (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	p := strings.TrimRight(line, "\r\n")
	if p == "" {
		return "", usagef("no password on stdin")
	}
	return p, nil
}

// generatePassword returns 20 characters from an alphabet without look-alikes
// (about 114 bits).
func generatePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	help := func() {
		fmt.Fprintln(stderr, `Usage:
  munigis user add --username U --first-name F [--patronymic P] --surname S --role admin|planner|clerk|inspector
                   [--unit UNIT] (--body "Община …" --title "длъжност" | --civil-contract) [--password-stdin]
      without --password-stdin a password is generated and printed once
  munigis user passwd USERNAME        reads the new password from stdin; ends the user's sessions
  munigis user disable USERNAME       stops sign-in, sessions and API tokens
  munigis user list`)
	}
	if len(args) == 0 {
		help()
		return usagef("say what to do with users")
	}
	switch args[0] {
	case "add", "passwd", "disable", "list":
	case "-h", "--help", "help":
		help()
		return nil
	default:
		help()
		return usagef("unknown user command %q", args[0])
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nu accounts.NewUser
	var role string
	var fromStdin bool
	if args[0] == "add" {
		fs.StringVar(&nu.Username, "username", "", "username: latin letters, digits, '.', '_', '-' (required)")
		fs.StringVar(&nu.FirstName, "first-name", "", "first name (име), every given name (required)")
		fs.StringVar(&nu.Patronymic, "patronymic", "", "patronymic (презиме)")
		fs.StringVar(&nu.Surname, "surname", "", "surname (фамилия), every part (required)")
		fs.StringVar(&role, "role", "", "admin, planner, clerk or inspector (required)")
		fs.StringVar(&nu.Unit, "unit", "", "the unit's name or id (see munigis unit list)")
		fs.StringVar(&nu.AdminBody, "body", "", "administrative body, e.g. \"Община Троян\"")
		fs.StringVar(&nu.JobTitle, "title", "", "job title from the Classifier of Positions")
		fs.BoolVar(&nu.CivilContract, "civil-contract", false, "works under a civil contract (instead of --title)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin instead of generating one")
	}
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return usagef("%v", err)
	}
	want := map[string]int{"add": 0, "list": 0, "passwd": 1, "disable": 1}[args[0]]
	if len(pos) != want {
		if want == 1 {
			return usagef("user %s takes one USERNAME", args[0])
		}
		return usagef("unexpected argument %q", pos[0])
	}
	password := ""
	switch {
	case args[0] == "passwd", args[0] == "add" && fromStdin:
		if password, err = readPassword(); err != nil {
			return err
		}
	case args[0] == "add":
		password = generatePassword()
	}
	store, closeDB, err := openAccounts(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = cliActor(ctx)

	switch args[0] {
	case "add":
		nu.Role, nu.Password = access.Role(role), password
		u, err := store.CreateUser(ctx, nu)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s created: system identifier %s, role %s\n", u.Username, u.SystemID, u.Role)
		if !fromStdin {
			fmt.Fprintf(stdout, "password (shown only now): %s\n", password)
		}
	case "passwd":
		if err := store.SetPassword(ctx, pos[0], password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions were ended\n", pos[0])
	case "disable":
		if err := store.Disable(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s disabled\n", pos[0])
	case "list":
		users, err := store.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYSTEM ID\tUSERNAME\tROLE\tNAME\tPOSITION\tUNIT\tSTATUS")
		for _, u := range users {
			pos, status := u.JobTitle, "active"
			if u.CivilContract {
				pos = "civil contract"
			}
			if u.DisabledAt != nil {
				status = "disabled " + u.DisabledAt.UTC().Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.SystemID, u.Username, u.Role, u.Name(), pos, u.Unit, status)
		}
		return tw.Flush()
	}
	return nil
}

func cmdUnit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	help := func() {
		fmt.Fprintln(stderr, `Usage:
  munigis unit add --name-bg "Дирекция …" [--name-en "…"] [--parent UNIT]
  munigis unit head UNIT USERNAME     make USERNAME the unit head (Art. 40: sees what the staff see)
  munigis unit list`)
	}
	if len(args) == 0 {
		help()
		return usagef("say what to do with units")
	}
	fs := flag.NewFlagSet("unit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	nameBG := fs.String("name-bg", "", "Bulgarian name (required)")
	nameEN := fs.String("name-en", "", "English name")
	parent := fs.String("parent", "", "the parent unit's name or id")
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return usagef("%v", err)
	}
	switch {
	case args[0] == "head" && len(pos) != 2:
		return usagef("unit head takes UNIT and USERNAME")
	case args[0] == "add" || args[0] == "list":
		if len(pos) > 0 {
			return usagef("unexpected argument %q", pos[0])
		}
	case args[0] != "head":
		help()
		return usagef("unknown unit command %q", args[0])
	}
	store, closeDB, err := openAccounts(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = cliActor(ctx)
	switch args[0] {
	case "add":
		u, err := store.CreateUnit(ctx, *nameBG, *nameEN, *parent)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "unit %d %s created\n", u.ID, u.NameBG)
	case "head":
		if err := store.SetUnitHead(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now heads %s\n", pos[1], pos[0])
	case "list":
		units, err := store.Units(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPARENT\tHEAD")
		for _, u := range units {
			parent := ""
			if u.ParentID != 0 {
				parent = fmt.Sprint(u.ParentID)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.ID, u.NameBG, parent, u.Head)
		}
		return tw.Flush()
	}
	return nil
}

// openAccounts opens the database for the user, unit and token commands;
// call the returned function when done.
func openAccounts(ctx context.Context) (*accounts.Store, func(), error) {
	pool, err := connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return accounts.NewStore(pool, accounts.Config{}), pool.Close, nil
}
