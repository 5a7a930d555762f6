package persons

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for _, c := range []struct {
		p    Person
		want string
	}{
		{Person{Kind: Natural, Name: "Иван Петров Иванов"}, "И. П. И."},
		{Person{Kind: Natural, Name: "  мария   петрова "}, "М. П."},
		{Person{Kind: Natural, Name: "Анна-Мария Георгиева-Костова"}, "А.-М. Г.-К."},
		{Person{Kind: Natural, Name: "John Smith"}, "J. S."},
		{Person{Kind: Natural, Name: "„Иван“ (Ваньо) Петров"}, "И. В. П."},
		{Person{Kind: Natural, Name: "Иван - Петров"}, "И. П."},
		{Person{Kind: Legal, Name: "Община Троян"}, "Община Троян"},
		{Person{Kind: Legal, Name: "ЕТ „Иван Петров – 55“"}, "ЕТ „Иван Петров – 55“"},
		// An unknown kind is masked: only a legal entity is shown in full.
		{Person{Kind: "", Name: "Иван Петров"}, "И. П."},
	} {
		if got := Mask(c.p); got != c.want {
			t.Errorf("Mask(%s %q) = %q, want %q", c.p.Kind, c.p.Name, got, c.want)
		}
	}
}

func TestPublicViewHidesPersonalData(t *testing.T) {
	natural := Person{ID: 7, Kind: Natural, Name: "Иван Петров Иванов", EGN: "7501020018", BirthDate: "1975-01-02",
		BirthPlace: "Троян", IDDocument: "паспорт 123456789", Address: "ул. Васил Левски 1", Email: "ivan@example.bg", Phone: "0888 123 456"}
	b, err := json.Marshal(PublicView(natural))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"kind":"natural","name":"И. П. И."}` {
		t.Errorf("public view of a natural person = %s", b)
	}
	for _, secret := range []string{"7501020018", "1975", "Троян", "Левски", "ivan", "0888", "Петров", "123456789"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("public view %s shows %q", b, secret)
		}
	}
	legal := Person{ID: 8, Kind: Legal, Name: "Строй ЕООД", EIK: "000696327", Address: "Троян", Email: "office@stroy.bg"}
	b, _ = json.Marshal(PublicView(legal))
	if string(b) != `{"kind":"legal","name":"Строй ЕООД","eik":"000696327"}` {
		t.Errorf("public view of a legal entity = %s", b)
	}
}
