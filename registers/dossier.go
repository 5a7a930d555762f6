package registers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/documents"
	"munigis/internal/postgis"
)

// This file is the dossier (досие) of a register entry — the documents that
// belong to it (issue 6: a municipal property's dossier; any entry may have
// one) — the case files of an entry (a building permit's case file), and
// the documents of `file` fields. Migration 000014 keeps the links
// append-only: a document leaves a dossier and a case file is unlinked by a
// stamped removal, never by deleting the row. Who may see or change them
// is the caller's decision (staff with a read or edit grant on the
// register); the public never sees a dossier.

// UseDocuments gives the store the document store it creates dossier
// documents with and reads files through, so that the configured limits
// (size, accepted types, Art. 69(3) p. 4) apply. Without it a store with
// the default configuration is used. Set it before the store is shared.
func (s *Store) UseDocuments(d *documents.Store) { s.docs = d }

func (s *Store) documents() *documents.Store {
	if s.docs != nil {
		return s.docs
	}
	return documents.NewStore(s.pool, documents.Config{})
}

// DossierDocument is a document in the dossier of an entry: the inclusion
// (ID, when and by whom added, and removed) and what the list shows of the
// document.
type DossierDocument struct {
	// ID is the inclusion's id (not the document's).
	ID         int64  `json:"id"`
	EntryID    int64  `json:"entry_id"`
	DocumentID int64  `json:"document_id"`
	Name       string `json:"name"`
	TypeCode   string `json:"type,omitempty"`
	TypeName   string `json:"type_name,omitempty"`
	// RegistrationNumber is the document's number in the official document
	// register, "" when it is not registered.
	RegistrationNumber string              `json:"registration_number,omitempty"`
	File               *documents.FileInfo `json:"file,omitempty"`
	AddedAt            time.Time           `json:"added_at"`
	AddedBy            string              `json:"added_by"`
	RemovedAt          *time.Time          `json:"removed_at,omitempty"`
	RemovedBy          string              `json:"removed_by,omitempty"`
	RemovalReason      string              `json:"removal_reason,omitempty"`
}

// LinkedCase is a case file linked to a register entry.
type LinkedCase struct {
	ID       int64     `json:"id"`
	Number   string    `json:"number"`
	Name     string    `json:"name"`
	Status   string    `json:"status"`
	LinkedAt time.Time `json:"linked_at"`
	LinkedBy string    `json:"linked_by"`
}

// FileRef is what an entry shows of the document of a file field.
type FileRef struct {
	DocumentID int64               `json:"document_id"`
	Name       string              `json:"name"`
	File       *documents.FileInfo `json:"file,omitempty"`
}

const dossierColumns = `x.id, x.entry_id, x.document_id, d.name, coalesce(t.code, ''), coalesce(t.name, ''), coalesce(o.number, ''),
	encode(v.file_sha256, 'hex'), f.size, f.media_type, v.file_name,
	x.added_at, x.added_by, x.removed_at, coalesce(x.removed_by, ''), coalesce(x.removal_reason, '')`

const dossierFrom = ` FROM entry_documents x
	JOIN documents d ON d.id = x.document_id
	LEFT JOIN document_types t ON t.id = d.type_id
	LEFT JOIN document_versions v ON v.document_id = d.id AND v.n = d.content_version
	LEFT JOIN files f ON f.sha256 = v.file_sha256
	LEFT JOIN odr_entries o ON o.document_id = d.id`

