package access_test

import (
	"testing"

	"munigis/access"
	"munigis/layers"
)

func TestViewer(t *testing.T) {
	typ := layers.Type{Attributes: []layers.Attribute{{Name: "network"}, {Name: "operator", Internal: true}}}
	pub := layers.Layer{Name: "streets", Visibility: layers.Public, Type: typ, Source: "local"}
	lines := layers.Layer{Name: "utility_lines", Visibility: layers.Internal, Type: typ, Source: "local"}
	other := layers.Layer{Name: "cadastre_units", Visibility: layers.Internal, Type: typ, Source: "local"}

	anon := access.Anonymous
	if !anon.CanRead(pub) || anon.CanRead(lines) || anon.CanEdit(pub) || anon.CanEditCatalog() || anon.IsAdmin() ||
		len(anon.Attributes(pub)) != 1 || anon.CanManageTokensOf("") {
		t.Error("the public may do more than read public layers' public fields")
	}
	// A role named admin without a system identifier is still the public.
	if (access.Viewer{Role: access.Admin}).IsAdmin() {
		t.Error("an unsigned viewer with role admin is an admin")
	}
	admin := access.Viewer{SystemID: "U-000001", Role: access.Admin}
	if !admin.CanEdit(lines) || !admin.CanEditCatalog() || !admin.CanManageAccess() || !admin.CanEditRegister("permits") || !admin.CanManageTokensOf("U-000009") {
		t.Error("admin lacks a right")
	}
	editor := access.Viewer{SystemID: "U-000002", Role: access.Clerk, Grants: []access.Grant{
		{ObjectKind: access.KindLayer, Object: "utility_lines", Permission: access.Edit},
		{ObjectKind: access.KindRegister, Object: access.All, Permission: access.Read},
	}}
	if !editor.CanRead(lines) || !editor.CanEdit(lines) || editor.CanRead(other) || len(editor.Attributes(lines)) != 2 {
		t.Error("edit grant does not imply read, or leaks to another layer")
	}
	if !editor.CanReadRegister("permits") || editor.CanEditRegister("permits") || editor.CanEditCatalog() {
		t.Error("register grants wrong")
	}
	if len(editor.Attributes(other)) != 1 {
		t.Error("internal fields of a layer the viewer may not read")
	}
	if !editor.CanManageTokensOf("U-000002") || editor.CanManageTokensOf("U-000003") {
		t.Error("token ownership")
	}
	// A register's map layer follows the register's grants, and is never
	// edited as features.
	rentals := layers.Layer{Name: "reg_rentals", Visibility: layers.Internal, Type: typ, Source: "register", SourceLayer: "rentals"}
	layerStaff := access.Viewer{SystemID: "U-000004", Role: access.Clerk, Grants: []access.Grant{
		{ObjectKind: access.KindLayer, Object: access.All, Permission: access.Edit}}}
	if layerStaff.CanRead(rentals) || !editor.CanRead(rentals) || anon.CanRead(rentals) {
		t.Error("a register layer is read by layer grants, or not by register grants")
	}
	if admin.CanEdit(rentals) || layerStaff.CanEdit(rentals) {
		t.Error("a register layer is editable as features")
	}
}

func TestCaseFileGrants(t *testing.T) {
	cases := layers.Layer{Name: "case_files", Visibility: layers.Public, Source: "case_files"}
	if access.Anonymous.CanRead(cases) || access.Anonymous.CanReadCases() || access.Anonymous.CanRegisterDocuments() {
		t.Error("the public may see case files, even with the layer marked public by mistake")
	}
	planner := access.Viewer{SystemID: "U-000003", Role: access.Planner, Grants: []access.Grant{
		{ObjectKind: access.KindCases, Object: access.CaseFiles, Permission: access.Edit},
		{ObjectKind: access.KindCases, Object: access.ODR, Permission: access.Edit},
	}}
	if !planner.CanRead(cases) || !planner.CanEditCases() || !planner.CanRegisterDocuments() ||
		planner.CanRemoveOfficial() || planner.CanEditNomenclatures() || planner.CanEdit(cases) {
		t.Error("the planner's case-file grants are read wrong")
	}
	inspector := access.Viewer{SystemID: "U-000004", Role: access.Inspector, Grants: []access.Grant{
		{ObjectKind: access.KindCases, Object: access.CaseFiles, Permission: access.Read},
		{ObjectKind: access.KindRegister, Object: access.All, Permission: access.Edit},
	}}
	if !inspector.CanReadCases() || inspector.CanEditCases() || inspector.CanRegisterDocuments() {
		t.Error("a read grant on case files gives more than reading, or none")
	}
	clerk := access.Viewer{SystemID: "U-000005", Role: access.Clerk, Grants: []access.Grant{
		{ObjectKind: access.KindCases, Object: access.All, Permission: access.Edit},
	}}
	if !clerk.CanRemoveOfficial() || !clerk.CanEditNomenclatures() || !clerk.CanRegisterDocuments() {
		t.Error("a grant on cases/* does not cover every case object")
	}
}
