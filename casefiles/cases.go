package casefiles

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"munigis"
	"munigis/documents"
	"munigis/internal/postgis"
)

const caseColumns = `c.id, c.number, c.name, c.explanation, coalesce(sv.code, ''), coalesce(sv.name, ''), c.status,
	c.opening_document_id, c.applicant_person_id, c.unit_id, coalesce(to_char(c.due_on, 'YYYY-MM-DD'), ''),
	c.version, c.created_at, c.created_by, c.updated_at, c.updated_by, c.closed_at`

const caseFrom = ` FROM case_files c LEFT JOIN services sv ON sv.id = c.service_id`

func scanCase(row pgx.Row) (CaseFile, error) {
	var c CaseFile
	err := row.Scan(&c.ID, &c.Number, &c.Name, &c.Explanation, &c.ServiceCode, &c.ServiceName, &c.Status,
		&c.OpeningDocumentID, &c.ApplicantPersonID, &c.UnitID, &c.DueOn,
		&c.Version, &c.CreatedAt, &c.CreatedBy, &c.UpdatedAt, &c.UpdatedBy, &c.ClosedAt)
	c.Identifiers, c.Features = []string{}, []FeatureLink{}
	return c, err
}

// identifierRE is the shape of a cadastral identifier (the check digit is
// checked by the database, cadastral_id_valid).
var identifierRE = regexp.MustCompile(`^[0-9]{5}\.[0-9]{1,4}\.[0-9]{1,4}(\.[0-9]{1,4}){0,2}$`)

func cleanIdentifiers(ids []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !identifierRE.MatchString(id) {
			return nil, invalid(fmt.Sprintf("identifiers: %q is not a cadastral identifier (ЕКАТТЕ.район.имот[.сграда[.обект]])", id),
				fmt.Sprintf("идентификатори: %q не е кадастрален идентификатор (ЕКАТТЕ.район.имот[.сграда[.обект]])", id))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// Open opens a case file on its opening document in one transaction
// (Art. 44): the document is created or loaded and registered if it is not
// yet, and its registration number becomes the case's number; the opening
// document is item 1 of the official section; the links are made; for a
// service, one pending task per stage is planned stage after stage from
// today in the service's kind of days (Art. 65(2)), the first in progress.
// The access identifier is returned once; only its hash is kept. The caller
// checks access.CanEditCases (and CanRegisterDocuments when the document
// is not yet registered).
func (s *Store) Open(ctx context.Context, o Opening) (Opened, error) {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		return Opened{}, invalid("name is required (the subject of the case file, Art. 44(1) p. 1)",
			"наименованието е задължително (предметът на преписката, чл. 44, ал. 1, т. 1)")
	}
	if (o.DocumentID != 0) == (o.Document != nil) {
		return Opened{}, invalid("document_id or document: give exactly one opening document",
			"document_id или document: посочете точно един образуващ документ")
	}
	ids, err := cleanIdentifiers(o.Identifiers)
	if err != nil {
		return Opened{}, err
	}
	code, hash, err := newAccessCode()
	if err != nil {
		return Opened{}, fmt.Errorf("casefiles: access code: %w", err)
	}
	today := s.today()
	var out Opened
	err = s.tx(ctx, func(tx pgx.Tx) error {
		var doc documents.Document
		var err error
		if o.Document != nil {
			if doc, err = s.docs.CreateTx(ctx, tx, *o.Document); err != nil {
				return err
			}
		} else if doc, err = s.docs.GetTx(ctx, tx, o.DocumentID); err != nil {
			return err
		}
		typeCode := doc.TypeCode
		if typeCode == "" && o.Document != nil {
			typeCode = o.Document.TypeCode
		}
		if typeCode == "" {
			return invalid("document: the opening document needs a type whose processing mode is 'starts' (Art. 52(1) p. 4)",
				"документ: образуващият документ трябва да има вид с начин на обработка „образува“ (чл. 52, ал. 1, т. 4)")
		}
		var mode string
		err = tx.QueryRow(ctx, `SELECT processing_mode FROM document_types WHERE code = $1`, typeCode).Scan(&mode)
		if err != nil {
			return postgis.Translate(err, "casefiles: document type")
		}
		if mode != documents.Starts {
			return invalid(fmt.Sprintf("document: a document of type %q (processing mode %s) does not start a case file; its mode must be 'starts' (Art. 52(1) p. 4)", typeCode, mode),
				fmt.Sprintf("документ: документ от вид %q (начин на обработка %s) не образува преписка (чл. 52, ал. 1, т. 4)", typeCode, mode))
		}
		number := ""
		if doc.Registration != nil {
			number = doc.Registration.Number
		} else {
			reg, err := s.docs.RegisterTx(ctx, tx, doc.ID, typeCode, "")
			if err != nil {
				return err
			}
			number = reg.Number
		}
		var svc *Service
		if strings.TrimSpace(o.ServiceCode) != "" {
			v, err := getService(ctx, tx, o.ServiceCode)
			if err != nil {
				if munigis.ErrorCode(err) == munigis.NotFound {
					return invalid(fmt.Sprintf("service: no service or procedure with code %q", o.ServiceCode),
						fmt.Sprintf("услуга: няма услуга или процедура с код %q", o.ServiceCode))
				}
				return err
			}
			svc = &v
		}
		var serviceID *int64
		var dueOn *string
		if svc != nil {
			serviceID = &svc.ID
			days := svc.StatutoryDays
			if svc.InternalDays != nil {
				days = svc.InternalDays
			}
			if days != nil {
				d := dateString(s.cal.Add(today, *days, svc.DayKind))
				dueOn = &d
			}
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO case_files (number, opening_document_id, name, explanation, service_id,
				applicant_person_id, unit_id, due_on)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date) RETURNING id`,
			number, doc.ID, o.Name, strings.TrimSpace(o.Explanation), serviceID, o.ApplicantPersonID, o.UnitID, dueOn).Scan(&id)
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" {
				return &munigis.Error{Code: munigis.Conflict, Err: err,
					Message:   fmt.Sprintf("document %d (%s) already opened a case file", doc.ID, number),
					MessageBG: fmt.Sprintf("документ № %d (%s) вече е образувал преписка", doc.ID, number)}
			}
			return postgis.Translate(err, "casefiles: open")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_file_access (case_file_id, code_hash) VALUES ($1, $2)`, id, hash); err != nil {
			return postgis.Translate(err, "casefiles: access code")
		}
		if _, err := insertItem(ctx, tx, id, Official, &doc.ID, nil, nil); err != nil {
			return err
		}
		if err := link(ctx, tx, id, ids, o.Features); err != nil {
			return err
		}
		if svc != nil {
			if err := s.planStages(ctx, tx, id, *svc, o, today); err != nil {
				return err
			}
		}
		c, err := s.getCase(ctx, tx, id)
		out = Opened{CaseFile: c, AccessCode: code}
		return err
	})
	return out, err
}

