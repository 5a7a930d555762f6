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

type addressKey struct{}

// WithAddress returns a context that carries the network address the
// request came from; stores write it into the database session
// (munigis.address) so that the audit trail records it beside the actor.
func WithAddress(ctx context.Context, address string) context.Context {
	return context.WithValue(ctx, addressKey{}, address)
}

// Address returns the request's address carried by ctx, or "".
func Address(ctx context.Context) string {
	s, _ := ctx.Value(addressKey{}).(string)
	return s
}

// StatusClientClosed is the status logged for a request whose client went
// away before the answer (nginx's 499): nothing failed on the server, and
// nothing can be sent.
const StatusClientClosed = 499

// ClientGone reports whether ctx, a request's context, ended because the
// client closed the connection (it was cancelled, not timed out). Such a
// request's error is the client's leaving, not a server failure: it is
// logged as information, not as an error.
func ClientGone(ctx context.Context) bool {
	return ctx.Err() == context.Canceled
}
