package documents

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

// documentColumns reads a document of alias d with its type (t), current
// content version (v, f) and register entry id (e).
const documentColumns = `d.id, d.name, coalesce(t.code, ''), coalesce(t.name, ''), d.direction, coalesce(d.author, ''),
	d.author_person_id, coalesce(d.signatory, ''), coalesce(d.received_via, ''), d.for_applicant, d.content_version,
	d.version, d.created_at, d.created_by, d.updated_at, d.updated_by,
	encode(v.file_sha256, 'hex'), f.size, f.media_type, v.file_name, e.id`

const documentFrom = ` FROM documents d
	LEFT JOIN document_types t ON t.id = d.type_id
	LEFT JOIN document_versions v ON v.document_id = d.id AND v.n = d.content_version
	LEFT JOIN files f ON f.sha256 = v.file_sha256
	LEFT JOIN odr_entries e ON e.document_id = d.id`

// Get returns the document with id, with its registration, or NotFound.
// The caller decides whether the viewer may see it.
func (s *Store) Get(ctx context.Context, id int64) (Document, error) {
	return getDocument(ctx, s.pool, id, false)
}

// GetTx is Get inside the caller's transaction.
func (s *Store) GetTx(ctx context.Context, tx pgx.Tx, id int64) (Document, error) {
	return getDocument(ctx, tx, id, false)
}

func getDocument(ctx context.Context, q querier, id int64, lock bool) (Document, error) {
	if lock {
		// Locked by a statement of its own: the read below is a new
		// statement, so under READ COMMITTED it sees what the transaction
		// that held the lock committed (its register entry, say), which a
		// joined FOR UPDATE would not re-read.
		var one int
		err := q.QueryRow(ctx, `SELECT 1 FROM documents WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if noRows(err) {
			return Document{}, documentNotFound(id)
		}
		if err != nil {
			return Document{}, postgis.Translate(err, "documents: lock document")
		}
	}
	ds, err := getDocuments(ctx, q, []int64{id})
	if err != nil {
		return Document{}, err
	}
	d, ok := ds[id]
	if !ok {
		return Document{}, documentNotFound(id)
	}
	return d, nil
}

// GetMany returns the documents with ids that exist, by id, each with its
// registration: two queries however many there are (a case file lists
// dozens). The caller decides whether the viewer may see them.
func (s *Store) GetMany(ctx context.Context, ids []int64) (map[int64]Document, error) {
	return getDocuments(ctx, s.pool, ids)
}

// GetManyTx is GetMany inside the caller's transaction.
func (s *Store) GetManyTx(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]Document, error) {
	return getDocuments(ctx, tx, ids)
}

func getDocuments(ctx context.Context, q querier, ids []int64) (map[int64]Document, error) {
	out := make(map[int64]Document, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT `+documentColumns+documentFrom+` WHERE d.id = ANY ($1)`, ids)
	if err != nil {
		return nil, postgis.Translate(err, "documents: get documents")
	}
	defer rows.Close()
	entryOf := map[int64]int64{} // registration entry -> document
	for rows.Next() {
		var d Document
		var sum, mediaType, fileName *string
		var size, entryID *int64
		if err := rows.Scan(&d.ID, &d.Name, &d.TypeCode, &d.TypeName, &d.Direction, &d.Author,
			&d.AuthorPersonID, &d.Signatory, &d.ReceivedVia, &d.ForApplicant, &d.ContentVersion,
			&d.Version, &d.CreatedAt, &d.CreatedBy, &d.UpdatedAt, &d.UpdatedBy,
			&sum, &size, &mediaType, &fileName, &entryID); err != nil {
			return nil, postgis.Translate(err, "documents: get documents")
		}
		if sum != nil && size != nil && mediaType != nil && fileName != nil {
			d.File = &FileInfo{SHA256: *sum, Size: *size, MediaType: *mediaType, FileName: *fileName}
		}
		if entryID != nil {
			entryOf[*entryID] = d.ID
		}
		out[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "documents: get documents")
	}
	rows.Close()
	if len(entryOf) == 0 {
		return out, nil
	}
	entries := make([]int64, 0, len(entryOf))
	for e := range entryOf {
		entries = append(entries, e)
	}
	rs, _, err := scanRegistrations(ctx, q, `WHERE e.id = ANY ($1)`, entries)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		d := out[entryOf[r.ID]]
		d.Registration = &r
		out[d.ID] = d
	}
	return out, nil
}

