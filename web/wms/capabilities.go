package wms

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"munigis/layers"
	"munigis/render"
	"munigis/spatial"
)

// crsInfo is an offered CRS with its parsed form and SRID.
type crsInfo struct {
	code string
	crs  spatial.CRS
}

func offered() []crsInfo {
	out := make([]crsInfo, 0, len(offeredCRS))
	for _, c := range offeredCRS {
		p, err := spatial.ParseCRS(c)
		if err != nil {
			panic(err) // a constant list
		}
		out = append(out, crsInfo{code: c, crs: p})
	}
	return out
}

// srids returns the distinct SRIDs of the offered systems.
func srids() []int {
	var out []int
	seen := map[int]bool{}
	for _, c := range offered() {
		if !seen[c.crs.SRID] {
			seen[c.crs.SRID] = true
			out = append(out, c.crs.SRID)
		}
	}
	return out
}

// scaleOfZoom is the scale denominator of MapLibre zoom z (512-pixel
// tiles), for a layer's MinScaleDenominator/MaxScaleDenominator.
func scaleOfZoom(z int) float64 { return 559082264.028717 / float64(uint64(1)<<uint(z+1)) }

func (s *Service) getCapabilities(w http.ResponseWriter, r *http.Request, q *request) error {
	// FORMAT is not checked: WMS 1.3.0 (7.2.3.1) answers an unsupported
	// capabilities format with the default, text/xml.
	ls, err := s.readable(r.Context(), q.viewer)
	if err != nil {
		return err
	}
	// The update sequence is the latest change to the catalog the caller
	// sees, in seconds: it grows whenever a layer is added or changed.
	var seq int64
	for _, l := range ls {
		seq = max(seq, l.UpdatedAt.Unix())
	}
	if us := q.get("UPDATESEQUENCE"); us != "" {
		n, err := strconv.ParseInt(us, 10, 64)
		switch {
		case err != nil:
			return fail(codeInvalidUpdateSeq, "UPDATESEQUENCE", "UPDATESEQUENCE "+quote(us)+" is not one this server issued (a whole number)")
		case n == seq:
			return fail(codeCurrentUpdateSeq, "UPDATESEQUENCE", "the capabilities have not changed since update sequence "+us)
		case n > seq:
			return fail(codeInvalidUpdateSeq, "UPDATESEQUENCE", "UPDATESEQUENCE "+us+" is later than the current "+strconv.FormatInt(seq, 10))
		}
	}
	type layerBox struct {
		l     layers.Layer
		boxes map[int][4]float64
		ok    bool
	}
	var lbs []layerBox
	root := map[int][4]float64{}
	for _, l := range ls {
		boxes, ok, err := s.d.Renderer.Extent(r.Context(), l, srids())
		if err != nil {
			return err
		}
		lbs = append(lbs, layerBox{l: l, boxes: boxes, ok: ok})
		if !ok {
			continue
		}
		for srid, b := range boxes {
			if rb, have := root[srid]; have {
				b = [4]float64{min(b[0], rb[0]), min(b[1], rb[1]), max(b[2], rb[2]), max(b[3], rb[3])}
			}
			root[srid] = b
		}
	}
	if len(root) == 0 {
		// Nothing stored yet: Bulgaria, so clients still get a sensible
		// box.
		root[spatial.SRIDWGS84] = [4]float64{22.35, 41.23, 28.61, 44.22}
	}
	v13 := q.version == v130
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if v13 {
		fmt.Fprintf(&b, `<WMS_Capabilities version="1.3.0" updateSequence="%d" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd">`+"\n", seq)
	} else {
		fmt.Fprintf(&b, `<WMT_MS_Capabilities version="1.1.1" updateSequence="%d" xmlns:xlink="http://www.w3.org/1999/xlink">`+"\n", seq)
	}
	href := esc(q.base)
	b.WriteString("<Service>\n")
	if v13 {
		b.WriteString("  <Name>WMS</Name>\n")
	} else {
		b.WriteString("  <Name>OGC:WMS</Name>\n")
	}
	b.WriteString("  <Title>munigis – карти на общината / municipal maps</Title>\n")
	b.WriteString("  <Abstract>Слоевете на общинската ГИС: кадастър, регулация, устройствени планове, мрежи. The layers of the municipal GIS: cadastre, regulation, spatial plans, utilities.</Abstract>\n")
	b.WriteString("  <KeywordList><Keyword>WMS</Keyword><Keyword>кадастър</Keyword><Keyword>cadastre</Keyword></KeywordList>\n")
	fmt.Fprintf(&b, `  <OnlineResource xlink:type="simple" xlink:href="%s"/>`+"\n", href)
	b.WriteString("  <Fees>none</Fees>\n  <AccessConstraints>none</AccessConstraints>\n")
	if v13 {
		fmt.Fprintf(&b, "  <MaxWidth>%d</MaxWidth>\n  <MaxHeight>%d</MaxHeight>\n", s.d.MaxWidth, s.d.MaxHeight)
	}
	b.WriteString("</Service>\n<Capability>\n<Request>\n")
	dcp := func() {
		fmt.Fprintf(&b, `    <DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href="%s"/></Get><Post><OnlineResource xlink:type="simple" xlink:href="%s"/></Post></HTTP></DCPType>`+"\n", href, href)
	}
	b.WriteString("  <GetCapabilities>\n")
	if v13 {
		b.WriteString("    <Format>text/xml</Format>\n")
	} else {
		b.WriteString("    <Format>application/vnd.ogc.wms_xml</Format>\n")
	}
	dcp()
	b.WriteString("  </GetCapabilities>\n  <GetMap>\n")
	for _, f := range render.Formats {
		b.WriteString("    <Format>" + esc(string(f)) + "</Format>\n")
	}
	dcp()
	b.WriteString("  </GetMap>\n  <GetFeatureInfo>\n")
	for _, f := range infoFormats {
		b.WriteString("    <Format>" + f + "</Format>\n")
	}
	dcp()
	b.WriteString("  </GetFeatureInfo>\n</Request>\n<Exception>\n")
	if v13 {
		b.WriteString("  <Format>XML</Format>\n  <Format>INIMAGE</Format>\n  <Format>BLANK</Format>\n")
	} else {
		b.WriteString("  <Format>application/vnd.ogc.se_xml</Format>\n  <Format>application/vnd.ogc.se_inimage</Format>\n  <Format>application/vnd.ogc.se_blank</Format>\n")
	}
	b.WriteString("</Exception>\n")

	b.WriteString("<Layer>\n  <Title>munigis</Title>\n  <Abstract>Всички слоеве, които може да видите. Every layer you may see.</Abstract>\n")
	for _, c := range offered() {
		if v13 {
			b.WriteString("  <CRS>" + c.code + "</CRS>\n")
		} else if !c.crs.CRS84 {
			b.WriteString("  <SRS>" + c.code + "</SRS>\n")
		}
	}
	writeBoxes(&b, root, v13, "  ")
	for _, lb := range lbs {
		l := lb.l
		queryable := 0
		if l.Local() {
			queryable = 1
		}
		fmt.Fprintf(&b, "  <Layer queryable=\"%d\" opaque=\"0\">\n", queryable)
		b.WriteString("    <Name>" + esc(l.Name) + "</Name>\n")
		b.WriteString("    <Title>" + esc(l.TitleBG+" / "+l.TitleEN) + "</Title>\n")
		abstract := strings.TrimSpace(strings.TrimSpace(l.AbstractBG) + " " + strings.TrimSpace(l.AbstractEN))
		if abstract == "" {
			abstract = l.Type.TitleBG + " / " + l.Type.TitleEN
		}
		b.WriteString("    <Abstract>" + esc(abstract) + "</Abstract>\n")
		b.WriteString("    <KeywordList><Keyword>" + esc(l.TypeName) + "</Keyword></KeywordList>\n")
		if lb.ok {
			writeBoxes(&b, lb.boxes, v13, "    ")
		}
		var styles []*render.Style
		if l.Local() {
			styles = render.Styles(l)
		}
		for _, st := range styles {
			b.WriteString("    <Style>\n      <Name>" + esc(st.Name) + "</Name>\n      <Title>" + esc(st.Title) + "</Title>\n")
			if st.Abstract != "" {
				b.WriteString("      <Abstract>" + esc(st.Abstract) + "</Abstract>\n")
			}
			legend := q.base + "REQUEST=GetLegendGraphic&VERSION=" + q.version + "&FORMAT=image/png&LAYER=" + encodeValue(l.Name) + "&STYLE=" + encodeValue(st.Name)
			fmt.Fprintf(&b, `      <LegendURL width="20" height="20"><Format>image/png</Format><OnlineResource xlink:type="simple" xlink:href="%s"/></LegendURL>`+"\n", esc(legend))
			b.WriteString("    </Style>\n")
		}
		if v13 {
			if l.MaxZoom > 0 && l.MaxZoom < 24 {
				fmt.Fprintf(&b, "    <MinScaleDenominator>%s</MinScaleDenominator>\n", num(scaleOfZoom(l.MaxZoom+1)))
			}
			if l.MinZoom > 0 {
				fmt.Fprintf(&b, "    <MaxScaleDenominator>%s</MaxScaleDenominator>\n", num(scaleOfZoom(l.MinZoom)))
			}
		}
		b.WriteString("  </Layer>\n")
	}
	b.WriteString("</Layer>\n</Capability>\n")
	if v13 {
		b.WriteString("</WMS_Capabilities>\n")
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	} else {
		b.WriteString("</WMT_MS_Capabilities>\n")
		w.Header().Set("Content-Type", "application/vnd.ogc.wms_xml; charset=UTF-8")
	}
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Vary", "Cookie, Authorization")
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
	return nil
}

