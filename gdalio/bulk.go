package gdalio

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"munigis/layers"
)

// bulkMinFeatures is the import size from which the layer's secondary
// indexes are dropped before COPY and rebuilt after it, inside the import's
// transaction, when the layer holds fewer rows than the file brings.
// Building a GiST index once over sorted input is several times cheaper than
// inserting a million rows into it one by one (measured: 200,000 polygons,
// 8.8 s of index upkeep during COPY against 1.3 s to rebuild). The price is
// that readers of this one layer wait for the import to commit, since
// DROP INDEX locks the table: acceptable for loading a layer, which is what
// imports of this size do.
var bulkMinFeatures int64 = 50_000

type savedIndex struct{ name, def string }

// deferIndexes drops the secondary (non-constraint) indexes of l's table
// when an import of count features qualifies (see bulkMinFeatures), and
// returns a function that recreates them. When the import does not
// qualify, it drops nothing and the returned function does nothing.
func deferIndexes(ctx context.Context, tx pgx.Tx, l layers.Layer, count int64) (func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	if count < bulkMinFeatures {
		return noop, nil
	}
	// Count at most count rows: enough to decide, cheap on a big layer.
	var existing int64
	err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+l.Table()+` LIMIT $1) x`, count).Scan(&existing)
	if err != nil {
		return nil, fmt.Errorf("gdalio: import: size of %s: %w", l.Name, err)
	}
	if existing >= count {
		return noop, nil
	}
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = $1::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, l.Table())
	if err != nil {
		return nil, fmt.Errorf("gdalio: import: indexes of %s: %w", l.Name, err)
	}
	saved, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (savedIndex, error) {
		var s savedIndex
		return s, row.Scan(&s.name, &s.def)
	})
	if err != nil {
		return nil, fmt.Errorf("gdalio: import: indexes of %s: %w", l.Name, err)
	}
	for _, s := range saved {
		if _, err := tx.Exec(ctx, `DROP INDEX `+s.name); err != nil {
			return nil, fmt.Errorf("gdalio: import: drop index %s: %w", s.name, err)
		}
	}
	return func(ctx context.Context) error {
		for _, s := range saved {
			if _, err := tx.Exec(ctx, s.def); err != nil {
				return err
			}
		}
		return nil
	}, nil
}