// checked is a NewDocument checked without the database, its file read.
type checked struct {
	NewDocument
	file *file
}

// check validates nd and reads its file; nothing touches the database, so
// a refused file or field leaves nothing behind.
func (s *Store) check(nd NewDocument) (checked, error) {
	nd.Name = strings.Join(strings.Fields(nd.Name), " ")
	nd.TypeCode = strings.TrimSpace(nd.TypeCode)
	nd.Direction = strings.TrimSpace(nd.Direction)
	nd.Author = strings.TrimSpace(nd.Author)
	nd.Signatory = strings.TrimSpace(nd.Signatory)
	nd.ReceivedVia = strings.TrimSpace(nd.ReceivedVia)
	nd.ReceivedOn = strings.TrimSpace(nd.ReceivedOn)
	if nd.Name == "" {
		return checked{}, invalid("name: the name of the document is required", "наименование: наименованието на документа е задължително")
	}
	if len([]rune(nd.Name)) > 1000 {
		return checked{}, invalid("name: at most 1000 characters", "наименование: най-много 1000 знака")
	}
	if nd.Direction == "" {
		nd.Direction = Incoming
	}
	switch nd.Direction {
	case Incoming, Outgoing, Internal:
	default:
		return checked{}, invalid(fmt.Sprintf("direction: %q is not one of incoming, outgoing, internal", short(nd.Direction)),
			fmt.Sprintf("посока: %q не е от incoming (входящ), outgoing (изходящ), internal (вътрешен)", short(nd.Direction)))
	}
	if nd.Register && nd.TypeCode == "" {
		return checked{}, invalid("type: a document is registered with its type (Art. 28(1) p. 5)",
			"вид: документът се регистрира с вида си (чл. 28, ал. 1, т. 5)")
	}
	if nd.ReceivedOn != "" || nd.Register {
		if _, err := s.receivedOn(nd.ReceivedOn); err != nil {
			return checked{}, err
		}
	}
	c := checked{NewDocument: nd}
	if nd.File != nil {
		f, err := s.readUpload(nd.File)
		if err != nil {
			return checked{}, err
		}
		c.file = &f
	}
	return c, nil
}

// Create stores a new document, with its first content version when
// nd.File is set and, when nd.Register, its registration in the official
// register, all in one transaction. The upload is read and checked
// (size, type) before the database is touched.
func (s *Store) Create(ctx context.Context, nd NewDocument) (Document, error) {
	c, err := s.check(nd)
	if err != nil {
		return Document{}, err
	}
	if c.Register {
		ctx = s.registeringContext(ctx)
	}
	var out Document
	err = s.tx(ctx, func(tx pgx.Tx) error {
		out, err = s.create(ctx, tx, c)
		return err
	})
	return out, err
}

// CreateTx is Create inside the caller's transaction (package casefiles
// opens a case file with its initiating document in one).
func (s *Store) CreateTx(ctx context.Context, tx pgx.Tx, nd NewDocument) (Document, error) {
	c, err := s.check(nd)
	if err != nil {
		return Document{}, err
	}
	return s.create(ctx, tx, c)
}

