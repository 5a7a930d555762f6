package munigis

import "context"

type actorKey struct{}

// WithActor returns a context that carries the system identifier of the
// person or machine on whose behalf work is done. Stores write it into the
// database session (munigis.actor) so that history triggers attribute changes.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// Actor returns the acting user's identifier, or "" when none is known (the
// database then records its own role name).
func Actor(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}