func scanDossier(row pgx.Row) (DossierDocument, error) {
	var dd DossierDocument
	var sum, mediaType, fileName *string
	var size *int64
	err := row.Scan(&dd.ID, &dd.EntryID, &dd.DocumentID, &dd.Name, &dd.TypeCode, &dd.TypeName, &dd.RegistrationNumber,
		&sum, &size, &mediaType, &fileName, &dd.AddedAt, &dd.AddedBy, &dd.RemovedAt, &dd.RemovedBy, &dd.RemovalReason)
	if err != nil {
		return dd, err
	}
	if sum != nil && size != nil && mediaType != nil && fileName != nil {
		dd.File = &documents.FileInfo{SHA256: *sum, Size: *size, MediaType: *mediaType, FileName: *fileName}
	}
	return dd, nil
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// entryExists returns NotFound for an entry that does not exist; lock
// holds it (FOR KEY SHARE) until the transaction ends.
func entryExists(ctx context.Context, q queryer, entryID int64, lock bool) error {
	sql := `SELECT 1 FROM register_entries WHERE id = $1`
	if lock {
		sql += ` FOR KEY SHARE`
	}
	var one int
	err := q.QueryRow(ctx, sql, entryID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return entryNotFound(entryID)
	}
	return postgis.Translate(err, "registers: entry")
}

// Dossier returns the documents in the dossier of entry entryID, in the
// order they were added. Returns NotFound for an unknown entry.
func (s *Store) Dossier(ctx context.Context, entryID int64) ([]DossierDocument, error) {
	return s.dossier(ctx, s.pool, entryID, false)
}

// DossierWithRemoved is Dossier with the documents removed from it too
// (RemovedAt set), so that what the entry once held stays visible.
func (s *Store) DossierWithRemoved(ctx context.Context, entryID int64) ([]DossierDocument, error) {
	return s.dossier(ctx, s.pool, entryID, true)
}

func (s *Store) dossier(ctx context.Context, q queryer, entryID int64, removed bool) ([]DossierDocument, error) {
	if err := entryExists(ctx, q, entryID, false); err != nil {
		return nil, err
	}
	sql := `SELECT ` + dossierColumns + dossierFrom + ` WHERE x.entry_id = $1`
	if !removed {
		sql += ` AND x.removed_at IS NULL`
	}
	rows, err := q.Query(ctx, sql+` ORDER BY x.id`, entryID)
	if err != nil {
		return nil, postgis.Translate(err, "registers: dossier")
	}
	defer rows.Close()
	out := []DossierDocument{}
	for rows.Next() {
		dd, err := scanDossier(rows)
		if err != nil {
			return nil, fmt.Errorf("registers: dossier: %w", err)
		}
		out = append(out, dd)
	}
	return out, postgis.Translate(rows.Err(), "registers: dossier")
}

// DossierDocument returns document documentID as it is in the dossier of
// entry entryID now, or NotFound when it is not there (the web layer serves
// a dossier document's content only after this).
func (s *Store) DossierDocument(ctx context.Context, entryID, documentID int64) (DossierDocument, error) {
	dd, err := scanDossier(s.pool.QueryRow(ctx, `SELECT `+dossierColumns+dossierFrom+`
		WHERE x.entry_id = $1 AND x.document_id = $2 AND x.removed_at IS NULL`, entryID, documentID))
	if errors.Is(err, pgx.ErrNoRows) {
		return DossierDocument{}, notInDossier(entryID, documentID)
	}
	if err != nil {
		return DossierDocument{}, postgis.Translate(err, "registers: dossier document")
	}
	return dd, nil
}

func notInDossier(entryID, documentID int64) error {
	return &munigis.Error{Code: munigis.NotFound,
		Message:   fmt.Sprintf("document %d is not in the dossier of entry %d", documentID, entryID),
		MessageBG: fmt.Sprintf("документ № %d не е в досието на вписване № %d", documentID, entryID)}
}

// AddToDossier creates document nd (with its file, checked by the document
// store: size and type, Art. 69(3) p. 4) and adds it to the dossier of
// entry entryID, in one transaction: a refused file, or an unknown entry,
// leaves neither a document nor a link behind.
func (s *Store) AddToDossier(ctx context.Context, entryID int64, nd documents.NewDocument) (DossierDocument, error) {
	docs := s.documents()
	if nd.File != nil && nd.File.Content != nil {
		// Read the upload (at most the limit and a byte, which the document
		// store then refuses) before the transaction, so that a slow client
		// does not hold a connection and a lock on the entry.
		b, err := io.ReadAll(io.LimitReader(nd.File.Content, docs.Config().MaxFileBytes+1))
		if err != nil {
			return DossierDocument{}, munigis.Wrap(munigis.Invalid, err, "file: the content could not be read")
		}
		nd.File = &documents.Upload{FileName: nd.File.FileName, Content: bytes.NewReader(b)}
	}
	var out DossierDocument
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := entryExists(ctx, tx, entryID, true); err != nil {
			return err
		}
		d, err := docs.CreateTx(ctx, tx, nd)
		if err != nil {
			return err
		}
		out, err = link(ctx, tx, entryID, d.ID)
		return err
	})
	if err != nil {
		return DossierDocument{}, err
	}
	return out, nil
}

