package persons

import "strings"

// translitTable is the official Bulgarian transliteration (Закон за
// транслитерацията, Art. 4) of the lower-case letters. ѝ is и; ё, ы and э
// are not Bulgarian letters but occur in foreigners' names, and get yo, y
// and e so that no Cyrillic letter stays in the Latin form.
var translitTable = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ж': "zh", 'з': "z",
	'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p",
	'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "h", 'ц': "ts", 'ч': "ch",
	'ш': "sh", 'щ': "sht", 'ъ': "a", 'ь': "y", 'ю': "yu", 'я': "ya",
	'ѝ': "i", 'ё': "yo", 'ы': "y", 'э': "e",
}

// Fold returns s in lower case, as the SQL function munigis_fold does; the
// search text of persons and register entries is folded, so that case
// never matters in a search.
func Fold(s string) string { return strings.ToLower(s) }

// Translit returns the official Latin transliteration of s, in lower case,
// exactly as the SQL function munigis_translit (migration 000008) does: a
// test compares the two on a word list. It is lower case because it serves
// search (search_text holds the folded name and its transliteration, and a
// query is folded and transliterated the same way), not display: "Petrov",
// "PETROV" and "Петров" all find Петров. The law's two exceptions: "ия" at
// the end of a word becomes "ia" (Art. 5: София → sofia) and the word
// България is "bulgaria" (Art. 6; the table would give balgaria). A word
// is a run of letters (Cyrillic а–я, ё, ѝ, Latin a–z) and digits, the same
// class as the SQL patterns. Characters that are not Cyrillic letters are
// kept.
func Translit(s string) string {
	rs := []rune(Fold(s))
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == 'б' && (i == 0 || !wordRune(rs[i-1])) && hasWordAt(rs, i, bulgaria) {
			b.WriteString("bulgaria")
			i += len(bulgaria) - 1
			continue
		}
		if r == 'и' && i+1 < len(rs) && rs[i+1] == 'я' && (i+2 == len(rs) || !wordRune(rs[i+2])) {
			b.WriteString("ia")
			i++
			continue
		}
		if t, ok := translitTable[r]; ok {
			b.WriteString(t)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var bulgaria = []rune("българия")

// hasWordAt reports whether the word w starts at rs[i] and ends there (no
// word rune follows it).
func hasWordAt(rs []rune, i int, w []rune) bool {
	if i+len(w) > len(rs) {
		return false
	}
	for j, r := range w {
		if rs[i+j] != r {
			return false
		}
	}
	return i+len(w) == len(rs) || !wordRune(rs[i+len(w)])
}

// wordRune is the SQL pattern's class [а-яёѝa-z0-9] (on folded text).
func wordRune(r rune) bool {
	return (r >= 'а' && r <= 'я') || r == 'ё' || r == 'ѝ' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
}

// SearchText is what the database stores in persons.search_text for name:
// the folded name and its transliteration. Exported for tests and for
// register code that builds the same kind of text.
func SearchText(name string) string {
	n := normaliseName(name)
	return Fold(n) + " " + Translit(n)
}
