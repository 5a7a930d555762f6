package casefiles

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/documents"
	"munigis/internal/postgis"
)

// trackDenied is the one answer to a wrong number, a wrong code, or a
// document that is not the applicant's to see: which of them it was is not
// told (it would let anyone probe case numbers).
func trackDenied() error {
	return &munigis.Error{Code: munigis.NotFound,
		Message:   "no case file with this number and access code",
		MessageBG: "няма преписка с този номер и код за достъп"}
}

// dummyHash is compared against when the number does not exist, so that a
// wrong number costs the same work as a wrong code.
var dummyHash = hashCode("XXXX-XXXX-XXXX")

// checkAccess returns the id of the case with number whose access code is
// code, or trackDenied.
func (s *Store) checkAccess(ctx context.Context, number, code string) (int64, error) {
	var id int64
	var stored []byte
	err := s.pool.QueryRow(ctx, `SELECT c.id, a.code_hash FROM case_files c JOIN case_file_access a ON a.case_file_id = c.id
		WHERE c.number = $1`,
		strings.TrimSpace(number)).Scan(&id, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		id, stored = 0, dummyHash
	} else if err != nil {
		return 0, postgis.Translate(err, "casefiles: track")
	}
	given := hashCode(code)
	if subtle.ConstantTimeCompare(given, stored) != 1 || id == 0 {
		return 0, trackDenied()
	}
	return id, nil
}

// Track is the applicant's view of a case file by its number and access
// identifier (Art. 44(3), 123): the documents of the official section that
// were not removed, and the stages of the service with their executors
// (the unit, never a person's name), planned ends and completion dates.
// Never the internal or control sections. A wrong number and a wrong code
// give the same NotFound.
func (s *Store) Track(ctx context.Context, number, code string) (Tracking, error) {
	id, err := s.checkAccess(ctx, number, code)
	if err != nil {
		return Tracking{}, err
	}
	var t Tracking
	err = s.pool.QueryRow(ctx, `SELECT c.number, c.name, coalesce(sv.name, ''), coalesce(sv.description, ''), c.status,
			c.created_at, coalesce(to_char(c.due_on, 'YYYY-MM-DD'), '')
		FROM case_files c LEFT JOIN services sv ON sv.id = c.service_id WHERE c.id = $1`, id).
		Scan(&t.Number, &t.Name, &t.Service, &t.ServiceDescription, &t.Status, &t.OpenedAt, &t.DueOn)
	if err != nil {
		return Tracking{}, postgis.Translate(err, "casefiles: track")
	}
	// received_via and the number come from the document and its entry in
	// the official register (Art. 123 p. 1, 3).
	rows, err := s.pool.Query(ctx, `SELECT d.id, i.position, coalesce(e.number, ''), d.name,
			coalesce(to_char(e.received_on, 'YYYY-MM-DD'), ''), coalesce(d.received_via, ''),
			d.for_applicant AND d.content_version > 0
		FROM case_file_items i
		JOIN documents d ON d.id = i.document_id
		LEFT JOIN odr_entries e ON e.document_id = d.id
		WHERE i.case_file_id = $1 AND i.section = 'official' AND i.removed_at IS NULL
		ORDER BY i.position`, id)
	if err != nil {
		return Tracking{}, postgis.Translate(err, "casefiles: track")
	}
	t.Documents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrackedDocument, error) {
		var d TrackedDocument
		err := r.Scan(&d.ID, &d.Position, &d.Number, &d.Name, &d.ReceivedOn, &d.ReceivedVia, &d.Downloadable)
		return d, err
	})
	if err != nil {
		return Tracking{}, postgis.Translate(err, "casefiles: track")
	}
	t.Documents = nonNil(t.Documents)
	// The stages are the tasks that control a stage of the service (Art.
	// 14 p. 3); other tasks are the administration's own work.
	rows, err = s.pool.Query(ctx, `SELECT coalesce(nullif(t.stage, ''), t.name), t.description,
			coalesce(un.name_bg, st.executor, ''), t.list, coalesce(to_char(t.planned_end, 'YYYY-MM-DD'), ''),
			CASE WHEN t.list = 'completed' THEN coalesce(to_char(t.actual_end, 'YYYY-MM-DD'), '') ELSE '' END
		FROM tasks t
		LEFT JOIN service_stages st ON st.id = t.stage_id
		LEFT JOIN units un ON un.id = t.unit_id
		WHERE t.case_file_id = $1 AND t.stage_id IS NOT NULL
		ORDER BY t.ordinal, t.id`, id)
	if err != nil {
		return Tracking{}, postgis.Translate(err, "casefiles: track")
	}
	t.Stages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrackedStage, error) {
		var v TrackedStage
		err := r.Scan(&v.Name, &v.Description, &v.Executor, &v.List, &v.PlannedEnd, &v.CompletedOn)
		return v, err
	})
	if err != nil {
		return Tracking{}, postgis.Translate(err, "casefiles: track")
	}
	t.Stages = nonNil(t.Stages)
	return t, nil
}

// TrackDocument returns the current content of a document for the
// applicant: the same check as Track, and the document must be in the
// case's official section (not removed) and marked for the applicant;
// anything else is the same NotFound.
func (s *Store) TrackDocument(ctx context.Context, number, code string, documentID int64) (documents.FileInfo, []byte, error) {
	id, err := s.checkAccess(ctx, number, code)
	if err != nil {
		return documents.FileInfo{}, nil, err
	}
	var ok bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM case_file_items i JOIN documents d ON d.id = i.document_id
		WHERE i.case_file_id = $1 AND i.document_id = $2 AND i.section = 'official' AND i.removed_at IS NULL
		  AND d.for_applicant AND d.content_version > 0)`, id, documentID).Scan(&ok)
	if err != nil {
		return documents.FileInfo{}, nil, postgis.Translate(err, "casefiles: track document")
	}
	if !ok {
		return documents.FileInfo{}, nil, trackDenied()
	}
	return s.docs.Content(ctx, documentID, 0)
}
