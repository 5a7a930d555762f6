package remote

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"munigis"
)

const caps130 = `<?xml version="1.0" encoding="UTF-8"?>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms">
  <Service><Name>WMS</Name><Title>КАИС INSPIRE</Title></Service>
  <Capability>
    <Layer>
      <Title>root</Title>
      <CRS>EPSG:4326</CRS><CRS>EPSG:7801</CRS>
      <Layer queryable="1"><Name>kais:parcels</Name><Title>Поземлени имоти</Title><CRS>EPSG:3857</CRS></Layer>
      <Layer><Name>kais:buildings</Name><Title>Сгради</Title></Layer>
    </Layer>
  </Capability>
</WMS_Capabilities>`

const caps111 = `<?xml version="1.0"?>
<WMT_MS_Capabilities version="1.1.1">
  <Service><Name>OGC:WMS</Name><Title>old</Title></Service>
  <Capability><Layer><Title>root</Title><SRS>EPSG:4326 EPSG:3857</SRS>
    <Layer><Name>roads</Name><Title>Roads</Title></Layer></Layer></Capability>
</WMT_MS_Capabilities>`

func capsServer(t *testing.T, body string) (*httptest.Server, *string) {
	var lastQuery string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastQuery = r.URL.RawQuery
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &lastQuery
}

func TestCapabilitiesListsNamedLayers(t *testing.T) {
	s, q := capsServer(t, caps130)
	c := New(Config{})
	caps, err := c.Capabilities(context.Background(), s.URL+"/wms?map=kais")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(*q, "REQUEST=GetCapabilities") || !strings.Contains(*q, "VERSION=1.3.0") || !strings.Contains(*q, "map=kais") {
		t.Errorf("query %q", *q)
	}
	if caps.Version != "1.3.0" || caps.Title != "КАИС INSPIRE" || len(caps.Layers) != 2 {
		t.Fatalf("got %+v", caps)
	}
	p, ok := caps.Layer("kais:parcels")
	if !ok || p.Title != "Поземлени имоти" || strings.Join(p.CRS, " ") != "EPSG:4326 EPSG:7801 EPSG:3857" {
		t.Errorf("kais:parcels = %+v, %v; want its title and CRS with the inherited ones", p, ok)
	}
	if _, ok := caps.Layer("root"); ok {
		t.Error("an unnamed group layer was listed by its title")
	}
}

func TestCapabilities111(t *testing.T) {
	s, q := capsServer(t, caps111)
	caps, err := New(Config{}).Capabilities(context.Background(), s.URL+"?VERSION=1.1.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(*q, "VERSION=1.1.1") {
		t.Errorf("query %q, want VERSION=1.1.1", *q)
	}
	r, ok := caps.Layer("roads")
	if !ok || strings.Join(r.CRS, " ") != "EPSG:4326 EPSG:3857" {
		t.Errorf("roads = %+v, %v", r, ok)
	}
}

func TestCapabilitiesRefusesBadDocuments(t *testing.T) {
	deep := strings.Repeat("<Layer>", 100) + strings.Repeat("</Layer>", 100)
	cases := []struct {
		name, body, want string
		code             munigis.Code
	}{
		{"doctype", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><WMS_Capabilities>&e;</WMS_Capabilities>`, "DOCTYPE", munigis.Invalid},
		{"not capabilities", `<html><body>hi</body></html>`, "root element is <html>", munigis.Invalid},
		{"exception", `<ServiceExceptionReport><ServiceException code="InvalidParameterValue">bad</ServiceException></ServiceExceptionReport>`, "InvalidParameterValue: bad", munigis.Invalid},
		{"too deep", `<WMS_Capabilities><Capability>` + deep + `</Capability></WMS_Capabilities>`, "deeper than 64", munigis.Invalid},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><WMS_Capabilities/>`, "UTF-8 only", munigis.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := capsServer(t, tc.body)
			_, err := New(Config{}).Capabilities(context.Background(), s.URL)
			if munigis.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %s containing %q", err, tc.code, tc.want)
			}
		})
	}
}

func TestCapabilitiesOfADeadRemote(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	_, err := New(Config{}).Capabilities(context.Background(), s.URL)
	if munigis.ErrorCode(err) != munigis.Unavailable {
		t.Fatalf("error %v, want unavailable", err)
	}
}
