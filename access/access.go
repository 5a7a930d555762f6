// Package access decides what a caller may see. It is the one place where
// that is decided: every endpoint (JSON API now; tiles, WMS, WFS, OGC API
// and search later) asks a Viewer, never checks visibility by itself.
//
// For now there are two kinds of caller: the public (anonymous) and staff,
// who hold the bootstrap admin token. Users, roles, units and grants
// (issue 3) refine Viewer without changing its callers.
package access

import (
	"context"

	"munigis/layers"
)

// Viewer is whoever makes a request.
type Viewer struct {
	// Actor is the system identifier recorded in history and audit; "" for
	// the public.
	Actor string
	// Staff sees internal layers and fields.
	Staff bool
}

// Anonymous is the public.
var Anonymous = Viewer{}

// CanRead reports whether v may see layer l at all. A layer v may not read
// must be answered as if it did not exist.
func (v Viewer) CanRead(l layers.Layer) bool {
	return v.Staff || l.Visibility == layers.Public
}

// Attributes returns the attributes of l that v may see.
func (v Viewer) Attributes(l layers.Layer) []layers.Attribute {
	out := make([]layers.Attribute, 0, len(l.Type.Attributes))
	for _, a := range l.Type.Attributes {
		if v.Staff || !a.Internal {
			out = append(out, a)
		}
	}
	return out
}

// CanEditCatalog reports whether v may create layer types and layers.
func (v Viewer) CanEditCatalog() bool { return v.Staff }

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer carried by ctx, the public when none is.
func FromContext(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}
