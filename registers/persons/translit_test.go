package persons_test

import (
	"context"
	"testing"

	"munigis/internal/pgtest"
	"munigis/registers/persons"
)

// translitWords: the law's own examples, every letter, capitals, "ия" at a
// word's end and inside one, punctuation and Latin kept.
var translitWords = []struct{ in, want string }{
	{"България", "bulgaria"}, // Art. 6: the country's name, not "balgaria"
	{"Република България", "republika bulgaria"},
	{"БЪЛГАРИЯ", "bulgaria"},
	{"българия-2", "bulgaria-2"},
	{"Нова България", "nova bulgaria"},
	{"Българиян", "balgariyan"}, // not the word България
	{"Ябългария", "yabalgaria"}, // nor is this (it still ends in "ия")
	{"български", "balgarski"},
	{"Троян", "troyan"},
	{"Щерев", "shterev"},
	{"Юлия", "yulia"},
	{"Мария-Магдалена", "maria-magdalena"},
	{"Ивайловград", "ivaylovgrad"},
	{"Ямбол", "yambol"},
	{"Горна Оряховица", "gorna oryahovitsa"},
	{"Жельо Цачев Чочев", "zhelyo tsachev chochev"},
	{"ЩЕРЕВ", "shterev"},
	{"София", "sofia"},
	{"Софияград", "sofiyagrad"}, // "ия" inside a word stays "iya"
	{"Кириякова", "kiriyakova"},
	{"ия", "ia"},
	{"Ия2", "iya2"}, // a digit continues the word
	{"Лиляна Христова", "lilyana hristova"},
	{"абвгдежзийклмнопрстуфхцчшщъьюя", "abvgdezhziyklmnoprstufhtschshshtayyuya"},
	{"АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЬЮЯ", "abvgdezhziyklmnoprstufhtschshshtayyuya"},
	{"ЕТ „Строй-Инвест“ ЕООД", "et „stroy-invest“ eood"},
	{"Petrov Ltd", "petrov ltd"},
	{"ул. „Васил Левски“ № 12", "ul. „vasil levski“ № 12"},
	{"Фьодор Ёлкин Ыы Эмил", "fyodor yolkin yy emil"},
	{"сѝ", "si"},
	{"", ""},
}

func TestTranslit(t *testing.T) {
	for _, w := range translitWords {
		if got := persons.Translit(w.in); got != w.want {
			t.Errorf("Translit(%q) = %q, want %q", w.in, got, w.want)
		}
	}
}

// TestTranslitAgreesWithSQL: persons.Translit and munigis_translit must
// give the same text, or a Latin search would miss what SQL indexed.
func TestTranslitAgreesWithSQL(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for _, w := range translitWords {
		var got, fold string
		if err := db.Pool.QueryRow(ctx, `SELECT munigis_translit($1), munigis_fold($1)`, w.in).Scan(&got, &fold); err != nil {
			t.Fatal(err)
		}
		if got != w.want {
			t.Errorf("munigis_translit(%q) = %q, want %q (Go gives %q)", w.in, got, w.want, persons.Translit(w.in))
		}
		if fold != persons.Fold(w.in) {
			t.Errorf("munigis_fold(%q) = %q, Go Fold = %q", w.in, fold, persons.Fold(w.in))
		}
	}
}
