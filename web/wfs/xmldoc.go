package wfs

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// node is an element of a parsed XML request. Requests are small (bounded
// by the body limit), and filters and GML are easiest to interpret as a
// tree, so the whole document is read first.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	text     string // character data directly inside the element
}

// attr returns the value of the attribute with local name local, ignoring
// its namespace ("" when absent).
func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// hasAttr reports whether the element carries the attribute.
func (n *node) hasAttr(local string) bool {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return true
		}
	}
	return false
}

// child returns the first child element with local name local. Namespaces
// are not compared: clients mix fes, ogc and wfs prefixes freely across
// versions, and the local names do not clash.
func (n *node) child(local string) *node {
	for _, c := range n.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

// all returns the child elements with local name local.
func (n *node) all(local string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// parseXML reads an XML request safely: any DOCTYPE (and with it every DTD
// and entity declaration) is refused, nesting is bounded, and encoding/xml
// itself never fetches anything external. The caller bounds the size.
func parseXML(r io.Reader) (*node, error) { return parseXMLRoot(r, nil) }

// parseXMLRoot is parseXML calling onRoot with the root element's name as
// soon as it is read.
func parseXMLRoot(r io.Reader, onRoot func(xml.Name)) (*node, error) {
	d := xml.NewDecoder(r)
	// Only UTF-8 (and its ASCII subset) is accepted; a declared other
	// charset fails with a clear message instead of being guessed.
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "us-ascii") || strings.EqualFold(charset, "ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("charset %s is not supported, send UTF-8", charset)
	}
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, bodyError(err)
			}
			return nil, parsingFailed("the request body is not well-formed XML: " + xmlErrText(err))
		}
		switch t := tok.(type) {
		case xml.Directive:
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(string(t))), "DOCTYPE") {
				return nil, parsingFailed("the request contains a DOCTYPE; DTDs and entity declarations are refused")
			}
			return nil, parsingFailed("the request contains an XML directive, which is refused")
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, parsingFailed(fmt.Sprintf("the request is nested deeper than %d elements", maxXMLDepth))
			}
			n := &node{name: t.Name, attrs: t.Copy().Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				return nil, parsingFailed("the request has more than one root element")
			} else {
				root = n
				if onRoot != nil {
					onRoot(t.Name)
				}
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, parsingFailed("the request body is empty; send an XML document or use KVP parameters")
	}
	return root, nil
}

// xmlErrText returns the decoder's message, which names a line and the
// syntax problem and holds nothing from the server.
func xmlErrText(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	return "unexpected end of the document"
}
