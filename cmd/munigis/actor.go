package main

import (
	"context"
	"os/user"

	"munigis"
)

// cliActor records who ran a command that changes data: the operating
// system user, marked "cli:", until munigis users exist (issue 3).
func cliActor(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return munigis.WithActor(ctx, "cli:"+name)
}
