// Package access decides what a caller may see and change. It is the one
// place where that is decided: every endpoint (JSON API now; tiles, WMS,
// WFS, OGC API, registers and search later) asks a Viewer, never checks
// visibility by itself.
//
// A Viewer is the public (the zero Viewer, Anonymous) or a signed-in user,
// who arrives through a session cookie or an API token. A signed-in Viewer
// carries its role and the grants that apply to it, already resolved by
// package accounts (grants to its role, its unit and the units above it,
// itself, and — for a unit head — everything its unit's staff hold, Art. 40
// of the documents regulation). This package only reads them:
//
//   - admin may do everything, without grants;
//   - a public layer is readable by everyone, an internal one only with a
//     read (or edit) grant on it or on '*';
//   - edit implies read;
//   - internal fields are visible to a signed-in viewer who may read the layer;
//   - only admins edit the catalog, users and grants.
package access

import (
	"context"
	"slices"

	"munigis/layers"
)

// Role is a user's role. The public has no role.
type Role string

// The roles of issue 3; migration 000005 holds the same list in table roles.
const (
	Admin     Role = "admin"
	Planner   Role = "planner"
	Clerk     Role = "clerk"
	Inspector Role = "inspector"
)

// Roles lists every role, for validation and help texts.
var Roles = []Role{Admin, Planner, Clerk, Inspector}

// ValidRole reports whether r is one of Roles.
func ValidRole(r Role) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Permission on an object. Edit implies read.
type Permission string

// The permissions.
const (
	Read Permission = "read"
	Edit Permission = "edit"
)

// Object kinds a grant can name.
const (
	KindLayer    = "layer"
	KindRegister = "register"
	// KindCases names the work of case files (issue 7); its objects are
	// the Cases* constants.
	KindCases = "cases"
)

// The objects of KindCases (migration 000011 gives the default grants).
const (
	// CaseFiles: read sees case files, their documents and tasks; edit
	// opens them, files documents and works tasks.
	CaseFiles = "case_files"
	// ODR: edit registers documents in the official document register
	// and records corrections (Art. 23, 29).
	ODR = "odr"
	// OfficialSection: edit removes a document from a case file's official
	// section, which moves it to the control section (Art. 45(2)).
	OfficialSection = "official_section"
	// Nomenclatures: edit adds document types, services and stages
	// (Art. 53, 56, 59).
	Nomenclatures = "nomenclatures"
)

// CaseObjects lists the objects of KindCases, for validation.
var CaseObjects = []string{CaseFiles, ODR, OfficialSection, Nomenclatures}

// All is the object name that matches every object of a kind.
const All = "*"

// Grant is one permission a viewer holds on an object of a kind, by name
// or All.
type Grant struct {
	ObjectKind string     `json:"object_kind"`
	Object     string     `json:"object"`
	Permission Permission `json:"permission"`
}

// Viewer is whoever makes a request.
type Viewer struct {
	// SystemID is the user's system identifier (Art. 12 p. 4), recorded in
	// history and audit; "" for the public.
	SystemID string
	// Username of the signed-in user.
	Username string
	// Role of the signed-in user.
	Role Role
	// Grants that apply to the user, resolved by package accounts.
	Grants []Grant
	// Via says how the user authenticated: "session" or "token".
	Via string
}

// Anonymous is the public.
var Anonymous = Viewer{}

// SignedIn reports whether v is a user rather than the public.
func (v Viewer) SignedIn() bool { return v.SystemID != "" }

// IsAdmin reports whether v is a signed-in administrator.
func (v Viewer) IsAdmin() bool { return v.SignedIn() && v.Role == Admin }

// has reports whether v holds permission p on the object of kind named
// name, through a grant on it or on All. Edit implies read.
func (v Viewer) has(kind, name string, p Permission) bool {
	if !v.SignedIn() {
		return false
	}
	if v.IsAdmin() {
		return true
	}
	for _, g := range v.Grants {
		if g.ObjectKind != kind || (g.Object != All && g.Object != name) {
			continue
		}
		if g.Permission == p || g.Permission == Edit {
			return true
		}
	}
	return false
}

