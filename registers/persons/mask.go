package persons

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask returns the name of p as the public may see it (seed items 12 and
// 30: registers are published with natural persons' data protected). A
// natural person is reduced to the initials of every part of the name
// ("Иван Петров Иванов" → "И. П. И.", a compound part "Анна-Мария" →
// "А.-М."): enough to tell entries apart, not enough to identify anyone. A
// legal entity's name is public information (the Commercial Register is
// public) and is returned in full.
func Mask(p Person) string {
	if p.Kind == Legal {
		return p.Name
	}
	return initials(p.Name)
}

func initials(name string) string {
	words := strings.Fields(name)
	out := make([]string, 0, len(words))
	for _, w := range words {
		parts := strings.Split(w, "-")
		var ps []string
		for _, part := range parts {
			// The first letter: quotes or brackets before it are skipped.
			if i := strings.IndexFunc(part, unicode.IsLetter); i >= 0 {
				r, _ := utf8.DecodeRuneInString(part[i:])
				ps = append(ps, string(unicode.ToUpper(r))+".")
			}
		}
		if len(ps) > 0 {
			out = append(out, strings.Join(ps, "-"))
		}
	}
	return strings.Join(out, " ")
}

// Public is all the public may learn about a person: the masked name, the
// kind and, for a legal entity only, its ЕИК (public in the Commercial
// Register and БУЛСТАТ). ЕГН, ЛНЧ, birth data, address and contacts are
// never part of it; a public view is built from this type only, so a field
// added to Person later cannot leak by accident.
type Public struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	EIK  string `json:"eik,omitempty"`
}

// PublicView returns what the public may see of p.
func PublicView(p Person) Public {
	v := Public{Kind: p.Kind, Name: Mask(p)}
	if p.Kind == Legal {
		v.EIK = p.EIK
	}
	return v
}
