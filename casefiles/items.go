package casefiles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"munigis"
	"munigis/internal/postgis"
)

const itemColumns = `i.id, i.section, i.position, i.document_id, i.child_case_id, coalesce(ch.number, ''),
	i.included_at, i.included_by, i.removed_at, coalesce(i.removed_by, ''), coalesce(i.removal_reason, ''), i.moved_from`

// items returns the items of a case in section order (official,
// internal, control) and position; only item itemID when it is not 0.
func items(ctx context.Context, q querier, caseID, itemID int64) ([]Item, error) {
	rows, err := q.Query(ctx, `SELECT `+itemColumns+` FROM case_file_items i
		LEFT JOIN case_files ch ON ch.id = i.child_case_id
		WHERE i.case_file_id = $1 AND ($2 = 0 OR i.id = $2)
		ORDER BY array_position(ARRAY['official', 'internal', 'control'], i.section), i.position`, caseID, itemID)
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: items")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
		var it Item
		err := r.Scan(&it.ID, &it.Section, &it.Position, &it.DocumentID, &it.ChildCaseID, &it.ChildNumber,
			&it.IncludedAt, &it.IncludedBy, &it.RemovedAt, &it.RemovedBy, &it.RemovalNote, &it.MovedFromID)
		return it, err
	})
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: items")
	}
	return nonNil(out), nil
}

// insertItem files a document or a case in a section of a locked case as
// its next number there (Art. 47).
func insertItem(ctx context.Context, tx pgx.Tx, caseID int64, section string, documentID, childCaseID, movedFrom *int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO case_file_items (case_file_id, section, position, document_id, child_case_id, moved_from)
		VALUES ($1, $2, (SELECT coalesce(max(position), 0) + 1 FROM case_file_items WHERE case_file_id = $1 AND section = $2),
		        $3, $4, $5)
		RETURNING id`, caseID, section, documentID, childCaseID, movedFrom).Scan(&id)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && (pe.ConstraintName == "case_file_items_document" || pe.ConstraintName == "case_file_items_child") {
			return 0, &munigis.Error{Code: munigis.Conflict, Err: err,
				Message:   fmt.Sprintf("it is already in the %s section of case file %d", section, caseID),
				MessageBG: fmt.Sprintf("вече е в %s раздел на преписка № %d", sectionBG(section), caseID)}
		}
		return 0, postgis.Translate(err, "casefiles: add item")
	}
	return id, nil
}

func sectionBG(section string) string {
	switch section {
	case Official:
		return "официалния"
	case Internal:
		return "вътрешния"
	case Control:
		return "контролния"
	}
	return section
}

// AddItem files a document (documentID) or another case file (childCaseID,
// internal section only, Art. 46, 49) in the official or internal section
// of an open case file, numbered in order of inclusion. The control
// section is reached only by removal from the official one (Art. 45(3)).
// A document may be in several case files. The caller checks
// access.CanEditCases.
func (s *Store) AddItem(ctx context.Context, caseID int64, section string, documentID, childCaseID *int64) (Item, error) {
	switch section {
	case Official, Internal:
	case Control:
		return Item{}, invalid("section: nothing is filed in the control section directly; it receives the documents removed from the official section (Art. 45(3))",
			"раздел: в контролния раздел не се добавя пряко; там отиват документите, премахнати от официалния раздел (чл. 45, ал. 3)")
	default:
		return Item{}, invalid("section: official or internal", "раздел: official (официален) или internal (вътрешен)")
	}
	if (documentID == nil) == (childCaseID == nil) {
		return Item{}, invalid("document_id or case_file_id: give exactly one", "document_id или case_file_id: посочете точно едно")
	}
	if childCaseID != nil && section != Internal {
		return Item{}, invalid("section: a case file is filed only in the internal section of another (Art. 46)",
			"раздел: преписка се включва само във вътрешния раздел на друга преписка (чл. 46)")
	}
	if childCaseID != nil && *childCaseID == caseID {
		return Item{}, invalid("case_file_id: a case file cannot be filed in itself", "case_file_id: преписка не може да се включи в самата себе си")
	}
	var out Item
	err := s.tx(ctx, func(tx pgx.Tx) error {
		status, _, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if status != Open {
			return notOpen(caseID, status)
		}
		if documentID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1)`, *documentID).Scan(&ok); err != nil {
				return postgis.Translate(err, "casefiles: add item")
			}
			if !ok {
				return invalid(fmt.Sprintf("document_id: no document %d", *documentID), fmt.Sprintf("document_id: няма документ № %d", *documentID))
			}
		} else {
			// The child must exist and must not contain this case, at any
			// depth: a case inside itself has no end.
			var exists, cycle bool
			err := tx.QueryRow(ctx, `WITH RECURSIVE up (id) AS (
					SELECT case_file_id FROM case_file_items WHERE child_case_id = $1 AND removed_at IS NULL
					UNION
					SELECT i.case_file_id FROM case_file_items i JOIN up ON i.child_case_id = up.id WHERE i.removed_at IS NULL)
				SELECT EXISTS (SELECT 1 FROM case_files WHERE id = $2), EXISTS (SELECT 1 FROM up WHERE id = $2)`,
				caseID, *childCaseID).Scan(&exists, &cycle)
			if err != nil {
				return postgis.Translate(err, "casefiles: add item")
			}
			if !exists {
				return invalid(fmt.Sprintf("case_file_id: no case file %d", *childCaseID), fmt.Sprintf("case_file_id: няма преписка № %d", *childCaseID))
			}
			if cycle {
				return invalid(fmt.Sprintf("case_file_id: case file %d already contains case file %d", *childCaseID, caseID),
					fmt.Sprintf("case_file_id: преписка № %d вече съдържа преписка № %d", *childCaseID, caseID))
			}
		}
		id, err := insertItem(ctx, tx, caseID, section, documentID, childCaseID, nil)
		if err != nil {
			return err
		}
		out, err = s.item(ctx, tx, caseID, id)
		return err
	})
	return out, err
}

