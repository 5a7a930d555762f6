// Package casefiles keeps case files (преписки, Art. 41–49 of the documents
// regulation): their three sections, the links to the map (cadastral
// identifiers and features), the nomenclature of services and stages
// (Art. 54–59), each case's status with its tasks (Art. 14, 65–66,
// 104–113), working-day deadlines, the overdue lists, and the citizen's
// view of a case by number and access identifier (Art. 44, 123). No HTTP.
//
// Store methods (the contract the web layer uses):
//
//	NewStore(pool *pgxpool.Pool, docs *documents.Store, cal *workdays.Calendar) *Store
//	(s *Store) Services(ctx) ([]Service, error)
//	(s *Store) Service(ctx, code string) (Service, error)
//	(s *Store) CreateService(ctx, Service) (Service, error)
//	(s *Store) Open(ctx, Opening) (Opened, error)
//	(s *Store) Get(ctx, id int64) (CaseFile, error)
//	(s *Store) GetByNumber(ctx, number string) (CaseFile, error)
//	(s *Store) List(ctx, Query) ([]CaseFile, int64, error)
//	(s *Store) AddItem(ctx, caseID int64, section string, documentID, childCaseID *int64) (Item, error)
//	(s *Store) RemoveItem(ctx, caseID, itemID int64, reason string, mayRemoveOfficial bool) (Item, error)
//	(s *Store) Link(ctx, caseID int64, identifiers []string, features []FeatureLink) (CaseFile, error)
//	(s *Store) Unlink(ctx, caseID int64, identifiers []string, features []FeatureLink) (CaseFile, error)
//	(s *Store) Close(ctx, caseID int64, version int, status string) (CaseFile, error)
//	(s *Store) NewAccessCode(ctx, caseID int64) (string, error)
//	(s *Store) AddTask(ctx, Task) (Task, error)
//	(s *Store) Task(ctx, id int64) (Task, error)
//	(s *Store) UpdateTask(ctx, TaskUpdate) (Task, error)
//	(s *Store) CompleteTask(ctx, TaskUpdate) (Task, error)
//	(s *Store) CancelTask(ctx, id int64, version int) (Task, error)
//	(s *Store) ReopenTask(ctx, id int64, version int) (Task, error)
//	(s *Store) Due(ctx, DueQuery) ([]Task, error)
//	(s *Store) Related(ctx, identifier string) ([]Summary, error)
//	(s *Store) Track(ctx, number, code string) (Tracking, error)
//	(s *Store) TrackDocument(ctx, number, code string, documentID int64) (documents.FileInfo, []byte, error)
package casefiles

import (
	"time"

	"munigis/documents"
)

// Day kinds of a deadline.
const (
	WorkingDays  = "working"
	CalendarDays = "calendar"
)

// Service is an entry of the nomenclature of services and procedures
// (Art. 58): only added, never changed (Art. 59(3)).
type Service struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"` // the national unified service number ("2054") or a local code
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	UnitID      *int64 `json:"unit_id,omitempty"`
	UnitName    string `json:"unit_name,omitempty"`
	// StatutoryDays is the deadline set by law; InternalDays the one set by
	// the internal rules, which may only be shorter (Art. 58(2) p. 5).
	StatutoryDays *int      `json:"statutory_days,omitempty"`
	InternalDays  *int      `json:"internal_days,omitempty"`
	DayKind       string    `json:"day_kind"` // working | calendar
	Instructions  string    `json:"instructions,omitempty"`
	Stages        []Stage   `json:"stages"`
	CreatedAt     time.Time `json:"created_at"`
	CreatedBy     string    `json:"created_by"`
}

// Stage is a stage of a service (Art. 55(2)).
type Stage struct {
	ID             int64  `json:"id"`
	Ordinal        int    `json:"ordinal"`
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	Executor       string `json:"executor,omitempty"` // the body or unit head, as text
	ExecutorUnitID *int64 `json:"executor_unit_id,omitempty"`
	// Days is the stage's deadline in the service's day kind.
	Days         int      `json:"days"`
	Instructions string   `json:"instructions,omitempty"`
	ResultTypes  []string `json:"result_types,omitempty"` // document type codes the stage creates
}

