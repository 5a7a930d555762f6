package web

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"

	"munigis"
)

// handleOGC hands a request to the OGC service svc (see Deps), or answers
// 404 when the service is not configured.
func (s *Server) handleOGC(svc string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := s.ogc[svc]
		if h == nil {
			s.handle(func(http.ResponseWriter, *http.Request) error { return errNoRoute }).ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// maxOWSPeek bounds how much of a POST body /ows reads to find the service.
const maxOWSPeek = 4096

// handleOWS serves /ows: SERVICE=WMS or WFS from the query string (any
// case, as clients send it), or for an XML POST the service attribute of
// the root element.
func (s *Server) handleOWS(w http.ResponseWriter, r *http.Request) error {
	svc := ""
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "service") && len(v) > 0 {
			svc = v[0]
		}
	}
	if svc == "" && r.Method == http.MethodPost && r.Body != nil {
		head := make([]byte, maxOWSPeek)
		n, _ := io.ReadFull(r.Body, head)
		head = head[:n]
		svc = xmlRootService(head)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(head), r.Body))
	}
	switch strings.ToLower(svc) {
	case "wms", "wfs":
		s.handleOGC(strings.ToLower(svc)).ServeHTTP(w, r)
		return nil
	case "":
		return munigis.Errorf(munigis.Invalid, "/ows needs SERVICE=WMS or SERVICE=WFS")
	}
	return munigis.Errorf(munigis.Invalid, "SERVICE %q is not served here: use WMS or WFS", svc)
}

// xmlRootService returns the service attribute of the first element of an
// XML document prefix ("" when there is none). The decoder resolves no
// entities: encoding/xml never fetches external ones.
func xmlRootService(doc []byte) string {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "service" {
					return a.Value
				}
			}
			return ""
		}
	}
}

// isOGCPath reports whether path belongs to an OGC service.
func isOGCPath(path string) bool {
	return path == "/wms" || path == "/wfs" || path == "/ows" || path == "/ogc" || strings.HasPrefix(path, "/ogc/")
}
