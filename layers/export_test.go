package layers

// SelectSQLForTest is the statement Store.Features runs for q.
func SelectSQLForTest(l Layer, q Query) (string, []any, error) {
	if err := q.normalise(); err != nil {
		return "", nil, err
	}
	return q.selectSQL(l)
}
