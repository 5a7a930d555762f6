package registers_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/registers"
	"munigis/registers/persons"
)

// env is a fresh database with the 300-parcel demo town, a register store
// and a few persons, shared by the tests of one test function.
type env struct {
	pool    *pgxpool.Pool
	store   *registers.Store
	persons *persons.Store
	// Parcels, buildings and units of the demo town, in id order.
	parcels, buildings, units []string
	ivan, maria, firm         persons.Person
}

// clerk is the context of a signed-in clerk making the changes.
func clerk() context.Context {
	return munigis.WithAddress(munigis.WithActor(context.Background(), "U-000042"), "192.0.2.7")
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 300, RegisterEntries: -1}, io.Discard); err != nil {
		t.Fatalf("demo.Load: %v", err)
	}
	e := &env{pool: db.Pool, store: registers.NewStore(db.Pool), persons: persons.NewStore(db.Pool)}
	for _, q := range []struct {
		table string
		out   *[]string
	}{{"cadastre_parcels", &e.parcels}, {"cadastre_buildings", &e.buildings}, {"cadastre_units", &e.units}} {
		rows, err := db.Pool.Query(ctx, `SELECT identifier FROM features.`+q.table+` ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			*q.out = append(*q.out, s)
		}
		rows.Close()
	}
	if len(e.parcels) < 100 || len(e.buildings) < 10 || len(e.units) < 10 {
		t.Fatalf("demo town too small: %d parcels, %d buildings, %d units", len(e.parcels), len(e.buildings), len(e.units))
	}
	egn1, _ := persons.CompleteEGN("750102001")
	egn2, _ := persons.CompleteEGN("024315004")
	eik, _ := persons.CompleteEIK("20417638")
	var err error
	if e.ivan, err = e.persons.Create(clerk(), persons.Person{Kind: persons.Natural, Name: "Иван Петров Иванов", EGN: egn1}); err != nil {
		t.Fatalf("create person: %v", err)
	}
	if e.maria, err = e.persons.Create(clerk(), persons.Person{Kind: persons.Natural, Name: "Мария Георгиева Щерева", EGN: egn2}); err != nil {
		t.Fatalf("create person: %v", err)
	}
	if e.firm, err = e.persons.Create(clerk(), persons.Person{Kind: persons.Legal, Name: "Троян Строй ЕООД", EIK: eik}); err != nil {
		t.Fatalf("create person: %v", err)
	}
	return e
}

// property is a valid municipal property entry on parcel p.
func (e *env) property(number, p string) registers.Entry {
	return registers.Entry{
		Register: "municipal_property", Number: number, Date: "2015-03-12",
		Identifiers: []string{p},
		Parties:     []registers.Party{{PersonID: e.ivan.ID, Role: "holder"}},
		Data: map[string]any{"kind": "частна", "address": "гр. Троян, ул. Васил Левски 12",
			"area_m2": 512.5, "book_value": 18000, "use": "училище", "description": "Поземлен имот с училищна сграда"},
		Status: "актуален",
	}
}

func mustCreate(t *testing.T, s *registers.Store, e registers.Entry) registers.Entry {
	t.Helper()
	out, err := s.Create(clerk(), e)
	if err != nil {
		t.Fatalf("Create %s %s: %v", e.Register, e.Number, err)
	}
	return out
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestBuiltInTypes(t *testing.T) {
	db := pgtest.New(t)
	s := registers.NewStore(db.Pool)
	ctx := context.Background()
	types, err := s.Types(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"municipal_property": true, "rentals": false, "building_permits": true,
		"trade_permits": true, "taxi_permits": true, "condominiums": false, "categorised_sites": true}
	for _, ty := range types {
		pub, ok := want[ty.Name]
		if !ok {
			t.Errorf("unexpected register %s", ty.Name)
			continue
		}
		delete(want, ty.Name)
		if !ty.BuiltIn || ty.Published != pub {
			t.Errorf("%s: built_in %v published %v, want true %v", ty.Name, ty.BuiltIn, ty.Published, pub)
		}
		if err := ty.Validate(); err != nil {
			t.Errorf("built-in %s does not validate: %v", ty.Name, err)
		}
		// Every register is a map layer, public iff published with public
		// identifiers (taxi permits name no objects: internal).
		var source, vis, srcLayer string
		if err := db.Pool.QueryRow(ctx, `SELECT source, visibility, source_layer FROM layers WHERE name = $1`,
			ty.LayerName()).Scan(&source, &vis, &srcLayer); err != nil {
			t.Errorf("layer of %s: %v", ty.Name, err)
			continue
		}
		idf, hasIDs := ty.IdentifiersField()
		wantVis := "internal"
		if ty.Published && hasIDs && idf.Public {
			wantVis = "public"
		}
		if source != "register" || vis != wantVis || srcLayer != ty.Name {
			t.Errorf("layer %s: source %s visibility %s source_layer %s, want register %s %s", ty.LayerName(), source, vis, srcLayer, wantVis, ty.Name)
		}
	}
	for name := range want {
		t.Errorf("built-in register %s missing", name)
	}
	mp, err := s.Type(ctx, "municipal_property")
	if err != nil {
		t.Fatal(err)
	}
	if mp.NumberLabelBG != "Акт №" {
		t.Errorf("number label %q", mp.NumberLabelBG)
	}
	if _, err := s.Type(ctx, "nope"); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("Type(nope) = %v, want NotFound", err)
	}
}

func TestCreateType(t *testing.T) {
	db := pgtest.New(t)
	s := registers.NewStore(db.Pool)
	ctx := clerk()
	dogs := registers.Type{
		Name: "dog_licences", TitleBG: "Регистър на кучетата", TitleEN: "Dog licences",
		NumberLabelBG: "Рег. №", NumberLabelEN: "Reg. No.",
		Fields: []registers.Field{
			{Name: "owner", Type: registers.Person, TitleBG: "Собственик", TitleEN: "Owner", Required: true, Public: true},
			{Name: "identifiers", Type: registers.CadastralIDs, TitleBG: "Адрес (имот)", TitleEN: "Address (parcel)", Public: true},
			{Name: "breed", Type: registers.Text, TitleBG: "Порода", TitleEN: "Breed", Public: true},
			{Name: "chip", Type: registers.Text, TitleBG: "Микрочип", TitleEN: "Microchip", Unique: true},
			{Name: "size", Type: registers.Enum, TitleBG: "Размер", TitleEN: "Size", Values: []string{"малко", "средно", "голямо"}},
			{Name: "born", Type: registers.Date, TitleBG: "Роден", TitleEN: "Born"},
			{Name: "vaccinated", Type: registers.Date, TitleBG: "Ваксиниран", TitleEN: "Vaccinated", NotBefore: "born"},
			{Name: "property", Type: registers.Reference, Register: "municipal_property", TitleBG: "Общински имот", TitleEN: "Municipal property"},
		},
	}
	got, err := s.CreateType(ctx, dogs)
	if err != nil {
		t.Fatalf("CreateType: %v", err)
	}
	if got.CreatedBy != "U-000042" || got.BuiltIn || got.Published {
		t.Errorf("created %+v", got)
	}
	var vis, attrs string
	if err := db.Pool.QueryRow(ctx, `SELECT l.visibility, t.attributes::text FROM layers l JOIN layer_types t ON t.name = l.layer_type
		WHERE l.name = 'reg_dog_licences'`).Scan(&vis, &attrs); err != nil {
		t.Fatalf("the register's layer: %v", err)
	}
	if vis != "internal" || !strings.Contains(attrs, `"breed"`) || strings.Contains(attrs, `"owner"`) {
		t.Errorf("layer visibility %s attributes %s", vis, attrs)
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM audit_log WHERE action = 'register_type.create' AND object = 'register_type:dog_licences' AND actor = 'U-000042' AND address = '192.0.2.7'`); n != 1 {
		t.Errorf("%d audit rows for the new type, want 1", n)
	}

	if _, err := s.CreateType(ctx, dogs); munigis.ErrorCode(err) != munigis.Conflict {
		t.Errorf("second CreateType = %v, want Conflict", err)
	}

	bad := []struct {
		name   string
		change func(*registers.Type)
		want   string
	}{
		{"bad name", func(t *registers.Type) { t.Name = "Dogs!" }, "register name"},
		{"name too long for its layer", func(t *registers.Type) { t.Name = strings.Repeat("a", 45) }, "1–44"},
		{"no titles", func(t *registers.Type) { t.TitleEN = "" }, "title_en"},
		{"enum without values", func(t *registers.Type) { t.Fields[4].Values = nil }, "(size): an enum needs values"},
		{"reserved field", func(t *registers.Type) { t.Fields[2].Name = "number" }, "reserved"},
		{"two identifier fields", func(t *registers.Type) {
			t.Fields = append(t.Fields, registers.Field{Name: "more", Type: registers.CadastralIDs, TitleBG: "x", TitleEN: "x"})
		}, "at most one cadastral_ids"},
		{"unknown type", func(t *registers.Type) { t.Fields[2].Type = "photo" }, `type "photo"`},
		{"not_before a text field", func(t *registers.Type) { t.Fields[6].NotBefore = "breed" }, "not_before"},
		{"reference to nothing", func(t *registers.Type) { t.Fields[7].Register = "nothing_here" }, `register "nothing_here" does not exist`},
		{"status as a date", func(t *registers.Type) {
			t.Fields = append(t.Fields, registers.Field{Name: "status", Type: registers.Date, TitleBG: "x", TitleEN: "x"})
		}, "status field"},
	}
	for _, c := range bad {
		ty := dogs
		ty.Name = "dogs2"
		ty.Fields = append([]registers.Field(nil), dogs.Fields...)
		c.change(&ty)
		_, err := s.CreateType(ctx, ty)
		if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CreateType = %v, want Invalid mentioning %q", c.name, err, c.want)
		}
		var me *munigis.Error
		if e, ok := err.(*munigis.Error); ok {
			me = e
		}
		if me != nil && me.MessageBG == "" {
			t.Errorf("%s: no Bulgarian message", c.name)
		}
	}
	if n := count(t, db.Pool, `SELECT count(*) FROM register_types WHERE name = 'dogs2'`); n != 0 {
		t.Errorf("a refused type was stored")
	}

	t.Run("fields are only added", func(t *testing.T) {
		ty := got
		ty.Fields = append([]registers.Field(nil), got.Fields...)
		ty.Fields = ty.Fields[:len(ty.Fields)-1]
		if _, err := s.UpdateType(ctx, ty); munigis.ErrorCode(err) != munigis.Conflict || !strings.Contains(err.Error(), "property cannot be removed") {
			t.Errorf("removing a field: %v, want Conflict", err)
		}
		ty.Fields = append([]registers.Field(nil), got.Fields...)
		ty.Fields[2].Type = registers.Integer
		if _, err := s.UpdateType(ctx, ty); munigis.ErrorCode(err) != munigis.Conflict {
			t.Errorf("retyping a field: %v, want Conflict", err)
		}
		ty.Fields = append([]registers.Field(nil), got.Fields...)
		ty.Fields[4].Values = []string{"малко", "голямо"}
		if _, err := s.UpdateType(ctx, ty); munigis.ErrorCode(err) != munigis.Conflict {
			t.Errorf("removing an enum value: %v, want Conflict", err)
		}
		ty.Fields = append([]registers.Field(nil), got.Fields...)
		ty.Fields[4].Values = []string{"малко", "средно", "голямо", "гигантско"}
		ty.Fields = append(ty.Fields, registers.Field{Name: "colour", Type: registers.Text, TitleBG: "Цвят", TitleEN: "Colour", Public: true})
		ty.Published = true
		up, err := s.UpdateType(ctx, ty)
		if err != nil {
			t.Fatalf("adding a field and publishing: %v", err)
		}
		if len(up.Fields) != len(got.Fields)+1 || !up.Published {
			t.Errorf("updated type %+v", up)
		}
		var vis string
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT visibility FROM layers WHERE name = 'reg_dog_licences'`).Scan(&vis); err != nil {
			t.Fatal(err)
		}
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = 'features' AND table_name = 'reg_dog_licences' AND column_name = 'colour'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if vis != "public" || n != 1 {
			t.Errorf("after publishing: layer %s, colour column %d", vis, n)
		}
	})
}