// writeBoxes writes the geographic box (EX_GeographicBoundingBox in 1.3.0,
// LatLonBoundingBox in 1.1.1) and a BoundingBox per offered CRS. In 1.3.0
// a BoundingBox follows its CRS's axis order, so the northing-first
// systems (EPSG:4326, 7801, 7799, 7800) put northing or latitude in minx.
func writeBoxes(b *bytes.Buffer, boxes map[int][4]float64, v13 bool, indent string) {
	geo, ok := boxes[spatial.SRIDWGS84]
	if !ok {
		return
	}
	if v13 {
		fmt.Fprintf(b, "%s<EX_GeographicBoundingBox><westBoundLongitude>%s</westBoundLongitude><eastBoundLongitude>%s</eastBoundLongitude><southBoundLatitude>%s</southBoundLatitude><northBoundLatitude>%s</northBoundLatitude></EX_GeographicBoundingBox>\n",
			indent, num(geo[0]), num(geo[2]), num(geo[1]), num(geo[3]))
	} else {
		fmt.Fprintf(b, `%s<LatLonBoundingBox minx="%s" miny="%s" maxx="%s" maxy="%s"/>`+"\n", indent, num(geo[0]), num(geo[1]), num(geo[2]), num(geo[3]))
	}
	for _, c := range offered() {
		bx, ok := boxes[c.crs.SRID]
		if !ok {
			continue
		}
		attr := "CRS"
		if !v13 {
			if c.crs.CRS84 {
				continue
			}
			attr = "SRS"
		}
		if c.crs.AxisNorthingFirst(v13) {
			bx = [4]float64{bx[1], bx[0], bx[3], bx[2]}
		}
		fmt.Fprintf(b, `%s<BoundingBox %s="%s" minx="%s" miny="%s" maxx="%s" maxy="%s"/>`+"\n", indent, attr, c.code,
			num(bx[0]), num(bx[1]), num(bx[2]), num(bx[3]))
	}
}
