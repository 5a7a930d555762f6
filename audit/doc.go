// Package audit reads and checks munigis's audit trail (Наредба, Art. 7(2)-(3)
// and 18(3)): the append-only, hash-chained table audit_log of migration
// 000004.
//
// Writing is done in the database, not here: triggers record every change
// of features and of the layer catalog, and the rest of munigis calls the
// SQL function audit_record(action, object, before, after, address) inside
// its own transaction, so that the record commits or rolls back with the
// change it describes. The actor is the transaction's munigis.actor (see
// postgis.Tx), the time now() to the second.
//
// Every row's hash is SHA-256(prev_hash || Canonical(row)); Verify recomputes
// the chain in Go, independently of the SQL that wrote it, and names the
// first row that does not match. List pages through the trail for people,
// with times in Europe/Sofia.
package audit
