// Package documents keeps documents (Art. 19–22 of the documents
// regulation), their file content, the nomenclature of document types
// (Art. 51–53) and the official document register (Art. 23–31) with its
// gap-free registration numbers. No HTTP: package web serves it.
//
// Store methods (the contract the web layer and package casefiles use):
//
//	NewStore(pool *pgxpool.Pool, cfg Config) *Store
//	(s *Store) Settings(ctx) (Settings, error)
//	(s *Store) SetSettings(ctx, Settings) (Settings, error)
//	(s *Store) Types(ctx) ([]Type, error)
//	(s *Store) Type(ctx, code string) (Type, error)
//	(s *Store) CreateType(ctx, t Type, template *Upload) (Type, error)
//	(s *Store) Create(ctx, NewDocument) (Document, error)
//	(s *Store) CreateTx(ctx, tx pgx.Tx, NewDocument) (Document, error)
//	(s *Store) Get(ctx, id int64) (Document, error)
//	(s *Store) GetTx(ctx, tx pgx.Tx, id int64) (Document, error)
//	(s *Store) AddVersion(ctx, id int64, version int, f Upload) (Document, error)
//	(s *Store) Versions(ctx, id int64) ([]ContentVersion, error)
//	(s *Store) Content(ctx, id int64, contentVersion int) (FileInfo, []byte, error)
//	(s *Store) Register(ctx, documentID int64, typeCode string, receivedOn string) (Registration, error)
//	(s *Store) RegisterTx(ctx, tx pgx.Tx, documentID int64, typeCode string, receivedOn string) (Registration, error)
//	(s *Store) Entry(ctx, number string) (Registration, error)
//	(s *Store) Entries(ctx, EntryQuery) ([]Registration, int64, error)
//	(s *Store) Correct(ctx, entryID int64, c Correction) (Correction, error)
//	(s *Store) Check(ctx, year int) (Completeness, error)
//
// Added by the implementation (not used by the contract's callers yet):
//
//	(s *Store) Update(ctx, id int64, version int, NewDocument) (Document, error) // metadata; File/Register/ReceivedOn ignored
//	(s *Store) Config() Config
//	FormatNumber(index string, sequence int, receivedOn time.Time) string
//	ParseNumber(number string) (index string, sequence int, receivedOn string, err error)
//	DefaultAllowedTypes, DefaultMaxFileBytes, DefaultSystemURI, MaxEntries
package documents

import (
	"io"
	"time"
)

// Config sets the limits of the store. Zero values take the defaults.
type Config struct {
	// MaxFileBytes is the largest file accepted (Art. 69(3) p. 4(б): the
	// size "set by the authority"). Default 20 MiB.
	MaxFileBytes int64
	// AllowedTypes are the media types accepted, as sniffed from the bytes
	// (never the client's Content-Type or file name). Default: see
	// DefaultAllowedTypes.
	AllowedTypes []string
	// Now is the clock (tests move it across a year end). Default time.Now.
	Now func() time.Time
	// SystemURI is recorded as "entered by" for automatic registration
	// (Art. 28(1) p. 2), when the context carries no user.
	SystemURI string
}

// FileInfo describes stored file content (content-addressed by SHA-256).
type FileInfo struct {
	SHA256    string `json:"sha256"` // lower-case hex
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
	FileName  string `json:"file_name"`
}

// Upload is file content offered by a client. The store reads at most
// MaxFileBytes+1 bytes of Content.
type Upload struct {
	FileName string
	Content  io.Reader
}

// Processing modes of a document type (Art. 52(1) p. 4).
const (
	Starts    = "starts"    // starts a service or procedure
	Continues = "continues" // continues one (a reply, a document of the administration)
	Related   = "related"   // related to one but not a reply
)

// Archival values (Art. 52(1) p. 6).
const (
	Archival    = "archival"     // „с архивна стойност“
	NonArchival = "non_archival" // „без архивна стойност“
	Expert      = "expert"       // „за оценка от експертна комисия“
)

// Type is an entry of the nomenclature of document types (Art. 52). Entries
// are only added, never changed (Art. 53(3)).
type Type struct {
	ID             int64     `json:"id"`
	Code           string    `json:"code"` // ^[a-z][a-z0-9_]{0,47}$, the stable key
	URI            string    `json:"uri,omitempty"`
	Name           string    `json:"name"`
	Explanation    string    `json:"explanation,omitempty"`
	ProcessingMode string    `json:"processing_mode"`
	Signatory      string    `json:"signatory,omitempty"`
	ArchivalValue  string    `json:"archival_value"`
	StorageSection string    `json:"storage_section,omitempty"`
	RetentionYears int       `json:"retention_years,omitempty"`
	ViewerURI      string    `json:"viewer_uri,omitempty"`
	Template       *FileInfo `json:"template,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
}

// Directions of a document.
const (
	Incoming = "incoming"
	Outgoing = "outgoing"
	Internal = "internal"
)

// Document is a document (Art. 20: created by, created at to the second,
// name, pointer to the content; plus type, registration, author,
// signatory and content versions).
type Document struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	TypeCode  string `json:"type,omitempty"`
	TypeName  string `json:"type_name,omitempty"`
	Direction string `json:"direction"`
	Author    string `json:"author,omitempty"`
	// AuthorPersonID links the author to persons (registers/persons).
	AuthorPersonID *int64 `json:"author_person_id,omitempty"`
	Signatory      string `json:"signatory,omitempty"`
	// ReceivedVia says how it arrived or left (counter, post, email, web,
	// internal, ...), shown to the applicant (Art. 123 p. 3).
	ReceivedVia string `json:"received_via,omitempty"`
	// ForApplicant marks a document the applicant may download through the
	// citizen view when it is in the official section.
	ForApplicant bool          `json:"for_applicant"`
	Registration *Registration `json:"registration,omitempty"`
	// File is the current content version; nil for a document without
	// content yet.
	File           *FileInfo `json:"file,omitempty"`
	ContentVersion int       `json:"content_version"`
	Version        int       `json:"version"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
	UpdatedAt      time.Time `json:"updated_at"`
	UpdatedBy      string    `json:"updated_by"`
}

