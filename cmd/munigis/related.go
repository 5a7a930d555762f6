package main

import (
	"context"

	"munigis/access"
	"munigis/casefiles"
	"munigis/registers"
)

// relatedWithCases answers WMS GetFeatureInfo's question "what hangs off
// this cadastral object" with the register entries (the engine's rule) and,
// for staff who may read case files, the case files linked to it or to
// anything under it — the same two sources as /api/cadastre/{id}/related.
// It lives here, where both stores are wired, because registers may not
// import casefiles (nor the other way round).
type relatedWithCases struct {
	regs  *registers.Store
	cases *casefiles.Store
}

// caseFilesType describes the case-file group for the WMS encoders, which
// list the fields a group's Type names.
var caseFilesType = registers.Type{Name: "case_files", TitleBG: "Преписки", TitleEN: "Case files",
	Fields: []registers.Field{
		{Name: "name", Type: registers.Text, TitleBG: "Относно", TitleEN: "Subject"},
		{Name: "service", Type: registers.Text, TitleBG: "Услуга", TitleEN: "Service"},
	}}

func (r relatedWithCases) RelatedFor(ctx context.Context, identifier string, v access.Viewer) ([]registers.ShownGroup, error) {
	groups, err := r.regs.RelatedFor(ctx, identifier, v)
	if err != nil || !v.CanReadCases() {
		return groups, err
	}
	found, err := r.cases.Related(ctx, identifier)
	if err != nil || len(found) == 0 {
		return groups, err
	}
	g := registers.ShownGroup{Register: caseFilesType.Name, TitleBG: caseFilesType.TitleBG, TitleEN: caseFilesType.TitleEN,
		Type: caseFilesType, Full: true}
	for _, c := range found {
		g.Entries = append(g.Entries, registers.Shown{Full: true, ID: c.ID, Register: caseFilesType.Name, Number: c.Number,
			Date: c.OpenedOn, Status: c.Status, Identifiers: []string{c.Identifier},
			Data: map[string]any{"name": c.Name, "service": c.Service}})
	}
	return append(groups, g), nil
}
