package remote

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"munigis"
)

// maxXMLDepth bounds the nesting of an XML answer: WMS capabilities nest
// layers a few levels deep, and a deeper document is refused rather than
// walked.
const maxXMLDepth = 64

// Capabilities is what a remote WMS says about itself, as far as munigis
// needs it to check an external layer.
type Capabilities struct {
	Version string
	Title   string
	// Layers lists the named layers (those a GetMap can ask for), in
	// document order.
	Layers []RemoteLayer
}

// RemoteLayer is one named layer of a remote WMS.
type RemoteLayer struct {
	Name  string
	Title string
	// CRS lists the systems the layer is offered in, inherited ones
	// included (CRS in 1.3.0, SRS in 1.1.1).
	CRS []string
}

// Layer returns the named layer, ok false if the remote has none by that
// name.
func (c *Capabilities) Layer(name string) (RemoteLayer, bool) {
	for _, l := range c.Layers {
		if l.Name == name {
			return l, true
		}
	}
	return RemoteLayer{}, false
}

// Capabilities fetches and reads the GetCapabilities document of the WMS
// at base (the URL an external layer's SourceURL holds; its own parameters
// are kept, and VERSION=1.1.1 in it asks for 1.1.1). For checking an
// external layer when an administrator creates it: a remote that does not
// answer is munigis.Unavailable, an answer that is not WMS capabilities is
// munigis.Invalid.
func (c *Client) Capabilities(ctx context.Context, base string) (*Capabilities, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, munigis.Errorf(munigis.Invalid, "remote WMS URL %q is not an http(s) URL", base)
	}
	q := u.Query()
	version := "1.3.0"
	for k, vs := range q {
		switch strings.ToUpper(k) {
		case "VERSION":
			if len(vs) > 0 && strings.HasPrefix(strings.TrimSpace(vs[0]), "1.1") {
				version = "1.1.1"
			}
			delete(q, k)
		case "SERVICE", "REQUEST":
			delete(q, k)
		}
	}
	q.Set("SERVICE", "WMS")
	q.Set("REQUEST", "GetCapabilities")
	q.Set("VERSION", version)
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, munigis.Wrap(munigis.Invalid, err, "remote WMS URL %q is not usable", base)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, munigis.Wrap(munigis.Unavailable, err, "remote WMS %s does not answer", u.Host)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBytes+1))
	if err != nil {
		return nil, munigis.Wrap(munigis.Unavailable, err, "remote WMS %s: reading its capabilities", u.Host)
	}
	if int64(len(body)) > c.cfg.MaxBytes {
		return nil, munigis.Errorf(munigis.Invalid, "remote WMS %s: its capabilities are larger than %d bytes", u.Host, c.cfg.MaxBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, munigis.Wrap(munigis.Unavailable, errors.New(snippet(body)),
			"remote WMS %s answered GetCapabilities with HTTP status %d", u.Host, resp.StatusCode)
	}
	caps, err := parseCapabilities(body)
	if err != nil {
		return nil, munigis.Wrap(munigis.Invalid, err, "remote WMS %s: the GetCapabilities answer is not WMS capabilities", u.Host)
	}
	return caps, nil
}

// newDecoder returns a decoder that refuses what munigis never reads from
// a remote: a DOCTYPE (so no DTD, no entities) and unknown encodings.
func newDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("unsupported XML encoding %q (UTF-8 only)", label)
	}
	return d
}

// nextToken returns the next token, refusing directives (DOCTYPE) and
// nesting deeper than maxXMLDepth; depth is the caller's running depth.
func nextToken(d *xml.Decoder, depth *int) (xml.Token, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t.(type) {
	case xml.Directive:
		return nil, errors.New("the document contains a DOCTYPE or other directive, which is refused")
	case xml.StartElement:
		*depth++
		if *depth > maxXMLDepth {
			return nil, fmt.Errorf("the document nests deeper than %d elements", maxXMLDepth)
		}
	case xml.EndElement:
		*depth--
	}
	return t, nil
}

// parseCapabilities reads WMS 1.3.0 (WMS_Capabilities) or 1.1.1
// (WMT_MS_Capabilities) capabilities, streaming.
func parseCapabilities(b []byte) (*Capabilities, error) {
	d := newDecoder(b)
	depth := 0
	var caps *Capabilities
	type frame struct {
		layer *RemoteLayer
	}
	var stack []frame // open Layer elements
	var path []string // open element names
	var text strings.Builder
	for {
		t, err := nextToken(d, &depth)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if caps == nil {
				if name != "WMS_Capabilities" && name != "WMT_MS_Capabilities" {
					if name == "ServiceExceptionReport" {
						return nil, fmt.Errorf("a service exception instead: %s", serviceException(b))
					}
					return nil, fmt.Errorf("the root element is <%s>, not <WMS_Capabilities> or <WMT_MS_Capabilities>", name)
				}
				caps = &Capabilities{}
				for _, a := range t.Attr {
					if a.Name.Local == "version" {
						caps.Version = a.Value
					}
				}
			}
			if name == "Layer" {
				l := &RemoteLayer{}
				if n := len(stack); n > 0 {
					l.CRS = append([]string(nil), stack[n-1].layer.CRS...)
				}
				stack = append(stack, frame{layer: l})
			}
			path = append(path, name)
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			name := t.Name.Local
			parent := ""
			if len(path) >= 2 {
				parent = path[len(path)-2]
			}
			s := strings.TrimSpace(text.String())
			switch {
			case name == "Layer" && len(stack) > 0:
				l := stack[len(stack)-1].layer
				stack = stack[:len(stack)-1]
				if l.Name != "" {
					caps.Layers = append(caps.Layers, *l)
				}
			case parent == "Layer" && len(stack) > 0:
				l := stack[len(stack)-1].layer
				switch name {
				case "Name":
					l.Name = s
				case "Title":
					l.Title = s
				case "CRS", "SRS":
					// 1.1.1 allows several codes in one SRS element.
					l.CRS = append(l.CRS, strings.Fields(s)...)
				}
			case parent == "Service" && name == "Title":
				caps.Title = s
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if caps == nil {
		return nil, errors.New("empty document")
	}
	return caps, nil
}

// serviceException returns the text of an OGC ServiceExceptionReport
// (code: message; …), or the start of the body when it cannot be read as
// one. For logs only.
func serviceException(b []byte) string {
	d := newDecoder(b)
	depth := 0
	var out []string
	in := false
	code, outer := "", ""
	var text strings.Builder
	for {
		t, err := nextToken(d, &depth)
		if err != nil {
			break
		}
		switch t := t.(type) {
		case xml.StartElement:
			// OWS 1.1 puts the code on <Exception> around <ExceptionText>.
			if t.Name.Local == "Exception" {
				outer = ""
				for _, a := range t.Attr {
					if a.Name.Local == "exceptionCode" {
						outer = a.Value
					}
				}
			}
			if t.Name.Local == "ServiceException" || t.Name.Local == "ExceptionText" {
				in, code = true, outer
				text.Reset()
				for _, a := range t.Attr {
					if a.Name.Local == "code" || a.Name.Local == "exceptionCode" {
						code = a.Value
					}
				}
			}
		case xml.CharData:
			if in {
				text.Write(t)
			}
		case xml.EndElement:
			if in && (t.Name.Local == "ServiceException" || t.Name.Local == "ExceptionText") {
				s := strings.Join(strings.Fields(text.String()), " ")
				if code != "" {
					s = code + ": " + s
				}
				out = append(out, s)
				in = false
			}
		}
	}
	if len(out) == 0 {
		return snippet(b)
	}
	return strings.Join(out, "; ")
}