// LinkToDossier adds an existing document to the dossier of entry entryID
// (a contract already in a case file, say). Returns NotFound for an
// unknown entry, Invalid for an unknown document, Conflict when the
// document is already in the dossier.
func (s *Store) LinkToDossier(ctx context.Context, entryID, documentID int64) (DossierDocument, error) {
	var out DossierDocument
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := entryExists(ctx, tx, entryID, true); err != nil {
			return err
		}
		if documentID <= 0 {
			return invalid("document_id: say which document", "document_id: посочете документа")
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1)`, documentID).Scan(&exists); err != nil {
			return postgis.Translate(err, "registers: dossier document")
		}
		if !exists {
			return invalid(fmt.Sprintf("document_id: document %d does not exist", documentID),
				fmt.Sprintf("document_id: документ № %d не съществува", documentID))
		}
		var err error
		out, err = link(ctx, tx, entryID, documentID)
		return err
	})
	if err != nil {
		return DossierDocument{}, err
	}
	return out, nil
}

// link inserts the inclusion inside tx. The partial unique index is the
// last word on a document added twice at once; the check before it gives
// the message.
func link(ctx context.Context, tx pgx.Tx, entryID, documentID int64) (DossierDocument, error) {
	// Two clerks adding the same document at once: the second waits here
	// and then sees the first's row.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('munigis.dossier'), hashtext($1::bigint::text))`, entryID); err != nil {
		return DossierDocument{}, postgis.Translate(err, "registers: dossier lock")
	}
	var there bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM entry_documents WHERE entry_id = $1 AND document_id = $2 AND removed_at IS NULL)`,
		entryID, documentID).Scan(&there); err != nil {
		return DossierDocument{}, postgis.Translate(err, "registers: dossier")
	}
	if there {
		return DossierDocument{}, &munigis.Error{Code: munigis.Conflict,
			Message:   fmt.Sprintf("document_id: document %d is already in the dossier of entry %d", documentID, entryID),
			MessageBG: fmt.Sprintf("document_id: документ № %d вече е в досието на вписване № %d", documentID, entryID)}
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO entry_documents (entry_id, document_id) VALUES ($1, $2) RETURNING id`,
		entryID, documentID).Scan(&id); err != nil {
		return DossierDocument{}, postgis.Translate(err, "registers: add to dossier")
	}
	dd, err := scanDossier(tx.QueryRow(ctx, `SELECT `+dossierColumns+dossierFrom+` WHERE x.id = $1`, id))
	if err != nil {
		return DossierDocument{}, postgis.Translate(err, "registers: add to dossier")
	}
	return dd, nil
}

// RemoveFromDossier takes document documentID out of the dossier of entry
// entryID, with a reason; the inclusion stays, stamped with who removed it
// and when (the document itself is never deleted). Returns Invalid without
// a reason, NotFound when the document is not in the dossier.
func (s *Store) RemoveFromDossier(ctx context.Context, entryID, documentID int64, reason string) (DossierDocument, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" {
		return DossierDocument{}, invalid("reason: say why the document leaves the dossier", "основание: посочете защо документът се изважда от досието")
	}
	if len([]rune(reason)) > 1000 {
		return DossierDocument{}, invalid("reason: at most 1000 characters", "основание: най-много 1000 знака")
	}
	var out DossierDocument
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := entryExists(ctx, tx, entryID, false); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `UPDATE entry_documents SET removal_reason = $3
			WHERE entry_id = $1 AND document_id = $2 AND removed_at IS NULL RETURNING id`, entryID, documentID, reason).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notInDossier(entryID, documentID)
		}
		if err != nil {
			return postgis.Translate(err, "registers: remove from dossier")
		}
		out, err = scanDossier(tx.QueryRow(ctx, `SELECT `+dossierColumns+dossierFrom+` WHERE x.id = $1`, id))
		return postgis.Translate(err, "registers: remove from dossier")
	})
	if err != nil {
		return DossierDocument{}, err
	}
	return out, nil
}