// planStages creates one pending task per stage of svc (Art. 65(2)): each
// planned to start when the one before is planned to end and to last the
// stage's days in the service's kind of days; the first starts today and
// is in progress.
func (s *Store) planStages(ctx context.Context, tx pgx.Tx, caseID int64, svc Service, o Opening, today time.Time) error {
	start := today
	for i, st := range svc.Stages {
		end := s.cal.Add(start, st.Days, svc.DayKind)
		unit := st.ExecutorUnitID
		if unit == nil {
			unit = svc.UnitID
		}
		if unit == nil {
			unit = o.UnitID
		}
		var executor *int64
		if i == 0 && strings.TrimSpace(o.ExecutorSystemID) != "" {
			id, err := userID(ctx, tx, o.ExecutorSystemID)
			if err != nil {
				return err
			}
			executor = &id
		} else if unit != nil {
			if err := tx.QueryRow(ctx, `SELECT head_user_id FROM units WHERE id = $1`, *unit).Scan(&executor); err != nil {
				return postgis.Translate(err, "casefiles: unit head")
			}
		}
		state, actualStart := NotDone, (*string)(nil)
		if i == 0 {
			d := dateString(today)
			state, actualStart = InProgress, &d
		}
		_, err := tx.Exec(ctx, `INSERT INTO tasks (case_file_id, stage_id, ordinal, name, description, stage,
				executor_user_id, unit_id, planned_start, planned_end, actual_start, list, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10::date, $11::date, 'pending', $12)`,
			caseID, st.ID, st.Ordinal, st.Name, st.Description, st.Name, executor, unit,
			dateString(start), dateString(end), actualStart, state)
		if err != nil {
			return postgis.Translate(err, "casefiles: plan stage")
		}
		start = end
	}
	return nil
}