// Case file statuses.
const (
	Open      = "open"
	Closed    = "closed"
	Cancelled = "cancelled"
)

// Sections of a case file (Art. 43).
const (
	Official = "official"
	Internal = "internal"
	Control  = "control"
)

// FeatureLink names a feature of a layer.
type FeatureLink struct {
	Layer     string `json:"layer"`
	FeatureID int64  `json:"feature_id"`
}

// CaseFile is a case file (Art. 44(1)).
type CaseFile struct {
	ID int64 `json:"id"`
	// Number is the registration number (URI) of the opening document.
	Number            string        `json:"number"`
	Name              string        `json:"name"`
	Explanation       string        `json:"explanation,omitempty"`
	ServiceCode       string        `json:"service,omitempty"`
	ServiceName       string        `json:"service_name,omitempty"`
	Status            string        `json:"status"`
	OpeningDocumentID int64         `json:"opening_document_id"`
	ApplicantPersonID *int64        `json:"applicant_person_id,omitempty"`
	UnitID            *int64        `json:"unit_id,omitempty"`
	DueOn             string        `json:"due_on,omitempty"` // YYYY-MM-DD, from the service's deadline
	Identifiers       []string      `json:"identifiers"`
	Features          []FeatureLink `json:"features"`
	Items             []Item        `json:"items,omitempty"`
	Tasks             []Task        `json:"tasks,omitempty"`
	Version           int           `json:"version"`
	CreatedAt         time.Time     `json:"created_at"`
	CreatedBy         string        `json:"created_by"`
	UpdatedAt         time.Time     `json:"updated_at"`
	UpdatedBy         string        `json:"updated_by"`
	ClosedAt          *time.Time    `json:"closed_at,omitempty"`
}

// Item is one inclusion of a document or a case file in a section
// (Art. 47: time, who, number in the section; never corrected).
type Item struct {
	ID          int64               `json:"id"`
	Section     string              `json:"section"`
	Position    int                 `json:"position"`
	DocumentID  *int64              `json:"document_id,omitempty"`
	Document    *documents.Document `json:"document,omitempty"`
	ChildCaseID *int64              `json:"case_file_id,omitempty"`
	ChildNumber string              `json:"case_file_number,omitempty"`
	IncludedAt  time.Time           `json:"included_at"`
	IncludedBy  string              `json:"included_by"`
	RemovedAt   *time.Time          `json:"removed_at,omitempty"`
	RemovedBy   string              `json:"removed_by,omitempty"`
	RemovalNote string              `json:"removal_reason,omitempty"`
	MovedFromID *int64              `json:"moved_from,omitempty"` // the official item a control item came from
}

// Opening is what Open needs. Either DocumentID (an existing document,
// registered now if it is not yet) or Document (created and registered in
// the same transaction) names the opening document.
type Opening struct {
	Name              string                 `json:"name"`
	Explanation       string                 `json:"explanation"`
	ServiceCode       string                 `json:"service"`
	DocumentID        int64                  `json:"document_id"`
	Document          *documents.NewDocument `json:"document"`
	Identifiers       []string               `json:"identifiers"`
	Features          []FeatureLink          `json:"features"`
	ApplicantPersonID *int64                 `json:"applicant_person_id"`
	UnitID            *int64                 `json:"unit_id"`
	// ExecutorSystemID is given the first pending task, "" leaves it to
	// the stage's unit head.
	ExecutorSystemID string `json:"executor"`
}

// Opened is a new case file and its access identifier, shown once (only
// its hash is kept).
type Opened struct {
	CaseFile   CaseFile `json:"case_file"`
	AccessCode string   `json:"access_code"`
}

// Query filters case files.
type Query struct {
	Status     string
	Service    string
	Identifier string
	Below      bool // everything under Identifier (a parcel's buildings and units)
	Q          string
	Limit      int
	Offset     int
}