// Content returns the current file of a document (through the document
// store). The caller has checked that the viewer may have it: it is in a
// dossier the viewer may read (DossierDocument) or the value of a file
// field the viewer may see (FieldFile).
func (s *Store) Content(ctx context.Context, documentID int64) (documents.FileInfo, []byte, error) {
	return s.documents().Content(ctx, documentID, 0)
}

// FieldFile returns the document id in file field field of entry entryID,
// checking that field is a file field of the entry's register and holds a
// document. Returns NotFound otherwise. The caller decides whether the
// viewer may see the field (public only when the register is published and
// the field public).
func (s *Store) FieldFile(ctx context.Context, entryID int64, field string) (Field, int64, error) {
	e, err := s.Get(ctx, entryID)
	if err != nil {
		return Field{}, 0, err
	}
	t, err := s.Type(ctx, e.Register)
	if err != nil {
		return Field{}, 0, err
	}
	f, ok := t.Field(field)
	if !ok || f.Type != File {
		return Field{}, 0, &munigis.Error{Code: munigis.NotFound,
			Message:   fmt.Sprintf("register %s has no file field %q", t.Name, short(field)),
			MessageBG: fmt.Sprintf("регистър %s няма поле за файл %q", t.Name, short(field))}
	}
	id, ok := e.Data[f.Name].(int64)
	if !ok || id <= 0 {
		return f, 0, &munigis.Error{Code: munigis.NotFound,
			Message:   fmt.Sprintf("%s: entry %d has no file", f.Name, entryID),
			MessageBG: fmt.Sprintf("%s: вписване № %d няма файл", f.TitleBG, entryID)}
	}
	return f, id, nil
}

// Files returns what entries show of the documents ids (file fields' values),
// by id; an id that names no document is left out.
func (s *Store) Files(ctx context.Context, ids []int64) (map[int64]FileRef, error) {
	out := map[int64]FileRef{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT d.id, d.name, encode(v.file_sha256, 'hex'), f.size, f.media_type, v.file_name
		FROM documents d
		LEFT JOIN document_versions v ON v.document_id = d.id AND v.n = d.content_version
		LEFT JOIN files f ON f.sha256 = v.file_sha256
		WHERE d.id = ANY($1)`, ids)
	if err != nil {
		return nil, postgis.Translate(err, "registers: files")
	}
	defer rows.Close()
	for rows.Next() {
		var r FileRef
		var sum, mediaType, fileName *string
		var size *int64
		if err := rows.Scan(&r.DocumentID, &r.Name, &sum, &size, &mediaType, &fileName); err != nil {
			return nil, fmt.Errorf("registers: files: %w", err)
		}
		if sum != nil && size != nil && mediaType != nil && fileName != nil {
			r.File = &documents.FileInfo{SHA256: *sum, Size: *size, MediaType: *mediaType, FileName: *fileName}
		}
		out[r.DocumentID] = r
	}
	return out, postgis.Translate(rows.Err(), "registers: files")
}

// CaseFiles returns the case files linked to entry entryID, in the order
// they were linked. Returns NotFound for an unknown entry.
func (s *Store) CaseFiles(ctx context.Context, entryID int64) ([]LinkedCase, error) {
	if err := entryExists(ctx, s.pool, entryID, false); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.number, c.name, c.status, l.linked_at, l.linked_by
		FROM case_file_entries l JOIN case_files c ON c.id = l.case_file_id
		WHERE l.entry_id = $1 AND l.unlinked_at IS NULL ORDER BY l.id`, entryID)
	if err != nil {
		return nil, postgis.Translate(err, "registers: case files")
	}
	defer rows.Close()
	out := []LinkedCase{}
	for rows.Next() {
		var c LinkedCase
		if err := rows.Scan(&c.ID, &c.Number, &c.Name, &c.Status, &c.LinkedAt, &c.LinkedBy); err != nil {
			return nil, fmt.Errorf("registers: case files: %w", err)
		}
		out = append(out, c)
	}
	return out, postgis.Translate(rows.Err(), "registers: case files")
}