// CanRead reports whether v may see layer l at all. A layer v may not read
// must be answered as if it did not exist.
func (v Viewer) CanRead(l layers.Layer) bool {
	switch l.Source {
	case "register":
		// A register's map layer shows its entries: the register's
		// grants decide, not those on layers.
		return l.Visibility == layers.Public || v.has(KindRegister, l.SourceLayer, Read)
	case "case_files":
		// Case files are never public (Art. 123(3)): whatever the
		// catalog says, only the case-file grant opens the layer.
		return v.CanReadCases()
	}
	return l.Visibility == layers.Public || v.has(KindLayer, l.Name, Read)
}

// CanEdit reports whether v may change the features of layer l. Layers
// that only show something else (a register's entries, another server's
// data) are never edited as features.
func (v Viewer) CanEdit(l layers.Layer) bool {
	return l.Editable() && v.has(KindLayer, l.Name, Edit)
}

// CanReadRegister reports whether v may read the internal part of the
// register named name (issue 6). The public part of a register is public.
func (v Viewer) CanReadRegister(name string) bool { return v.has(KindRegister, name, Read) }

// CanReadCases reports whether v may see case files, documents and tasks.
// The public never may: citizens see their own case through its number and
// access identifier only (Art. 123), not as a viewer.
func (v Viewer) CanReadCases() bool { return v.has(KindCases, CaseFiles, Read) }

// CanEditCases reports whether v may open case files, file documents in
// them and work their tasks.
func (v Viewer) CanEditCases() bool { return v.has(KindCases, CaseFiles, Edit) }

// CanRegisterDocuments reports whether v may register documents in the
// official document register and record corrections.
func (v Viewer) CanRegisterDocuments() bool { return v.has(KindCases, ODR, Edit) }

// CanRemoveOfficial reports whether v may take a document out of a case
// file's official section (Art. 45(2)).
func (v Viewer) CanRemoveOfficial() bool { return v.has(KindCases, OfficialSection, Edit) }

// CanEditNomenclatures reports whether v may add document types, services
// and stages.
func (v Viewer) CanEditNomenclatures() bool { return v.has(KindCases, Nomenclatures, Edit) }

// CanEditRegister reports whether v may change entries of the register named name.
func (v Viewer) CanEditRegister(name string) bool { return v.has(KindRegister, name, Edit) }

// Attributes returns the attributes of l that v may see: all of them for a
// signed-in viewer who may read l, the public ones otherwise. When none is
// hidden it is the catalog's own slice, clipped so that an append copies:
// every tile and map request asks, and callers only read it.
func (v Viewer) Attributes(l layers.Layer) []layers.Attribute {
	if len(l.Type.Attributes) == 0 {
		return []layers.Attribute{} // a JSON list, never null
	}
	if (v.SignedIn() && v.CanRead(l)) || !slices.ContainsFunc(l.Type.Attributes, func(a layers.Attribute) bool { return a.Internal }) {
		return slices.Clip(l.Type.Attributes)
	}
	out := make([]layers.Attribute, 0, len(l.Type.Attributes))
	for _, a := range l.Type.Attributes {
		if !a.Internal {
			out = append(out, a)
		}
	}
	return out
}

// CanEditCatalog reports whether v may create layer types and layers.
func (v Viewer) CanEditCatalog() bool { return v.IsAdmin() }

// CanManageAccess reports whether v may create users and units and grant or
// revoke access.
func (v Viewer) CanManageAccess() bool { return v.IsAdmin() }

// CanManageTokensOf reports whether v may create, list and revoke the API
// tokens of the user with system identifier owner: their own, or anyone's
// for an admin.
func (v Viewer) CanManageTokensOf(owner string) bool {
	return v.SignedIn() && (v.SystemID == owner || v.IsAdmin())
}

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