func (s *Store) item(ctx context.Context, q querier, caseID, itemID int64) (Item, error) {
	its, err := items(ctx, q, caseID, itemID)
	if err != nil {
		return Item{}, err
	}
	if len(its) == 0 {
		return Item{}, notFound(fmt.Sprintf("case file %d has no item %d", caseID, itemID), fmt.Sprintf("преписка № %d няма елемент № %d", caseID, itemID))
	}
	if err := s.fillDocuments(ctx, q, its[:1]); err != nil {
		return Item{}, err
	}
	return its[0], nil
}

// RemoveItem removes an item of an open case file with a reason. An item
// of the official section needs mayRemoveOfficial (access.CanRemoveOfficial,
// else Forbidden) and is filed in the control section in the same
// transaction (Art. 45(2)–(3)); an internal one is marked removed. Nothing
// is removed from the control section. Returns the removed item.
func (s *Store) RemoveItem(ctx context.Context, caseID, itemID int64, reason string, mayRemoveOfficial bool) (Item, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Item{}, invalid("reason is required (why the document is removed, Art. 45(2))",
			"основанието е задължително (защо документът се премахва, чл. 45, ал. 2)")
	}
	var out Item
	err := s.tx(ctx, func(tx pgx.Tx) error {
		status, _, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if status != Open {
			return notOpen(caseID, status)
		}
		its, err := items(ctx, tx, caseID, itemID)
		if err != nil {
			return err
		}
		if len(its) == 0 {
			return notFound(fmt.Sprintf("case file %d has no item %d", caseID, itemID), fmt.Sprintf("преписка № %d няма елемент № %d", caseID, itemID))
		}
		it := its[0]
		switch {
		case it.Section == Control:
			return invalid("the control section keeps what was removed from the official one; nothing is removed from it (Art. 43)",
				"контролният раздел пази премахнатото от официалния; от него нищо не се премахва (чл. 43)")
		case it.RemovedAt != nil:
			return &munigis.Error{Code: munigis.Conflict,
				Message:   fmt.Sprintf("item %d was already removed on %s by %s", itemID, it.RemovedAt.In(Sofia).Format("02.01.2006 15:04"), it.RemovedBy),
				MessageBG: fmt.Sprintf("елемент № %d вече е премахнат на %s от %s", itemID, it.RemovedAt.In(Sofia).Format("02.01.2006 15:04"), it.RemovedBy)}
		case it.Section == Official && !mayRemoveOfficial:
			return &munigis.Error{Code: munigis.Forbidden,
				Message:   "removing a document from the official section needs the right to do so (Art. 45(2))",
				MessageBG: "премахването на документ от официалния раздел изисква изрично право (чл. 45, ал. 2)"}
		}
		if _, err := tx.Exec(ctx, `UPDATE case_file_items SET removal_reason = $2, removed_at = now(), removed_by = ''
			WHERE id = $1`, itemID, reason); err != nil {
			return postgis.Translate(err, "casefiles: remove item")
		}
		if it.Section == Official {
			if _, err := insertItem(ctx, tx, caseID, Control, it.DocumentID, it.ChildCaseID, &it.ID); err != nil {
				return err
			}
		}
		out, err = s.item(ctx, tx, caseID, itemID)
		return err
	})
	return out, err
}