// Task lists (Art. 65) and states (Art. 113).
const (
	Pending   = "pending"
	Completed = "completed"
	// Cancelled (above) is also the list of cancelled tasks.

	InProgress = "in_progress" // „в изпълнение“
	Done       = "done"        // „изпълнена“
	NotDone    = "not_done"    // „неизпълнена“
)

// Task has the eight fields of Art. 14 and its place in a status list.
// Dates are YYYY-MM-DD; "" is not set.
type Task struct {
	ID               int64     `json:"id"`
	CaseFileID       *int64    `json:"case_file_id,omitempty"`
	CaseNumber       string    `json:"case_number,omitempty"`
	StageID          *int64    `json:"stage_id,omitempty"`
	Ordinal          int       `json:"ordinal"`
	Name             string    `json:"name"`
	Description      string    `json:"description,omitempty"`
	Stage            string    `json:"stage,omitempty"`
	ExecutorSystemID string    `json:"executor,omitempty"`
	ExecutorName     string    `json:"executor_name,omitempty"`
	UnitID           *int64    `json:"unit_id,omitempty"`
	PlannedStart     string    `json:"planned_start,omitempty"`
	PlannedEnd       string    `json:"planned_end,omitempty"`
	ActualStart      string    `json:"actual_start,omitempty"`
	ActualEnd        string    `json:"actual_end,omitempty"`
	List             string    `json:"list"`
	State            string    `json:"state"`
	Results          []int64   `json:"results"` // result document ids
	Version          int       `json:"version"`
	UpdatedAt        time.Time `json:"updated_at"`
	UpdatedBy        string    `json:"updated_by"`
}

// TaskUpdate changes a task; nil fields are left alone. Version is the
// version read (a stale one is a conflict).
type TaskUpdate struct {
	ID               int64    `json:"-"`
	Version          int      `json:"version"`
	ExecutorSystemID *string  `json:"executor"`
	PlannedEnd       *string  `json:"planned_end"`
	ActualStart      *string  `json:"actual_start"`
	ActualEnd        *string  `json:"actual_end"`
	Results          *[]int64 `json:"results"`
}

// DueQuery asks for the overdue or this week's pending tasks of a person or
// a unit (with its sub-units).
type DueQuery struct {
	Kind             string // "overdue" | "week"
	ExecutorSystemID string
	UnitID           int64
	Limit            int
}

// Summary is a case file as listed under a cadastral object.
type Summary struct {
	ID         int64  `json:"id"`
	Number     string `json:"number"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Service    string `json:"service,omitempty"`
	Identifier string `json:"identifier"` // the linked identifier it was found by
	OpenedOn   string `json:"opened_on"`
}

// Tracking is what the applicant sees (Art. 123): the official section and
// the status of the service, never the internal or control sections.
type Tracking struct {
	Number             string            `json:"number"`
	Name               string            `json:"name"`
	Service            string            `json:"service,omitempty"`
	ServiceDescription string            `json:"service_description,omitempty"`
	Status             string            `json:"status"`
	OpenedAt           time.Time         `json:"opened_at"`
	DueOn              string            `json:"due_on,omitempty"`
	Documents          []TrackedDocument `json:"documents"`
	Stages             []TrackedStage    `json:"stages"`
}

// TrackedDocument is a document of the official section as the applicant
// sees it.
type TrackedDocument struct {
	ID           int64  `json:"id"`
	Position     int    `json:"position"`
	Number       string `json:"number,omitempty"` // its URI when registered
	Name         string `json:"name"`
	ReceivedOn   string `json:"received_on,omitempty"`
	ReceivedVia  string `json:"received_via,omitempty"`
	Downloadable bool   `json:"downloadable"`
}

// TrackedStage is a stage of the service as the applicant sees it.
type TrackedStage struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Executor    string `json:"executor,omitempty"`
	List        string `json:"list"` // pending | completed | cancelled
	PlannedEnd  string `json:"planned_end,omitempty"`
	CompletedOn string `json:"completed_on,omitempty"`
}
