package wms_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"munigis/access"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/render"
	"munigis/web/wms"
)

// BenchmarkGetMap draws parcels as the MapServer comparison does: 256×256
// and 1024×768 PNG maps of about 200 and about 5,000 parcels in EPSG:3857,
// through the whole handler (parsing, SQL, drawing, PNG).
func BenchmarkGetMap(b *testing.B) {
	db := pgtest.New(b)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 8000}, io.Discard); err != nil {
		b.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	svc := wms.New(wms.Deps{Layers: store, Renderer: render.New(db.Pool, store, render.Config{})})
	var cx, cy float64
	if err := db.Pool.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom_3857)::geometry) AS c
		FROM features.cadastre_parcels) x`).Scan(&cx, &cy); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		w, h       int
		sideX      float64
		sideY      float64
		formatName string
	}{
		{"256x256-200parcels", 256, 256, 490, 490, "image/png"},
		{"256x256-5000parcels", 256, 256, 3300, 3300, "image/png"},
		{"1024x768-200parcels", 1024, 768, 565, 424, "image/png"},
		{"1024x768-5000parcels", 1024, 768, 3700, 2775, "image/png"},
	} {
		b.Run(c.name, func(b *testing.B) {
			q := fmt.Sprintf("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:3857&BBOX=%f,%f,%f,%f&WIDTH=%d&HEIGHT=%d&FORMAT=%s",
				cx-c.sideX/2, cy-c.sideY/2, cx+c.sideX/2, cy+c.sideY/2, c.w, c.h, c.formatName)
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, q, nil)
				r = r.WithContext(access.WithViewer(r.Context(), access.Anonymous))
				w := httptest.NewRecorder()
				svc.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatal(w.Body.String())
				}
			}
		})
	}
}
