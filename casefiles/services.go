package casefiles

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"munigis"
	"munigis/internal/postgis"
)

var serviceCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

const serviceColumns = `s.id, s.code, s.name, s.description, s.unit_id, coalesce(u.name_bg, ''), s.statutory_days,
	s.internal_days, s.day_kind, s.instructions, s.created_at, s.created_by`

func scanService(row pgx.Row) (Service, error) {
	var v Service
	err := row.Scan(&v.ID, &v.Code, &v.Name, &v.Description, &v.UnitID, &v.UnitName, &v.StatutoryDays,
		&v.InternalDays, &v.DayKind, &v.Instructions, &v.CreatedAt, &v.CreatedBy)
	return v, err
}

// stagesOf reads the stages of the services with ids, in order.
func stagesOf(ctx context.Context, q querier, ids []int64) (map[int64][]Stage, error) {
	rows, err := q.Query(ctx, `SELECT service_id, id, ordinal, name, description, executor, executor_unit_id, days,
			instructions, result_types
		FROM service_stages WHERE service_id = ANY ($1) ORDER BY service_id, ordinal`, ids)
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: stages")
	}
	defer rows.Close()
	out := map[int64][]Stage{}
	for rows.Next() {
		var sid int64
		var st Stage
		if err := rows.Scan(&sid, &st.ID, &st.Ordinal, &st.Name, &st.Description, &st.Executor, &st.ExecutorUnitID,
			&st.Days, &st.Instructions, &st.ResultTypes); err != nil {
			return nil, postgis.Translate(err, "casefiles: stages")
		}
		out[sid] = append(out[sid], st)
	}
	return out, postgis.Translate(rows.Err(), "casefiles: stages")
}

// Services returns the nomenclature of services and procedures (Art. 58)
// with their stages, by code.
func (s *Store) Services(ctx context.Context) ([]Service, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceColumns+` FROM services s LEFT JOIN units u ON u.id = s.unit_id ORDER BY s.code`)
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: services")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Service, error) { return scanService(r) })
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: services")
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].ID
	}
	stages, err := stagesOf(ctx, s.pool, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Stages = nonNil(stages[out[i].ID])
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Service returns the service with code, or NotFound.
func (s *Store) Service(ctx context.Context, code string) (Service, error) {
	return getService(ctx, s.pool, code)
}

func getService(ctx context.Context, q querier, code string) (Service, error) {
	v, err := scanService(q.QueryRow(ctx, `SELECT `+serviceColumns+` FROM services s LEFT JOIN units u ON u.id = s.unit_id
		WHERE s.code = $1`, strings.TrimSpace(code)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Service{}, notFound(fmt.Sprintf("no service or procedure with code %q", code),
			fmt.Sprintf("няма услуга или процедура с код %q", code))
	}
	if err != nil {
		return Service{}, postgis.Translate(err, "casefiles: service")
	}
	stages, err := stagesOf(ctx, q, []int64{v.ID})
	if err != nil {
		return Service{}, err
	}
	v.Stages = nonNil(stages[v.ID])
	return v, nil
}

// CreateService adds a service or procedure with its stages to the
// nomenclature (Art. 56, 59): entries are never changed, so a new deadline
// is a new code. Stages are numbered in the order given when Ordinal is 0.
// The caller checks access.CanEditNomenclatures.
func (s *Store) CreateService(ctx context.Context, v Service) (Service, error) {
	v.Code = strings.TrimSpace(v.Code)
	v.Name = strings.TrimSpace(v.Name)
	if !serviceCode.MatchString(v.Code) {
		return Service{}, invalid("code: 1 to 32 letters, digits, '.', '_' or '-' (the national service number, e.g. 2054)",
			"код: от 1 до 32 букви, цифри, „.“, „_“ или „-“ (номерът на услугата по списъка, напр. 2054)")
	}
	if v.Name == "" {
		return Service{}, invalid("name is required", "наименованието е задължително")
	}
	if v.DayKind == "" {
		v.DayKind = WorkingDays
	}
	if v.DayKind != WorkingDays && v.DayKind != CalendarDays {
		return Service{}, invalid("day_kind: working or calendar", "вид дни: работни (working) или календарни (calendar)")
	}
	if v.StatutoryDays != nil && *v.StatutoryDays <= 0 {
		return Service{}, invalid("statutory_days must be positive", "нормативният срок трябва да е положително число")
	}
	if v.InternalDays != nil && *v.InternalDays <= 0 {
		return Service{}, invalid("internal_days must be positive", "срокът по вътрешните правила трябва да е положително число")
	}
	if v.StatutoryDays != nil && v.InternalDays != nil && *v.InternalDays > *v.StatutoryDays {
		// Art. 58(2) p. 5: the internal rules may only shorten it.
		return Service{}, invalid("internal_days may not be longer than statutory_days (Art. 58(2))",
			"срокът по вътрешните правила не може да е по-дълъг от нормативния (чл. 58, ал. 2)")
	}
	seen := map[int]bool{}
	for i := range v.Stages {
		st := &v.Stages[i]
		st.Name = strings.TrimSpace(st.Name)
		if st.Ordinal == 0 {
			st.Ordinal = i + 1
		}
		if st.Ordinal < 0 || seen[st.Ordinal] {
			return Service{}, invalid(fmt.Sprintf("stages[%d].ordinal: %d is repeated or negative", i, st.Ordinal),
				fmt.Sprintf("етапи[%d]: поредният номер %d се повтаря или е отрицателен", i, st.Ordinal))
		}
		seen[st.Ordinal] = true
		if st.Name == "" {
			return Service{}, invalid(fmt.Sprintf("stages[%d].name is required", i), fmt.Sprintf("етапи[%d]: наименованието е задължително", i))
		}
		if st.Days <= 0 {
			return Service{}, invalid(fmt.Sprintf("stages[%d].days must be positive", i), fmt.Sprintf("етапи[%d]: срокът трябва да е положително число", i))
		}
		if st.ResultTypes == nil {
			st.ResultTypes = []string{}
		}
	}
	var out Service
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO services (code, name, description, unit_id, statutory_days, internal_days,
				day_kind, instructions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			v.Code, v.Name, v.Description, v.UnitID, v.StatutoryDays, v.InternalDays, v.DayKind, v.Instructions).Scan(&id)
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" {
				return &munigis.Error{Code: munigis.Conflict, Err: err,
					Message:   fmt.Sprintf("code: a service %q already exists; entries are never changed, add one with a new code", v.Code),
					MessageBG: fmt.Sprintf("код: услуга %q вече съществува; записите не се променят, добавете нов с нов код", v.Code)}
			}
			return postgis.Translate(err, "casefiles: create service")
		}
		for _, st := range v.Stages {
			_, err := tx.Exec(ctx, `INSERT INTO service_stages (service_id, ordinal, name, description, executor,
					executor_unit_id, days, instructions, result_types) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				id, st.Ordinal, st.Name, st.Description, st.Executor, st.ExecutorUnitID, st.Days, st.Instructions, st.ResultTypes)
			if err != nil {
				return postgis.Translate(err, "casefiles: create stage")
			}
		}
		out, err = getService(ctx, tx, v.Code)
		return err
	})
	return out, err
}
