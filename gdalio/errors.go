package gdalio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pgxgeom "github.com/twpayne/pgx-geom"

	"munigis"
)

// copyLineRE finds the row of a COPY error in PostgreSQL's error context,
// e.g. "PL/pgSQL function munigis_feature_stamp() line 11 at RAISE\nCOPY
// cadastre_parcels, line 1234".
var copyLineRE = regexp.MustCompile(`COPY [^,\n]+, line (\d+)`)

// copyLine returns the 1-based COPY row an error context names, or 0.
func copyLine(where string) int64 {
	m := copyLineRE.FindStringSubmatch(where)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// keyRE reads the column and value of a unique violation's detail,
// "Key (identifier)=(68134.1.5) already exists."
// A unique index rebuilt after a bulk COPY (bulk.go) says "is duplicated"
// instead, with no row to point at.
var keyRE = regexp.MustCompile(`^Key \((.+?)\)=\((.*)\) (?:already exists|is duplicated)`)

// copyError turns a database error raised while copying rows into a message
// naming the file, the feature and the field; nil when err is not one that
// a person can act on. COPY row N is feature N: the reader turns every
// feature into exactly one row, in order, or stops with an error.
func (r *reader) copyError(err error) *munigis.Error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	prefix := r.name
	if n := copyLine(pe.Where); n > 0 {
		prefix += fmt.Sprintf(": feature %d", n)
	}
	var msg string
	switch {
	case strings.HasPrefix(pe.Code, "MG"):
		// munigis's own triggers speak to people already, e.g. "invalid
		// geometry: Self-intersection at POINT(...)".
		msg = pe.Message
		if pe.Hint != "" {
			msg += " (" + pe.Hint + ")"
		}
	case pe.Code == "23505":
		col, val := "a unique field", ""
		if m := keyRE.FindStringSubmatch(pe.Detail); m != nil {
			col, val = r.fieldLabel(m[1]), m[2]
		}
		msg = fmt.Sprintf("field %s: %q is already taken, in layer %s or by an earlier feature of this file", col, val, r.layer.Name)
	case pe.Code == "23502":
		msg = fmt.Sprintf("field %s: a value is required", r.fieldLabel(pe.ColumnName))
	case pe.Code == "23514":
		msg = r.checkMessage(pe.ConstraintName)
	case strings.HasPrefix(pe.Code, "22"):
		msg = "a value has the wrong type or is out of range: " + pe.Message
	default:
		return nil
	}
	return &munigis.Error{Code: munigis.Invalid, Message: prefix + ": " + msg, Err: err}
}

// checkMessage explains a check violation by the suffix that
// munigis_create_layer_table gives its constraint names.
func (r *reader) checkMessage(constraint string) string {
	switch {
	case strings.HasSuffix(constraint, "_cadastral_id"):
		return fmt.Sprintf("field %s: not a valid cadastral identifier (ЕКАТТЕ.район.имот[.сграда[.обект]], with a valid ЕКАТТЕ check digit)",
			r.fieldLabel(strings.TrimSuffix(constraint, "_cadastral_id")))
	case strings.HasSuffix(constraint, "_level"):
		level := r.layer.Type.CadastralLevel
		return fmt.Sprintf("field %s: a cadastral identifier of layer %s has %d dot-separated parts (%s)",
			r.fieldLabel(strings.TrimSuffix(constraint, "_level")), r.layer.Name, level, levelExample(level))
	case strings.HasSuffix(constraint, "_enum"):
		return fmt.Sprintf("field %s: not one of the allowed values", r.fieldLabel(strings.TrimSuffix(constraint, "_enum")))
	}
	return "a value breaks the rule " + constraint
}

func levelExample(level int) string {
	switch level {
	case 3:
		return "ЕКАТТЕ.район.имот, e.g. 68134.1.5"
	case 4:
		return "ЕКАТТЕ.район.имот.сграда, e.g. 68134.1.5.1"
	case 5:
		return "ЕКАТТЕ.район.имот.сграда.обект, e.g. 68134.1.5.1.2"
	}
	return "see the layer type"
}

// fieldLabel names attribute attr by the source field that feeds it.
func (r *reader) fieldLabel(attr string) string {
	for _, c := range r.columns {
		if c.attr.Name == attr {
			return c.label()
		}
	}
	return attr
}

// gdalMessage joins the distinct lines of a GDAL error: PROJ repeats the
// same complaint for every point of a geometry.
func gdalMessage(err error) string {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return strings.Join(out, "; ")
}

// syncWriter serialises the notes of the reader goroutine and the progress
// bar, which write to the same out from different goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func registerGeom(ctx context.Context, conn *pgx.Conn) error {
	return pgxgeom.Register(ctx, conn)
}
