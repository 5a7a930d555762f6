package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"munigis"
	"munigis/spatial"
)

// crsParam parses a CRS query parameter; empty means CRS84 (SRID 4326).
func crsParam(s, name string) (int, error) {
	if s == "" {
		return spatial.SRIDWGS84, nil
	}
	c, err := spatial.ParseCRS(s)
	if err != nil {
		return 0, munigis.Wrap(munigis.Invalid, err, "%s: %s", name, err.Error())
	}
	return c.SRID, nil
}

func intParam(s, name string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, munigis.Errorf(munigis.Invalid, "%s: %q is not a whole number", name, s)
	}
	return n, nil
}

// decode reads a JSON request body of at most MaxBodyBytes into v,
// refusing unknown fields so that a typo is reported, not ignored.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return munigis.Errorf(munigis.Invalid, "send the body as application/json, not %s", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return munigis.Errorf(munigis.Invalid, "the request body is empty; send a JSON object")
		}
		return munigis.Wrap(munigis.Invalid, err, "the request body is not valid JSON for this endpoint: %s", err.Error())
	}
	if dec.More() {
		return munigis.Errorf(munigis.Invalid, "the request body holds more than one JSON value")
	}
	return nil
}