// Get returns the case file with its links, all items of its three
// sections (with their documents) and its tasks. The caller checks
// access.CanReadCases.
func (s *Store) Get(ctx context.Context, id int64) (CaseFile, error) {
	return s.getCase(ctx, s.pool, id)
}

// GetByNumber returns the case file whose number is number.
func (s *Store) GetByNumber(ctx context.Context, number string) (CaseFile, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM case_files WHERE number = $1`, strings.TrimSpace(number)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return CaseFile{}, notFound(fmt.Sprintf("no case file with number %q", number), fmt.Sprintf("няма преписка с номер %q", number))
	}
	if err != nil {
		return CaseFile{}, postgis.Translate(err, "casefiles: get by number")
	}
	return s.Get(ctx, id)
}

// fillDocuments sets the Document of every item that holds one, reading
// them all at once.
func (s *Store) fillDocuments(ctx context.Context, q querier, its []Item) error {
	var ids []int64
	for _, it := range its {
		if it.DocumentID != nil {
			ids = append(ids, *it.DocumentID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var docs map[int64]documents.Document
	var err error
	if tx, ok := q.(pgx.Tx); ok {
		docs, err = s.docs.GetManyTx(ctx, tx, ids)
	} else {
		docs, err = s.docs.GetMany(ctx, ids)
	}
	if err != nil {
		return err
	}
	for i := range its {
		if id := its[i].DocumentID; id != nil {
			d, ok := docs[*id]
			if !ok {
				// documents are never deleted (migration 000012)
				return fmt.Errorf("casefiles: item %d names document %d, which is missing", its[i].ID, *id)
			}
			its[i].Document = &d
		}
	}
	return nil
}

func (s *Store) getCase(ctx context.Context, q querier, id int64) (CaseFile, error) {
	c, err := scanCase(q.QueryRow(ctx, `SELECT `+caseColumns+caseFrom+` WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return CaseFile{}, caseNotFound(id)
	}
	if err != nil {
		return CaseFile{}, postgis.Translate(err, "casefiles: get")
	}
	if err := fillLinks(ctx, q, []*CaseFile{&c}); err != nil {
		return CaseFile{}, err
	}
	if c.Items, err = items(ctx, q, id, 0); err != nil {
		return CaseFile{}, err
	}
	if err := s.fillDocuments(ctx, q, c.Items); err != nil {
		return CaseFile{}, err
	}
	if c.Tasks, err = tasksOf(ctx, q, `t.case_file_id = $1 ORDER BY t.ordinal, t.id`, id); err != nil {
		return CaseFile{}, err
	}
	return c, nil
}

// fillLinks reads the live links of cases.
func fillLinks(ctx context.Context, q querier, cases []*CaseFile) error {
	if len(cases) == 0 {
		return nil
	}
	byID := map[int64]*CaseFile{}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		byID[c.ID], ids[i] = c, c.ID
	}
	rows, err := q.Query(ctx, `SELECT case_file_id, identifier, NULL::text, NULL::bigint FROM case_file_objects
			WHERE case_file_id = ANY ($1) AND unlinked_at IS NULL
		UNION ALL
		SELECT case_file_id, NULL, layer, feature_id FROM case_file_features
			WHERE case_file_id = ANY ($1) AND unlinked_at IS NULL
		ORDER BY 1, 2, 3, 4`, ids)
	if err != nil {
		return postgis.Translate(err, "casefiles: links")
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var ident, layer *string
		var fid *int64
		if err := rows.Scan(&cid, &ident, &layer, &fid); err != nil {
			return postgis.Translate(err, "casefiles: links")
		}
		c := byID[cid]
		if ident != nil {
			c.Identifiers = append(c.Identifiers, *ident)
		} else {
			c.Features = append(c.Features, FeatureLink{Layer: *layer, FeatureID: *fid})
		}
	}
	return postgis.Translate(rows.Err(), "casefiles: links")
}