// NewDocument is what Create needs.
type NewDocument struct {
	Name           string  `json:"name"`
	TypeCode       string  `json:"type"`
	Direction      string  `json:"direction"` // default incoming
	Author         string  `json:"author"`
	AuthorPersonID *int64  `json:"author_person_id"`
	Signatory      string  `json:"signatory"`
	ReceivedVia    string  `json:"received_via"`
	ForApplicant   bool    `json:"for_applicant"`
	File           *Upload `json:"-"`
	// Register registers the document in the official register in the
	// same transaction (TypeCode is then required).
	Register bool `json:"register"`
	// ReceivedOn is the date of receipt or signing, YYYY-MM-DD; "" is
	// today in Europe/Sofia. Never in the future.
	ReceivedOn string `json:"received_on"`
}

// ContentVersion is one version of a document's content (never changed).
type ContentVersion struct {
	N         int       `json:"n"`
	File      FileInfo  `json:"file"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Settings of the official document register: one per municipality
// (Art. 23(4)), named "Официален документен регистър на <administration>"
// (Art. 27).
type Settings struct {
	// Index is the registration index (the register's number in the
	// register of registers, Art. 23(3)).
	Index          string `json:"index"`
	Administration string `json:"administration"` // "Община Троян"
	Name           string `json:"name"`           // derived, read only
	Status         string `json:"status"`         // active | archived (Art. 23(5))
}

// Registration is an entry of the official document register (Art. 28(1)).
// Entries are never changed or deleted; corrections are separate, visible
// records (Art. 29).
type Registration struct {
	ID       int64  `json:"id"`
	Number   string `json:"number"` // <index>-<sequence>-<DD.MM.YYYY>, the URI
	Index    string `json:"index"`
	Year     int    `json:"year"`
	Sequence int    `json:"sequence"`
	// ReceivedOn is the date of receipt or signing, YYYY-MM-DD, as
	// registered (part of the number; a correction never changes it).
	ReceivedOn   string `json:"received_on"`
	DocumentID   int64  `json:"document_id"`
	DocumentName string `json:"document_name"`
	// TypeCode and TypeName are the current type: the new value of the
	// last 'type' correction, else the type registered (RegisteredType).
	TypeCode       string `json:"type"`
	TypeName       string `json:"type_name"`
	RegisteredType string `json:"registered_type"`
	// CorrectedReceivedOn is the new value of the last 'received_on'
	// correction (YYYY-MM-DD), "" without one: the current date of
	// receipt, while ReceivedOn and the number keep the registered one.
	CorrectedReceivedOn string `json:"corrected_received_on,omitempty"`
	// Void is set by a 'void' correction: registered by mistake; the
	// number stays taken and is never given again.
	Void        bool         `json:"void,omitempty"`
	EnteredAt   time.Time    `json:"entered_at"`
	EnteredBy   string       `json:"entered_by"` // system id of the user, or the system URI
	Corrections []Correction `json:"corrections,omitempty"`
}

// Correction fields.
const (
	CorrectType       = "type"        // the document type was wrong
	CorrectReceivedOn = "received_on" // the date of receipt was wrong (the number keeps the old one)
	CorrectVoid       = "void"        // registered by mistake: the number stays, marked void
)

// Correction is a visible correction of a register entry (Art. 29(1)).
type Correction struct {
	ID       int64     `json:"id"`
	EntryID  int64     `json:"entry_id"`
	Field    string    `json:"field"`
	OldValue string    `json:"old_value"`
	NewValue string    `json:"new_value"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
}

// EntryQuery filters the register.
type EntryQuery struct {
	Year   int    // 0 = any
	From   string // YYYY-MM-DD of entry, inclusive
	To     string
	Type   string // type code
	Q      string // in the number or document name
	Limit  int
	Offset int
}

// Completeness is the answer of Check (Art. 29(3)).
type Completeness struct {
	Year        int          `json:"year"`
	Count       int          `json:"count"`
	First       int          `json:"first"`
	Last        int          `json:"last"`
	Missing     []int        `json:"missing"`
	Duplicates  []int        `json:"duplicates"`
	Complete    bool         `json:"complete"`
	Corrections []Correction `json:"corrections"`
}
