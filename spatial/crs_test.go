package spatial_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"munigis/spatial"
)

func TestSRIDConstants(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"SRIDWGS84", spatial.SRIDWGS84, 4326},
		{"SRIDWebMercator", spatial.SRIDWebMercator, 3857},
		{"SRIDCCS2005", spatial.SRIDCCS2005, 7801},
		{"SRIDBGS2005UTM34NE", spatial.SRIDBGS2005UTM34NE, 7799},
		{"SRIDBGS2005UTM35NE", spatial.SRIDBGS2005UTM35NE, 7800},
		{"SRIDWGS84UTM35N", spatial.SRIDWGS84UTM35N, 32635},
		{"SRIDBGS2005UTM35N", spatial.SRIDBGS2005UTM35N, 9391},
		{"StorageSRID", spatial.StorageSRID, 7801},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestParseCRS(t *testing.T) {
	tests := []struct {
		input         string
		srid          int
		crs84         bool
		notation      spatial.Notation
		northingFirst bool // authority order
	}{
		{"EPSG:7801", 7801, false, spatial.NotationCode, true},
		{"epsg:7801", 7801, false, spatial.NotationCode, true},
		{"7801", 7801, false, spatial.NotationCode, true},
		{" EPSG:7801 ", 7801, false, spatial.NotationCode, true},
		{"urn:ogc:def:crs:EPSG::7801", 7801, false, spatial.NotationURN, true},
		{"urn:ogc:def:crs:EPSG:6.3:7801", 7801, false, spatial.NotationURN, true},
		{"URN:OGC:DEF:CRS:EPSG::7801", 7801, false, spatial.NotationURN, true},
		{"urn:ogc:def:crs:EPSG:7801", 7801, false, spatial.NotationURN, true},
		{"urn:x-ogc:def:crs:EPSG:4326", 4326, false, spatial.NotationURN, true},
		{"http://www.opengis.net/def/crs/EPSG/0/7801", 7801, false, spatial.NotationURI, true},
		{"https://www.opengis.net/def/crs/EPSG/0/7801", 7801, false, spatial.NotationURI, true},
		{"http://www.opengis.net/def/crs/EPSG/9.9.1/7801", 7801, false, spatial.NotationURI, true},
		{"EPSG:4326", 4326, false, spatial.NotationCode, true},
		{"EPSG:3857", 3857, false, spatial.NotationCode, false},
		{"EPSG:7799", 7799, false, spatial.NotationCode, true},
		{"EPSG:7800", 7800, false, spatial.NotationCode, true},
		{"EPSG:32635", 32635, false, spatial.NotationCode, false},
		{"EPSG:9391", 9391, false, spatial.NotationCode, false},
		{"CRS:84", 4326, true, spatial.NotationCode, false},
		{"crs:84", 4326, true, spatial.NotationCode, false},
		{"OGC:CRS84", 4326, true, spatial.NotationCode, false},
		{"urn:ogc:def:crs:OGC:1.3:CRS84", 4326, true, spatial.NotationURN, false},
		{"http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, true, spatial.NotationURI, false},
		{"https://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, true, spatial.NotationURI, false},
	}
	for _, tt := range tests {
		got, err := spatial.ParseCRS(tt.input)
		if err != nil {
			t.Errorf("ParseCRS(%q) = %v, want no error", tt.input, err)
			continue
		}
		if got.SRID != tt.srid || got.CRS84 != tt.crs84 || got.Notation != tt.notation || got.NorthingFirst != tt.northingFirst || got.Name == "" {
			t.Errorf("ParseCRS(%q) = %+v, want SRID %d, CRS84 %v, notation %v, NorthingFirst %v and a name",
				tt.input, got, tt.srid, tt.crs84, tt.notation, tt.northingFirst)
		}
	}
}

func TestParseCRSErrors(t *testing.T) {
	for _, input := range []string{
		"EPSG:2154",
		"2154",
		"EPSG:4258", // BGS2005 geographic is not served
		"EPSG:7804", // deprecated, replaced by 9391
		"",
		"EPSG:",
		"EPSG:78o1",
		"EPSG:-7801",
		"EPSG:99999999999999999999",
		"CRS:83",
		"urn:ogc:def:crs:EPSG::",
		"urn:ogc:def:crs:EPSG:x:7801",
		"urn:ogc:def:crs:EPSG:6.3:7801:1",
		"urn:ogc:def:crs:OGC:1.3:CRS83",
		"urn:ogc:def:crs:ESRI::7801",
		"http://www.opengis.net/def/crs/EPSG/7801",
		"http://www.opengis.net/def/crs/EPSG//7801",
		"http://www.opengis.net/def/crs/EPSG/0/7801/",
		"http://example.com/def/crs/EPSG/0/7801",
		"http://www.opengis.net/gml/srs/epsg.xml#7801",
		"WGS84",
	} {
		got, err := spatial.ParseCRS(input)
		var ue *spatial.UnsupportedCRSError
		if !errors.As(err, &ue) || ue.Input != input {
			t.Errorf("ParseCRS(%q) = %+v, %v, want an *UnsupportedCRSError naming the input", input, got, err)
		}
	}
	_, err := spatial.ParseCRS("EPSG:2154")
	const want = `unsupported CRS "EPSG:2154": supported are EPSG:4326, CRS:84, EPSG:3857, EPSG:7801, EPSG:7799, EPSG:7800, EPSG:32635, EPSG:9391`
	if err == nil || err.Error() != want {
		t.Errorf("ParseCRS(%q) = %v, want %s", "EPSG:2154", err, want)
	}
}

func TestSupportedCRS(t *testing.T) {
	all := spatial.SupportedCRS()
	if len(all) != 8 {
		t.Fatalf("len(SupportedCRS()) = %d, want 8", len(all))
	}
	for _, c := range all {
		for _, form := range []string{c.String(), c.URI(), c.URN()} {
			got, err := spatial.ParseCRS(form)
			if err != nil || got.SRID != c.SRID || got.CRS84 != c.CRS84 || got.Name != c.Name {
				t.Errorf("ParseCRS(%q) = %+v, %v, want %+v", form, got, err, c)
			}
		}
	}
	all[0].SRID = 1
	if spatial.SupportedCRS()[0].SRID == 1 {
		t.Errorf("SupportedCRS() returned a shared slice, want a copy")
	}
}

func TestCRSStrings(t *testing.T) {
	tests := []struct {
		input            string
		wantString       string
		wantURI, wantURN string
	}{
		{"7801", "EPSG:7801", "http://www.opengis.net/def/crs/EPSG/0/7801", "urn:ogc:def:crs:EPSG::7801"},
		{"urn:ogc:def:crs:EPSG::4326", "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326", "urn:ogc:def:crs:EPSG::4326"},
		{"CRS:84", "CRS:84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"},
	}
	for _, tt := range tests {
		c, err := spatial.ParseCRS(tt.input)
		if err != nil {
			t.Fatalf("ParseCRS(%q) = %v", tt.input, err)
		}
		if c.String() != tt.wantString || c.URI() != tt.wantURI || c.URN() != tt.wantURN {
			t.Errorf("ParseCRS(%q) strings = %q, %q, %q, want %q, %q, %q",
				tt.input, c.String(), c.URI(), c.URN(), tt.wantString, tt.wantURI, tt.wantURN)
		}
	}
	var zero spatial.CRS
	if zero.String() != "" || zero.URI() != "" || zero.URN() != "" {
		t.Errorf("CRS{} strings = %q, %q, %q, want empty", zero.String(), zero.URI(), zero.URN())
	}
}

func TestAxisNorthingFirst(t *testing.T) {
	tests := []struct {
		input      string
		strict     bool
		legacy     bool
		strictDesc string
	}{
		// In OGC strict contexts the EPSG order applies.
		{"EPSG:4326", true, false, "lat/lon in WMS 1.3.0, lon/lat in WMS 1.1.1"},
		{"EPSG:7801", true, false, "N/E in WMS 1.3.0"},
		{"EPSG:7799", true, false, ""},
		{"EPSG:7800", true, false, ""},
		{"EPSG:3857", false, false, "always E/N"},
		{"EPSG:32635", false, false, ""},
		{"EPSG:9391", false, false, ""},
		{"CRS:84", false, false, "always lon/lat"},
		{"http://www.opengis.net/def/crs/OGC/1.3/CRS84", false, false, ""},
		// URN and URI notations always mean the EPSG order.
		{"urn:ogc:def:crs:EPSG::4326", true, true, ""},
		{"http://www.opengis.net/def/crs/EPSG/0/7801", true, true, ""},
		{"urn:ogc:def:crs:EPSG::3857", false, false, ""},
	}
	for _, tt := range tests {
		c, err := spatial.ParseCRS(tt.input)
		if err != nil {
			t.Fatalf("ParseCRS(%q) = %v", tt.input, err)
		}
		if got := c.AxisNorthingFirst(true); got != tt.strict {
			t.Errorf("AxisNorthingFirst(%s, true) = %v, want %v", tt.input, got, tt.strict)
		}
		if got := c.AxisNorthingFirst(false); got != tt.legacy {
			t.Errorf("AxisNorthingFirst(%s, false) = %v, want %v", tt.input, got, tt.legacy)
		}
	}
}

func TestNotationString(t *testing.T) {
	tests := []struct {
		n    spatial.Notation
		want string
	}{
		{spatial.NotationCode, "code"},
		{spatial.NotationURN, "URN"},
		{spatial.NotationURI, "URI"},
		{9, "Notation(9)"},
	}
	for _, tt := range tests {
		if got := tt.n.String(); got != tt.want {
			t.Errorf("Notation(%d).String() = %q, want %q", int(tt.n), got, tt.want)
		}
	}
}

func mustCRS(t *testing.T, s string) spatial.CRS {
	t.Helper()
	c, err := spatial.ParseCRS(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseBBox(t *testing.T) {
	ccs := mustCRS(t, "EPSG:7801")
	wgs := mustCRS(t, "EPSG:4326")
	tests := []struct {
		name          string
		input         string
		crs           spatial.CRS
		northingFirst bool
		want          spatial.BBox
	}{
		{
			name:  "easting first",
			input: "490000,4735000,491000,4736000",
			crs:   ccs,
			want:  spatial.BBox{MinX: 490000, MinY: 4735000, MaxX: 491000, MaxY: 4736000, CRS: ccs},
		},
		{
			// WMS 1.3.0 with CRS=EPSG:7801 sends minN,minE,maxN,maxE.
			name:          "northing first is swapped",
			input:         "4735000,490000,4736000,491000",
			crs:           ccs,
			northingFirst: true,
			want:          spatial.BBox{MinX: 490000, MinY: 4735000, MaxX: 491000, MaxY: 4736000, CRS: ccs},
		},
		{
			name:          "WMS 1.3.0 EPSG:4326 lat/lon",
			input:         "42.6,23.2,42.8,23.5",
			crs:           wgs,
			northingFirst: wgs.AxisNorthingFirst(true),
			want:          spatial.BBox{MinX: 23.2, MinY: 42.6, MaxX: 23.5, MaxY: 42.8, CRS: wgs},
		},
		{
			name:          "WMS 1.1.1 EPSG:4326 lon/lat",
			input:         "23.2,42.6,23.5,42.8",
			crs:           wgs,
			northingFirst: wgs.AxisNorthingFirst(false),
			want:          spatial.BBox{MinX: 23.2, MinY: 42.6, MaxX: 23.5, MaxY: 42.8, CRS: wgs},
		},
		{
			name:  "spaces, signs and exponents",
			input: " -1.5 , +2e1,3.25E0 ,40 ",
			want:  spatial.BBox{MinX: -1.5, MinY: 20, MaxX: 3.25, MaxY: 40},
		},
		{
			name:  "degenerate box",
			input: "1,2,1,2",
			want:  spatial.BBox{MinX: 1, MinY: 2, MaxX: 1, MaxY: 2},
		},
		{
			// A URN in the box means the EPSG order, whatever the caller said.
			name:          "fifth element URN overrides the order",
			input:         "42.6,23.2,42.8,23.5,urn:ogc:def:crs:EPSG::4326",
			crs:           ccs,
			northingFirst: false,
			want:          spatial.BBox{MinX: 23.2, MinY: 42.6, MaxX: 23.5, MaxY: 42.8, CRS: mustCRS(t, "urn:ogc:def:crs:EPSG::4326")},
		},
		{
			name:          "fifth element CRS84 is lon/lat",
			input:         "23.2,42.6,23.5,42.8,CRS:84",
			crs:           wgs,
			northingFirst: true,
			want:          spatial.BBox{MinX: 23.2, MinY: 42.6, MaxX: 23.5, MaxY: 42.8, CRS: mustCRS(t, "CRS:84")},
		},
		{
			name:  "fifth element short code follows EPSG order",
			input: "4735000,490000,4736000,491000,EPSG:7801",
			want:  spatial.BBox{MinX: 490000, MinY: 4735000, MaxX: 491000, MaxY: 4736000, CRS: ccs},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spatial.ParseBBox(tt.input, tt.crs, tt.northingFirst)
			if err != nil || got != tt.want {
				t.Errorf("ParseBBox(%q, %v, %v) = %+v, %v, want %+v, nil", tt.input, tt.crs, tt.northingFirst, got, err, tt.want)
			}
		})
	}
}

func TestParseBBoxErrors(t *testing.T) {
	ccs := mustCRS(t, "EPSG:7801")
	wgs := mustCRS(t, "EPSG:4326")
	tests := []struct {
		input         string
		crs           spatial.CRS
		northingFirst bool
		want          string // a substring of the error
	}{
		{"", ccs, false, "has 1 element, want 4 numbers"},
		{"1,2,3", ccs, false, "has 3 elements, want 4 numbers"},
		{"1,2,3,4,5,6", ccs, false, "has 6 elements"},
		{"1,2,3,4,EPSG:2154", ccs, false, `element 5: unsupported CRS "EPSG:2154"`},
		{"1,2,3,4,5", ccs, false, `element 5: unsupported CRS "5"`},
		{"1,,3,4", ccs, false, "element 2 is empty"},
		{"1,x,3,4", ccs, false, `element 2 ("x") is not a number`},
		{"1,2,3,4a", ccs, false, `element 4 ("4a") is not a number`},
		{"1;2;3;4", ccs, false, "has 1 element"},
		{"NaN,2,3,4", ccs, false, `element 1 ("NaN") is not a finite number`},
		{"1,2,Inf,4", ccs, false, `element 3 ("Inf") is not a finite number`},
		{"1,2,3,-infinity", ccs, false, "not a finite number"},
		{"1,2,1e400,4", ccs, false, `element 3 ("1e400") is out of range`},
		{"0x1p3,2,3,4", ccs, false, "is not a decimal number"},
		{"1_0,2,30,4", ccs, false, "is not a decimal number"},
		{"5,2,3,4", ccs, false, "minimum easting 5 (element 1) is greater than maximum easting 3 (element 3)"},
		{"1,5,3,4", ccs, false, "minimum northing 5 (element 2) is greater than maximum northing 4 (element 4)"},
		{"5,2,3,4", ccs, true, "minimum northing 5 (element 1) is greater than maximum northing 3 (element 3)"},
		{"1,5,3,4", ccs, true, "minimum easting 5 (element 2) is greater than maximum easting 4 (element 4)"},
		{"42.8,23.2,42.6,23.5", wgs, true, "minimum latitude 42.8 (element 1) is greater than maximum latitude 42.6 (element 3)"},
		{"23.5,42.6,23.2,42.8", wgs, false, "minimum longitude 23.5 (element 1)"},
	}
	for _, tt := range tests {
		got, err := spatial.ParseBBox(tt.input, tt.crs, tt.northingFirst)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseBBox(%q, %v, %v) = %+v, %v, want an error containing %q", tt.input, tt.crs, tt.northingFirst, got, err, tt.want)
		}
	}
	_, err := spatial.ParseBBox("1,2,3,4,EPSG:2154", ccs, false)
	var ue *spatial.UnsupportedCRSError
	if !errors.As(err, &ue) {
		t.Errorf("ParseBBox with an unsupported fifth element = %v, want it to wrap *UnsupportedCRSError", err)
	}
}

func TestBBoxBound(t *testing.T) {
	b := spatial.BBox{MinX: 1, MinY: 2, MaxX: 3, MaxY: 4}
	want := orb.Bound{Min: orb.Point{1, 2}, Max: orb.Point{3, 4}}
	if got := b.Bound(); got != want {
		t.Errorf("BBox.Bound() = %v, want %v", got, want)
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{
		"490000,4735000,491000,4736000",
		"42.6,23.2,42.8,23.5,urn:ogc:def:crs:EPSG::4326",
		"1,2,3,4,CRS:84",
		"NaN,2,3,4",
		"1,,3,4",
		"",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	ccs, err := spatial.ParseCRS("EPSG:7801")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, northingFirst bool) {
		b, err := spatial.ParseBBox(s, ccs, northingFirst)
		if err != nil {
			if b != (spatial.BBox{}) {
				t.Fatalf("ParseBBox(%q) = %+v on error, want the zero BBox", s, b)
			}
			return
		}
		for _, v := range []float64{b.MinX, b.MinY, b.MaxX, b.MaxY} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("ParseBBox(%q) = %+v, want finite numbers", s, b)
			}
		}
		if b.MinX > b.MaxX || b.MinY > b.MaxY {
			t.Fatalf("ParseBBox(%q) = %+v, want min <= max", s, b)
		}
		if b.CRS.SRID == 0 {
			t.Fatalf("ParseBBox(%q) CRS = %+v, want a supported CRS", s, b.CRS)
		}
	})
}

func FuzzParseCRS(f *testing.F) {
	for _, c := range spatial.SupportedCRS() {
		f.Add(c.String())
		f.Add(c.URI())
		f.Add(c.URN())
	}
	f.Add("urn:ogc:def:crs:EPSG:6.3:7801")
	f.Add("EPSG:2154")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := spatial.ParseCRS(s)
		if err != nil {
			var ue *spatial.UnsupportedCRSError
			if !errors.As(err, &ue) || ue.Input != s {
				t.Fatalf("ParseCRS(%q) error = %v, want an *UnsupportedCRSError naming the input", s, err)
			}
			return
		}
		for _, form := range []string{c.String(), c.URI(), c.URN()} {
			again, err := spatial.ParseCRS(form)
			if err != nil || again.SRID != c.SRID || again.CRS84 != c.CRS84 {
				t.Fatalf("ParseCRS(%q) = %+v; ParseCRS(%q) = %+v, %v, want the same system", s, c, form, again, err)
			}
		}
	})
}