// List returns the case files matching q, newest first, and how many
// match in all.
func (s *Store) List(ctx context.Context, q Query) ([]CaseFile, int64, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Status != "" {
		if q.Status != Open && q.Status != Closed && q.Status != Cancelled {
			return nil, 0, invalid("status: open, closed or cancelled", "състояние: open, closed или cancelled")
		}
		where = append(where, "c.status = "+arg(q.Status))
	}
	if q.Service != "" {
		where = append(where, "sv.code = "+arg(strings.TrimSpace(q.Service)))
	}
	if q.Identifier != "" {
		ids, err := cleanIdentifiers([]string{q.Identifier})
		if err != nil {
			return nil, 0, err
		}
		p := arg(ids[0])
		cond := "o.identifier = " + p
		if q.Below {
			cond = "(" + cond + " OR o.identifier LIKE " + p + " || '.%')"
		}
		where = append(where, "EXISTS (SELECT 1 FROM case_file_objects o WHERE o.case_file_id = c.id AND o.unlinked_at IS NULL AND "+cond+")")
	}
	if t := strings.TrimSpace(q.Q); t != "" {
		// % and _ typed in the search are themselves.
		p := arg(strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(t))
		where = append(where, "(c.number ILIKE '%' || "+p+" || '%' OR munigis_fold(c.name) LIKE '%' || munigis_fold("+p+") || '%')")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*)`+caseFrom+cond, args...).Scan(&total); err != nil {
		return nil, 0, postgis.Translate(err, "casefiles: list")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+caseColumns+caseFrom+cond+
		fmt.Sprintf(` ORDER BY c.created_at DESC, c.id DESC LIMIT %d OFFSET %d`, q.Limit, q.Offset), args...)
	if err != nil {
		return nil, 0, postgis.Translate(err, "casefiles: list")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseFile, error) { return scanCase(r) })
	if err != nil {
		return nil, 0, postgis.Translate(err, "casefiles: list")
	}
	ptrs := make([]*CaseFile, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := fillLinks(ctx, s.pool, ptrs); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// lockCase locks the case row for a write and returns its status and
// version.
func lockCase(ctx context.Context, tx pgx.Tx, id int64) (status string, version int, err error) {
	err = tx.QueryRow(ctx, `SELECT status, version FROM case_files WHERE id = $1 FOR UPDATE`, id).Scan(&status, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, caseNotFound(id)
	}
	if err != nil {
		return "", 0, postgis.Translate(err, "casefiles: lock")
	}
	return status, version, nil
}

func notOpen(id int64, status string) error {
	return invalid(fmt.Sprintf("case file %d is %s: it no longer changes", id, status),
		fmt.Sprintf("преписка № %d е %s: тя вече не се променя", id, statusBG(status)))
}

func statusBG(status string) string {
	switch status {
	case Closed:
		return "приключена"
	case Cancelled:
		return "прекратена"
	}
	return "открита"
}

// Close closes (status "closed") or cancels ("cancelled") an open case
// file. Closing needs every task completed or cancelled; cancelling moves
// the pending tasks to the cancelled list (Art. 65(5)). A stale version is
// a Conflict.
func (s *Store) Close(ctx context.Context, caseID int64, version int, status string) (CaseFile, error) {
	if status != Closed && status != Cancelled {
		return CaseFile{}, invalid("status: closed or cancelled", "състояние: closed (приключена) или cancelled (прекратена)")
	}
	var out CaseFile
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, v, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if v != version {
			return stale("case file", caseID, version)
		}
		if cur != Open {
			return notOpen(caseID, cur)
		}
		if status == Closed {
			var pending int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE case_file_id = $1 AND list = 'pending'`, caseID).Scan(&pending); err != nil {
				return postgis.Translate(err, "casefiles: close")
			}
			if pending > 0 {
				return invalid(fmt.Sprintf("status: case file %d still has %d pending task(s); complete or cancel them first", caseID, pending),
					fmt.Sprintf("състояние: преписка № %d има %d неприключени задачи; изпълнете или отменете ги първо", caseID, pending))
			}
		} else {
			if _, err := tx.Exec(ctx, `UPDATE tasks SET list = 'cancelled', state = 'not_done'
				WHERE case_file_id = $1 AND list = 'pending'`, caseID); err != nil {
				return postgis.Translate(err, "casefiles: cancel tasks")
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE case_files SET status = $2, closed_at = date_trunc('second', now()) WHERE id = $1`,
			caseID, status); err != nil {
			return postgis.Translate(err, "casefiles: close")
		}
		out, err = s.getCase(ctx, tx, caseID)
		return err
	})
	return out, err
}

// NewAccessCode replaces the case's access identifier with a new one,
// returned once (the old one stops working): for an applicant who lost it
// or asked for electronic access later (Art. 44(3)).
func (s *Store) NewAccessCode(ctx context.Context, caseID int64) (string, error) {
	code, hash, err := newAccessCode()
	if err != nil {
		return "", fmt.Errorf("casefiles: access code: %w", err)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE case_file_access SET code_hash = $2 WHERE case_file_id = $1`, caseID, hash)
		if err != nil {
			return postgis.Translate(err, "casefiles: access code")
		}
		if tag.RowsAffected() == 0 {
			return caseNotFound(caseID)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// Link links an open case file to cadastral identifiers and features
// (already linked ones are left as they are) and returns it.
func (s *Store) Link(ctx context.Context, caseID int64, identifiers []string, features []FeatureLink) (CaseFile, error) {
	ids, err := cleanIdentifiers(identifiers)
	if err != nil {
		return CaseFile{}, err
	}
	var out CaseFile
	err = s.tx(ctx, func(tx pgx.Tx) error {
		status, _, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if status != Open {
			return notOpen(caseID, status)
		}
		if err := link(ctx, tx, caseID, ids, features); err != nil {
			return err
		}
		out, err = s.getCase(ctx, tx, caseID)
		return err
	})
	return out, err
}

func link(ctx context.Context, tx pgx.Tx, caseID int64, ids []string, features []FeatureLink) error {
	if len(ids) > 0 {
		_, err := tx.Exec(ctx, `INSERT INTO case_file_objects (case_file_id, identifier)
			SELECT $1, i FROM unnest($2::text[]) i
			ON CONFLICT (case_file_id, identifier) WHERE unlinked_at IS NULL DO NOTHING`, caseID, ids)
		if err != nil {
			return postgis.Translate(err, "casefiles: link")
		}
	}
	for _, f := range features {
		_, err := tx.Exec(ctx, `INSERT INTO case_file_features (case_file_id, layer, feature_id)
			VALUES ($1, $2, $3)
			ON CONFLICT (case_file_id, layer, feature_id) WHERE unlinked_at IS NULL DO NOTHING`, caseID, f.Layer, f.FeatureID)
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" {
				return invalid(fmt.Sprintf("features: no layer %q", f.Layer), fmt.Sprintf("обекти: няма слой %q", f.Layer))
			}
			return postgis.Translate(err, "casefiles: link feature")
		}
	}
	return nil
}

