package demo

import (
	"context"
	"iter"

	"github.com/jackc/pgx/v5"
)

// rowSeq returns the layer's rows as a sequence, generated as they are read.
func rowSeq(t *town, def *layerDef, e *emitter) iter.Seq[[]any] {
	return func(yield func([]any) bool) {
		e.yield, e.stopped = yield, false
		def.rows(t, e)
	}
}

// copyLayer streams one layer into its feature table with pgx.CopyFrom,
// geometries as go-geom values through the pgx-geom codec. (A hand-written
// binary COPY stream was measured 3–6 % faster; not worth owning an encoder
// that pgx already has.)
func copyLayer(ctx context.Context, tx pgx.Tx, def *layerDef, rows iter.Seq[[]any]) (int64, error) {
	next, stop := iter.Pull(rows)
	defer stop()
	names := make([]string, len(def.cols))
	for i, c := range def.cols {
		names[i] = c.name
	}
	src := &pullSource{next: next}
	return tx.CopyFrom(ctx, pgx.Identifier{"features", def.name}, names, src)
}

// pullSource is a pgx.CopyFromSource over a row sequence: each row is made
// when pgx asks for it.
type pullSource struct {
	next func() ([]any, bool)
	vals []any
}

func (s *pullSource) Next() bool {
	row, ok := s.next()
	if !ok {
		return false
	}
	s.vals = append(s.vals[:0], row...)
	s.vals[0] = row[0].(*shape).geomT()
	return true
}

func (s *pullSource) Values() ([]any, error) { return s.vals, nil }

func (s *pullSource) Err() error { return nil }
