package remote_test

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/render"
	"munigis/spatial"
	"munigis/web/remote"
	"munigis/web/wms"
)

// TestMapFromASecondMunigis uses munigis's own WMS (package wms over a demo
// database, served by httptest as the public sees it) as the remote, the
// way one municipality would show another's layer: the image the client
// fetches is the very image that WMS draws, with parcels in it, which
// proves the GetMap parameters and the axis order right for WMS 1.3.0
// (EPSG:4326 and EPSG:7801 northing first, CRS:84 and EPSG:3857 x/y) and
// 1.1.1.
func TestMapFromASecondMunigis(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 300}, io.Discard); err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	svc := wms.New(wms.Deps{Layers: store, Renderer: render.New(db.Pool, store, render.Config{})})
	srv := httptest.NewServer(svc)
	defer srv.Close()

	// A box in the middle of the parcels, in each CRS, x = easting/lon.
	boxes := map[int][4]float64{}
	for _, srid := range []int{4326, 3857, 7801} {
		var b [4]float64
		err := db.Pool.QueryRow(ctx, `
			WITH c AS (SELECT ST_SetSRID(ST_Centroid(ST_Extent(geom)), 7801) AS p FROM features.cadastre_parcels)
			SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
			FROM c, ST_Transform(ST_Expand(p, 150), $1::int) AS e`, srid).Scan(&b[0], &b[1], &b[2], &b[3])
		if err != nil {
			t.Fatal(err)
		}
		boxes[srid] = b
	}

	c := remote.New(remote.Config{})
	cases := []struct {
		name, url, crs string
		srid           int
	}{
		{"1.3.0 EPSG:4326", srv.URL + "/wms", "EPSG:4326", 4326},
		{"1.3.0 CRS:84", srv.URL + "/wms", "CRS:84", 4326},
		{"1.3.0 EPSG:7801", srv.URL + "/wms", "EPSG:7801", 7801},
		{"1.3.0 EPSG:3857", srv.URL + "/wms", "EPSG:3857", 3857},
		{"1.1.1 EPSG:4326", srv.URL + "/wms?VERSION=1.1.1", "EPSG:4326", 4326},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := spatial.ParseCRS(tc.crs)
			if err != nil {
				t.Fatal(err)
			}
			l := layers.Layer{Name: "neighbour_parcels", TitleBG: "Имоти на съседите", TitleEN: "Neighbours' parcels",
				Source: "wms", SourceURL: tc.url, SourceLayer: "cadastre_parcels"}
			b := boxes[tc.srid]
			img, err := c.Map(ctx, l, cr, b[0], b[1], b[2], b[3], 256, 256)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			// The same request straight to the remote: the client must hand
			// back exactly what the remote drew.
			u, err := remote.GetMapURL(tc.url, "cadastre_parcels", cr, b[0], b[1], b[2], b[3], 256, 256)
			if err != nil {
				t.Fatal(err)
			}
			direct := get(t, u)
			painted := 0
			for y := 0; y < 256; y++ {
				for x := 0; x < 256; x++ {
					r1, g1, b1, a1 := img.At(x, y).RGBA()
					r2, g2, b2, a2 := direct.At(x, y).RGBA()
					if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
						t.Fatalf("pixel %d,%d differs from the remote's own image", x, y)
					}
					if a1 != 0 {
						painted++
					}
				}
			}
			// Swapped axes would put the box far outside the town (or be
			// refused): an empty map. Parcels tile the quarters, so most
			// of a 300 m box in the middle of the town is painted.
			if painted < 256*256/4 {
				t.Fatalf("only %d of %d pixels painted: the box missed the parcels (axis order?)", painted, 256*256)
			}
		})
	}

	t.Run("a layer the remote does not have gives the error tile", func(t *testing.T) {
		l := layers.Layer{Name: "nothing", TitleBG: "Нищо", TitleEN: "Nothing", Source: "wms",
			SourceURL: srv.URL + "/wms", SourceLayer: "no_such_layer"}
		b := boxes[3857]
		img, err := c.Map(ctx, l, spatial.CRS{SRID: 3857, Name: "WGS 84 / Pseudo-Mercator"}, b[0], b[1], b[2], b[3], 256, 256)
		if err == nil || !strings.Contains(err.Error(), "LayerNotDefined") {
			t.Fatalf("error %v, want the remote's LayerNotDefined exception", err)
		}
		if img == nil || img.Bounds().Dx() != 256 {
			t.Fatalf("want a 256×256 error tile, got %v", img)
		}
	})

	t.Run("capabilities list the remote's layers", func(t *testing.T) {
		caps, err := c.Capabilities(ctx, srv.URL+"/wms")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := caps.Layer("cadastre_parcels"); !ok || caps.Version != "1.3.0" {
			t.Fatalf("cadastre_parcels not among %d layers of version %q", len(caps.Layers), caps.Version)
		}
		if _, ok := caps.Layer("utility_lines"); ok {
			t.Error("the public saw the internal utility_lines through the remote's capabilities")
		}
	})
}

func get(t *testing.T, u string) image.Image {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, body)
	}
	return img
}