// Unlink ends the given links of an open case file (kept as history) and
// returns it. A link that does not exist is Invalid.
func (s *Store) Unlink(ctx context.Context, caseID int64, identifiers []string, features []FeatureLink) (CaseFile, error) {
	ids, err := cleanIdentifiers(identifiers)
	if err != nil {
		return CaseFile{}, err
	}
	var out CaseFile
	err = s.tx(ctx, func(tx pgx.Tx) error {
		status, _, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if status != Open {
			return notOpen(caseID, status)
		}
		for _, id := range ids {
			tag, err := tx.Exec(ctx, `UPDATE case_file_objects SET unlinked_at = now()
				WHERE case_file_id = $1 AND identifier = $2 AND unlinked_at IS NULL`, caseID, id)
			if err != nil {
				return postgis.Translate(err, "casefiles: unlink")
			}
			if tag.RowsAffected() == 0 {
				return invalid(fmt.Sprintf("identifiers: case file %d is not linked to %s", caseID, id),
					fmt.Sprintf("идентификатори: преписка № %d не е свързана с %s", caseID, id))
			}
		}
		for _, f := range features {
			tag, err := tx.Exec(ctx, `UPDATE case_file_features SET unlinked_at = now()
				WHERE case_file_id = $1 AND layer = $2 AND feature_id = $3 AND unlinked_at IS NULL`, caseID, f.Layer, f.FeatureID)
			if err != nil {
				return postgis.Translate(err, "casefiles: unlink")
			}
			if tag.RowsAffected() == 0 {
				return invalid(fmt.Sprintf("features: case file %d is not linked to %s/%d", caseID, f.Layer, f.FeatureID),
					fmt.Sprintf("обекти: преписка № %d не е свързана с %s/%d", caseID, f.Layer, f.FeatureID))
			}
		}
		out, err = s.getCase(ctx, tx, caseID)
		return err
	})
	return out, err
}