// caseByNumber finds the case file with the registration number, or
// Invalid naming the field (the request is wrong, not the URL).
func caseByNumber(ctx context.Context, tx pgx.Tx, number string) (int64, error) {
	number = strings.TrimSpace(number)
	if number == "" {
		return 0, invalid("number: give the case file's number (the registration number of its opening document)",
			"номер: посочете номера на преписката (регистрационния номер на документа, с който е образувана)")
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM case_files WHERE number = $1 FOR KEY SHARE`, number).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, invalid(fmt.Sprintf("number: case file %q does not exist", short(number)),
			fmt.Sprintf("номер: преписка %q не съществува", short(number)))
	}
	return id, postgis.Translate(err, "registers: case file")
}

// LinkCaseFile links the case file with registration number caseNumber to
// entry entryID (a building permit to the case in which it was issued).
// Returns NotFound for an unknown entry, Invalid for an unknown case file,
// Conflict when they are linked already.
func (s *Store) LinkCaseFile(ctx context.Context, entryID int64, caseNumber string) (LinkedCase, error) {
	var out LinkedCase
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := entryExists(ctx, tx, entryID, true); err != nil {
			return err
		}
		caseID, err := caseByNumber(ctx, tx, caseNumber)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('munigis.entry_case'), hashtext($1::bigint::text))`, entryID); err != nil {
			return postgis.Translate(err, "registers: case file lock")
		}
		var there bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM case_file_entries
			WHERE entry_id = $1 AND case_file_id = $2 AND unlinked_at IS NULL)`, entryID, caseID).Scan(&there); err != nil {
			return postgis.Translate(err, "registers: case file")
		}
		if there {
			return &munigis.Error{Code: munigis.Conflict,
				Message:   fmt.Sprintf("number: case file %s is already linked to entry %d", short(strings.TrimSpace(caseNumber)), entryID),
				MessageBG: fmt.Sprintf("номер: преписка %s вече е свързана с вписване № %d", short(strings.TrimSpace(caseNumber)), entryID)}
		}
		err = tx.QueryRow(ctx, `WITH l AS (INSERT INTO case_file_entries (case_file_id, entry_id) VALUES ($1, $2)
				RETURNING case_file_id, linked_at, linked_by)
			SELECT c.id, c.number, c.name, c.status, l.linked_at, l.linked_by FROM l JOIN case_files c ON c.id = l.case_file_id`,
			caseID, entryID).Scan(&out.ID, &out.Number, &out.Name, &out.Status, &out.LinkedAt, &out.LinkedBy)
		return postgis.Translate(err, "registers: link case file")
	})
	if err != nil {
		return LinkedCase{}, err
	}
	return out, nil
}

// UnlinkCaseFile ends the link of the case file numbered caseNumber to
// entry entryID; the link stays, stamped with who ended it and when.
// Returns NotFound when they are not linked.
func (s *Store) UnlinkCaseFile(ctx context.Context, entryID int64, caseNumber string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := entryExists(ctx, tx, entryID, false); err != nil {
			return err
		}
		caseID, err := caseByNumber(ctx, tx, caseNumber)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE case_file_entries SET unlinked_at = now()
			WHERE entry_id = $1 AND case_file_id = $2 AND unlinked_at IS NULL`, entryID, caseID)
		if err != nil {
			return postgis.Translate(err, "registers: unlink case file")
		}
		if tag.RowsAffected() == 0 {
			return &munigis.Error{Code: munigis.NotFound,
				Message:   fmt.Sprintf("case file %s is not linked to entry %d", short(strings.TrimSpace(caseNumber)), entryID),
				MessageBG: fmt.Sprintf("преписка %s не е свързана с вписване № %d", short(strings.TrimSpace(caseNumber)), entryID)}
		}
		return nil
	})
}
