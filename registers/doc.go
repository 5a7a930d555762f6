// Package registers is the register engine of issue 6: registers keyed by
// the cadastral identifier (municipal property, rentals, building permits
// and the registers a municipality defines itself).
//
// A register type (Type) names a register and its typed fields; an entry
// (Entry) has the spine every register shares (number, date, status,
// cadastral identifiers, parties) and the type's other fields in Data. The
// Store validates every write in Go against the type, in one place
// (validate.go), and writes it in one transaction; stamping, history, the
// audit trail, the object and party indexes, the register map layers and
// the flags raised when the cadastre changes are triggers of migration
// 000009, so an entry written straight in SQL is kept the same way.
//
// Visibility is decided by the caller through access.Viewer and passed in
// as functions (a register name → may read); this package never imports
// net/http. PublicEntry gives what the public may see of an entry.
package registers