func (s *Store) create(ctx context.Context, tx pgx.Tx, c checked) (Document, error) {
	var typeID *int64
	if c.TypeCode != "" {
		t, err := typeForInput(ctx, tx, c.TypeCode)
		if err != nil {
			return Document{}, err
		}
		typeID = &t.ID
	}
	if err := checkPerson(ctx, tx, c.AuthorPersonID); err != nil {
		return Document{}, err
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO documents (name, type_id, direction, author, author_person_id, signatory, received_via, for_applicant)
		VALUES ($1, $2, $3, nullif($4, ''), $5, nullif($6, ''), nullif($7, ''), $8) RETURNING id`,
		c.Name, typeID, c.Direction, c.Author, c.AuthorPersonID, c.Signatory, c.ReceivedVia, c.ForApplicant).Scan(&id)
	if err != nil {
		return Document{}, postgis.Translate(err, "documents: create document")
	}
	if c.file != nil {
		if err := addContent(ctx, tx, id, 1, *c.file); err != nil {
			return Document{}, err
		}
	}
	if c.Register {
		if _, err := s.RegisterTx(ctx, tx, id, c.TypeCode, c.ReceivedOn); err != nil {
			return Document{}, err
		}
	}
	return getDocument(ctx, tx, id, false)
}

// typeForInput is the type named in input: an unknown code is Invalid
// there (the request is wrong), not NotFound.
func typeForInput(ctx context.Context, q querier, code string) (Type, error) {
	t, err := getType(ctx, q, code)
	if munigis.ErrorCode(err) == munigis.NotFound {
		return Type{}, invalid(fmt.Sprintf("type: document type %q does not exist in the nomenclature", short(code)),
			fmt.Sprintf("вид: вид документ %q не съществува в номенклатурата", short(code)))
	}
	return t, err
}

func checkPerson(ctx context.Context, q querier, id *int64) error {
	if id == nil {
		return nil
	}
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM persons WHERE id = $1)`, *id).Scan(&ok); err != nil {
		return postgis.Translate(err, "documents: check author")
	}
	if !ok {
		return invalid(fmt.Sprintf("author_person_id: person %d does not exist", *id),
			fmt.Sprintf("автор: лице %d не съществува", *id))
	}
	return nil
}

// addContent stores f as content version n of document id and makes it
// the current one.
func addContent(ctx context.Context, tx pgx.Tx, id int64, n int, f file) error {
	if err := putFile(ctx, tx, f); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO document_versions (document_id, n, file_sha256, file_name) VALUES ($1, $2, $3, $4)`,
		id, n, f.sum[:], f.name); err != nil {
		return postgis.Translate(err, "documents: add content version")
	}
	if _, err := tx.Exec(ctx, `UPDATE documents SET content_version = $2 WHERE id = $1`, id, n); err != nil {
		return postgis.Translate(err, "documents: add content version")
	}
	return nil
}

// staleVersion is the Conflict of an edit made on an old version.
func staleVersion(d Document, version int) error {
	return conflict(
		fmt.Sprintf("version: document %d was changed by %s at %s (version %d, you edited version %d); reload it",
			d.ID, d.UpdatedBy, d.UpdatedAt.In(sofia).Format("02.01.2006 15:04:05"), d.Version, version),
		fmt.Sprintf("версия: документ %d е променен от %s в %s (версия %d, вие редактирахте версия %d); заредете го отново",
			d.ID, d.UpdatedBy, d.UpdatedAt.In(sofia).Format("02.01.2006 15:04:05"), d.Version, version))
}

// AddVersion adds a content version to document id. version is the
// document's version the caller saw (Document.Version): an edit on an
// older one is a Conflict, so a second clerk's upload never silently
// replaces the first's. Earlier versions stay readable (Versions,
// Content).
func (s *Store) AddVersion(ctx context.Context, id int64, version int, u Upload) (Document, error) {
	f, err := s.readUpload(&u)
	if err != nil {
		return Document{}, err
	}
	var out Document
	err = s.tx(ctx, func(tx pgx.Tx) error {
		d, err := getDocument(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if d.Version != version {
			return staleVersion(d, version)
		}
		if err := addContent(ctx, tx, id, d.ContentVersion+1, f); err != nil {
			return err
		}
		out, err = getDocument(ctx, tx, id, false)
		return err
	})
	return out, err
}

// Update changes a document's metadata (name, type, direction, author,
// signatory, received via, for applicant) from version; the old row goes
// to record_versions. The type of a registered document is part of its
// register entry and changes only through Correct (Art. 29).
func (s *Store) Update(ctx context.Context, id int64, version int, nd NewDocument) (Document, error) {
	nd.File, nd.Register, nd.ReceivedOn = nil, false, ""
	c, err := s.check(nd)
	if err != nil {
		return Document{}, err
	}
	var out Document
	err = s.tx(ctx, func(tx pgx.Tx) error {
		d, err := getDocument(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if d.Version != version {
			return staleVersion(d, version)
		}
		if d.Registration != nil && c.TypeCode != d.TypeCode {
			return conflict(fmt.Sprintf("type: document %d is registered as %s; its type is corrected in the register (Art. 29)", id, d.Registration.Number),
				fmt.Sprintf("вид: документ %d е регистриран с № %s; видът му се поправя в регистъра (чл. 29)", id, d.Registration.Number))
		}
		var typeID *int64
		if c.TypeCode != "" {
			t, err := typeForInput(ctx, tx, c.TypeCode)
			if err != nil {
				return err
			}
			typeID = &t.ID
		}
		if err := checkPerson(ctx, tx, c.AuthorPersonID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE documents SET name = $2, type_id = $3, direction = $4, author = nullif($5, ''),
				author_person_id = $6, signatory = nullif($7, ''), received_via = nullif($8, ''), for_applicant = $9
			WHERE id = $1`,
			id, c.Name, typeID, c.Direction, c.Author, c.AuthorPersonID, c.Signatory, c.ReceivedVia, c.ForApplicant)
		if err != nil {
			return postgis.Translate(err, "documents: update document")
		}
		out, err = getDocument(ctx, tx, id, false)
		return err
	})
	return out, err
}

