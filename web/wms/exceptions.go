package wms

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"net/http"
	"strings"

	"munigis"
	"munigis/render"
)

// exception reports err: as an image when a GetMap asked for INIMAGE or
// BLANK exceptions and its size and format are usable, else as a
// ServiceExceptionReport (text/xml in 1.3.0, application/vnd.ogc.se_xml in
// 1.1.1). Internal causes are logged with the request, never shown.
func (s *Service) exception(w http.ResponseWriter, r *http.Request, q *request, err error) {
	if munigis.ClientGone(r.Context()) {
		s.d.Log.Info("wms: client closed the request", "method", r.Method, "query", r.URL.RawQuery, "err", err.Error())
		w.WriteHeader(munigis.StatusClientClosed)
		return
	}
	we := asWMS(err)
	if we.cause != nil {
		s.d.Log.Error("wms request failed", "method", r.Method, "query", r.URL.RawQuery, "code", we.code, "err", we.cause.Error())
	}
	code := we.code
	if q.version == v111 && code == codeInvalidCRS {
		code = "InvalidSRS"
	}
	if s.imageException(w, q, we) {
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if q.version == v111 {
		b.WriteString(`<ServiceExceptionReport version="1.1.1">`)
	} else {
		b.WriteString(`<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">`)
	}
	b.WriteString("\n  <ServiceException")
	if code != codeInternal {
		b.WriteString(` code="` + esc(code) + `"`)
	}
	if we.locator != "" {
		b.WriteString(` locator="` + esc(we.locator) + `"`)
	}
	b.WriteString(">" + esc(we.msg) + "</ServiceException>\n</ServiceExceptionReport>\n")
	if q.version == v111 {
		w.Header().Set("Content-Type", "application/vnd.ogc.se_xml; charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(we.status)
	_, _ = w.Write(b.Bytes())
}

// imageException writes the INIMAGE or BLANK form of an exception when the
// request asked for it and its WIDTH, HEIGHT and FORMAT can be honoured;
// otherwise it reports false and the XML report is sent.
func (s *Service) imageException(w http.ResponseWriter, q *request, we *wmsError) bool {
	mode := strings.ToUpper(q.get("EXCEPTIONS"))
	mode = strings.TrimPrefix(mode, "APPLICATION/VND.OGC.SE_")
	if mode != "INIMAGE" && mode != "BLANK" {
		return false
	}
	req := strings.ToLower(q.get("REQUEST"))
	if req != "getmap" && req != "map" {
		return false
	}
	format, ok := parseFormat(q.get("FORMAT"))
	if !ok {
		return false
	}
	width, errW := s.size(q, "WIDTH", s.d.MaxWidth)
	height, errH := s.size(q, "HEIGHT", s.d.MaxHeight)
	if errW != nil || errH != nil {
		return false
	}
	bg, transparent, err := background(q)
	if err != nil {
		bg, transparent = color.NRGBA{R: 255, G: 255, B: 255, A: 255}, false
	}
	if transparent {
		bg.A = 0
	}
	msg := ""
	if mode == "INIMAGE" {
		msg = we.code + ": " + we.msg
	}
	img := render.MessageImage(width, height, msg, bg)
	w.Header().Set("Content-Type", contentType(format))
	w.Header().Set("Cache-Control", "no-store")
	_ = render.Encode(w, img, format, color.RGBA{R: bg.R, G: bg.G, B: bg.B, A: 255})
	return true
}

// esc escapes text for XML content and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
