package documents

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"munigis/internal/postgis"
)

// The nomenclature of document types (Art. 51–53). Entries are only added:
// document_types refuses UPDATE and DELETE (Art. 53(3)).

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

const typeColumns = `t.id, t.code, coalesce(t.uri, ''), t.name, coalesce(t.explanation, ''), t.processing_mode,
	coalesce(t.signatory, ''), t.archival_value, t.storage_section, coalesce(t.retention_years, 0),
	coalesce(t.viewer_uri, ''), encode(t.template_sha256, 'hex'), f.size, f.media_type, t.created_at, t.created_by`

const typeFrom = ` FROM document_types t LEFT JOIN files f ON f.sha256 = t.template_sha256`

func scanType(row pgx.Row) (Type, error) {
	var t Type
	var sum, mediaType *string
	var size *int64
	err := row.Scan(&t.ID, &t.Code, &t.URI, &t.Name, &t.Explanation, &t.ProcessingMode, &t.Signatory,
		&t.ArchivalValue, &t.StorageSection, &t.RetentionYears, &t.ViewerURI, &sum, &size, &mediaType,
		&t.CreatedAt, &t.CreatedBy)
	if err == nil && sum != nil && size != nil && mediaType != nil {
		t.Template = &FileInfo{SHA256: *sum, Size: *size, MediaType: *mediaType}
	}
	return t, err
}

// Types returns the nomenclature by name.
func (s *Store) Types(ctx context.Context) ([]Type, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+typeColumns+typeFrom+` ORDER BY t.name, t.code`)
	if err != nil {
		return nil, postgis.Translate(err, "documents: list types")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Type, error) { return scanType(r) })
	if err != nil {
		return nil, postgis.Translate(err, "documents: list types")
	}
	return out, nil
}

// Type returns the document type with code, or NotFound.
func (s *Store) Type(ctx context.Context, code string) (Type, error) {
	return getType(ctx, s.pool, code)
}

func getType(ctx context.Context, q querier, code string) (Type, error) {
	t, err := scanType(q.QueryRow(ctx, `SELECT `+typeColumns+typeFrom+` WHERE t.code = $1`, code))
	if noRows(err) {
		return Type{}, typeNotFound(code)
	}
	if err != nil {
		return Type{}, postgis.Translate(err, "documents: get type")
	}
	return t, nil
}

// CreateType adds a document type to the nomenclature, with an optional
// template file (Art. 52(1)). The caller checks CanEditNomenclatures.
func (s *Store) CreateType(ctx context.Context, t Type, template *Upload) (Type, error) {
	t, err := normaliseType(t)
	if err != nil {
		return Type{}, err
	}
	var tf *file
	if template != nil {
		f, err := s.readUpload(template)
		if err != nil {
			return Type{}, err
		}
		tf = &f
	}
	var out Type
	err = s.tx(ctx, func(tx pgx.Tx) error {
		var sum []byte
		if tf != nil {
			if err := putFile(ctx, tx, *tf); err != nil {
				return err
			}
			sum = tf.sum[:]
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO document_types (code, uri, name, explanation, processing_mode, signatory,
				archival_value, storage_section, retention_years, viewer_uri, template_sha256)
			VALUES ($1, nullif($2, ''), $3, nullif($4, ''), $5, nullif($6, ''), $7, $8, nullif($9, 0), nullif($10, ''), $11)
			ON CONFLICT (code) DO NOTHING RETURNING id`,
			t.Code, t.URI, t.Name, t.Explanation, t.ProcessingMode, t.Signatory, t.ArchivalValue, t.StorageSection,
			t.RetentionYears, t.ViewerURI, sum).Scan(&id)
		if noRows(err) {
			// A code is never reused for another type, and an entry is
			// never changed (Art. 53(3)).
			old, _ := getType(ctx, tx, t.Code)
			return conflict(fmt.Sprintf("code: document type %s already exists (%s); types are never changed, add one with a new code", t.Code, old.Name),
				fmt.Sprintf("код: вид документ %s вече съществува (%s); видовете не се променят, добавете нов с друг код", t.Code, old.Name))
		}
		if err != nil {
			return postgis.Translate(err, "documents: add type")
		}
		out, err = getType(ctx, tx, t.Code)
		return err
	})
	if tf != nil && err == nil {
		out.Template.FileName = tf.name
	}
	return out, err
}

func normaliseType(t Type) (Type, error) {
	t.Code = strings.TrimSpace(t.Code)
	t.Name = strings.Join(strings.Fields(t.Name), " ")
	t.Explanation = strings.TrimSpace(t.Explanation)
	t.Signatory = strings.TrimSpace(t.Signatory)
	t.StorageSection = strings.TrimSpace(t.StorageSection)
	t.URI = strings.TrimSpace(t.URI)
	t.ViewerURI = strings.TrimSpace(t.ViewerURI)
	if !codeRE.MatchString(t.Code) {
		return t, invalid(fmt.Sprintf("code: %q is not a code (a lower-case Latin letter, then up to 47 letters, digits or _)", short(t.Code)),
			fmt.Sprintf("код: %q не е код (малка латинска буква, после до 47 букви, цифри или _)", short(t.Code)))
	}
	if t.Name == "" {
		return t, invalid("name: the name of the document type is required", "наименование: наименованието на вида документ е задължително")
	}
	switch t.ProcessingMode {
	case Starts, Continues, Related:
	default:
		return t, invalid(fmt.Sprintf("processing_mode: %q is not one of starts, continues, related", short(t.ProcessingMode)),
			fmt.Sprintf("начин на обработка: %q не е от starts (започва), continues (продължава), related (свързан)", short(t.ProcessingMode)))
	}
	switch t.ArchivalValue {
	case Archival, NonArchival, Expert:
	default:
		return t, invalid(fmt.Sprintf("archival_value: %q is not one of archival, non_archival, expert", short(t.ArchivalValue)),
			fmt.Sprintf("архивна стойност: %q не е от archival (с архивна стойност), non_archival (без архивна стойност), expert (за оценка от експертна комисия)", short(t.ArchivalValue)))
	}
	if t.StorageSection == "" {
		t.StorageSection = "не се класифицира"
	}
	if t.RetentionYears < 0 || t.RetentionYears > 1000 {
		return t, invalid("retention_years: the retention period is a number of years from 1 to 1000, or 0 for none",
			"срок на съхранение: брой години от 1 до 1000, или 0 без срок")
	}
	for _, u := range []struct{ name, nameBG, v string }{{"uri", "URI", t.URI}, {"viewer_uri", "URI на визуализатора", t.ViewerURI}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || p.Scheme == "" || p.Opaque == "" && p.Host == "" && p.Path == "" {
			return t, invalid(fmt.Sprintf("%s: %q is not an absolute URI", u.name, short(u.v)),
				fmt.Sprintf("%s: %q не е абсолютен URI", u.nameBG, short(u.v)))
		}
	}
	return t, nil
}