// Versions returns the content versions of document id, oldest first.
func (s *Store) Versions(ctx context.Context, id int64) ([]ContentVersion, error) {
	if _, err := getDocument(ctx, s.pool, id, false); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT v.n, encode(v.file_sha256, 'hex'), f.size, f.media_type, v.file_name, v.created_at, v.created_by
		FROM document_versions v JOIN files f ON f.sha256 = v.file_sha256
		WHERE v.document_id = $1 ORDER BY v.n`, id)
	if err != nil {
		return nil, postgis.Translate(err, "documents: content versions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ContentVersion, error) {
		var v ContentVersion
		err := r.Scan(&v.N, &v.File.SHA256, &v.File.Size, &v.File.MediaType, &v.File.FileName, &v.CreatedAt, &v.CreatedBy)
		return v, err
	})
	if err != nil {
		return nil, postgis.Translate(err, "documents: content versions")
	}
	if out == nil {
		out = []ContentVersion{}
	}
	return out, nil
}

// Content returns content version contentVersion of document id (0 = the
// current one) and its bytes.
func (s *Store) Content(ctx context.Context, id int64, contentVersion int) (FileInfo, []byte, error) {
	if contentVersion < 0 {
		return FileInfo{}, nil, invalid("version: a content version is 1 or more (0 = the current one)",
			"версия: версията на съдържанието е 1 или повече (0 = текущата)")
	}
	var fi FileInfo
	var content []byte
	var n int
	err := s.pool.QueryRow(ctx, `SELECT v.n, encode(v.file_sha256, 'hex'), f.size, f.media_type, v.file_name, f.content
		FROM documents d
		JOIN document_versions v ON v.document_id = d.id AND v.n = CASE WHEN $2 = 0 THEN d.content_version ELSE $2 END
		JOIN files f ON f.sha256 = v.file_sha256
		WHERE d.id = $1`, id, contentVersion).Scan(&n, &fi.SHA256, &fi.Size, &fi.MediaType, &fi.FileName, &content)
	if noRows(err) {
		if _, err := getDocument(ctx, s.pool, id, false); err != nil {
			return FileInfo{}, nil, err
		}
		if contentVersion == 0 {
			return FileInfo{}, nil, notFound(fmt.Sprintf("document %d has no content yet", id),
				fmt.Sprintf("документ %d още няма съдържание", id))
		}
		return FileInfo{}, nil, notFound(fmt.Sprintf("document %d has no content version %d", id, contentVersion),
			fmt.Sprintf("документ %d няма версия %d на съдържанието", id, contentVersion))
	}
	if err != nil {
		return FileInfo{}, nil, postgis.Translate(err, "documents: content")
	}
	return fi, content, nil
}
