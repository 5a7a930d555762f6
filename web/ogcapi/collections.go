package ogcapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"munigis/access"
	"munigis/layers"
	"munigis/spatial"
)

// Conformance classes declared at /conformance. Part 4's "update" is PATCH
// with a JSON Merge Patch (RFC 7396) body.
var conformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
}

// crs84URI is the default CRS of every request and response.
var crs84URI = spatial.CRS{SRID: spatial.SRIDWGS84, CRS84: true}.URI()

// storageCRSURI is the CRS the features are stored in.
var storageCRSURI = spatial.CRS{SRID: spatial.StorageSRID}.URI()

// crsList is the crs list of every collection: CRS84 first (Part 2 wants
// the default first), then every other system munigis transforms to.
func crsList() []string {
	out := []string{crs84URI}
	for _, c := range spatial.SupportedCRS() {
		if !c.CRS84 {
			out = append(out, c.URI())
		}
	}
	return out
}

// Titles of the service, Bulgarian first.
const (
	serviceTitleBG = "munigis – пространствени данни на общината"
	serviceTitleEN = "munigis – the municipality's spatial data"
)

func (s *Service) handleLanding(w http.ResponseWriter, r *http.Request) error {
	f, err := negotiate(r)
	if err != nil {
		return err
	}
	if err := noParams(r); err != nil {
		return err
	}
	base := baseURL(r)
	doc := map[string]any{
		"title":       serviceTitleBG,
		"description": serviceTitleEN + ". OGC API – Features (Part 1 Core, Part 2 CRS, Part 4 create/replace/update/delete).",
		"links": []link{
			{Href: base, Rel: "self", Type: mtJSON, Title: "this document"},
			{Href: base + "?f=html", Rel: "alternate", Type: mtHTML, Title: "this document as HTML"},
			{Href: base + "/api", Rel: "service-desc", Type: mtOpenAPI, Title: "the API definition (OpenAPI 3.0)"},
			{Href: base + "/conformance", Rel: "conformance", Type: mtJSON, Title: "conformance classes"},
			{Href: base + "/conformance", Rel: "http://www.opengis.net/def/rel/ogc/1.0/conformance", Type: mtJSON, Title: "conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: mtJSON, Title: "the collections (map layers)"},
			{Href: base + "/collections", Rel: "http://www.opengis.net/def/rel/ogc/1.0/data", Type: mtJSON, Title: "the collections (map layers)"},
		},
	}
	if f == formatHTML {
		return writeHTML(w, "landing", pageData{Title: serviceTitleBG, TitleEN: serviceTitleEN, Base: base,
			JSON: base + "?f=json", Doc: doc})
	}
	writeJSON(w, http.StatusOK, mtJSON, doc)
	return nil
}

func (s *Service) handleConformance(w http.ResponseWriter, r *http.Request) error {
	f, err := negotiate(r)
	if err != nil {
		return err
	}
	if err := noParams(r); err != nil {
		return err
	}
	doc := map[string]any{"conformsTo": conformance}
	if f == formatHTML {
		base := baseURL(r)
		return writeHTML(w, "conformance", pageData{Title: "Съответствие", TitleEN: "Conformance", Base: base,
			JSON: base + "/conformance?f=json", Doc: doc})
	}
	writeJSON(w, http.StatusOK, mtJSON, doc)
	return nil
}

// collectionJSON is a collection of /collections and /collections/{id}.
type collectionJSON struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	TitleEN     string   `json:"title_en"`
	ItemType    string   `json:"itemType"`
	Extent      *extent  `json:"extent,omitempty"`
	CRS         []string `json:"crs"`
	StorageCRS  string   `json:"storageCrs"`
	Links       []link   `json:"links"`
	// For the HTML page only.
	attributes []layers.Attribute
	canEdit    bool
}

type extent struct {
	Spatial struct {
		BBox [][4]float64 `json:"bbox"`
		CRS  string       `json:"crs"`
	} `json:"spatial"`
}

// describe builds the collection document of l for the caller: its extent
// in CRS84 (absent for an empty layer), CRS list and links.
func (s *Service) describe(ctx context.Context, base string, l layers.Layer) (collectionJSON, error) {
	v := access.FromContext(ctx)
	href := base + "/collections/" + url.PathEscape(l.Name)
	c := collectionJSON{
		ID: l.Name, Title: l.TitleBG, TitleEN: l.TitleEN, ItemType: "feature",
		Description: l.AbstractBG, CRS: crsList(), StorageCRS: storageCRSURI,
		// JSON links carry no f parameter: GDAL appends "/{featureId}" or
		// "?limit=" to the items href as it is, and Accept already selects
		// JSON for every client that is not a browser.
		Links: []link{
			{Href: href, Rel: "self", Type: mtJSON, Title: l.TitleBG},
			{Href: href + "?f=html", Rel: "alternate", Type: mtHTML, Title: l.TitleBG},
			{Href: href + "/items", Rel: "items", Type: mtGeoJSON, Title: "features as GeoJSON"},
			{Href: href + "/items?f=html", Rel: "items", Type: mtHTML, Title: "features as HTML"},
			{Href: href + "/schema", Rel: "describedby", Type: mtSchema, Title: "the schema of the features"},
			{Href: href + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: mtSchema, Title: "the properties items can be filtered by"},
		},
		attributes: v.Attributes(l),
		canEdit:    v.CanEdit(l),
	}
	if c.Description == "" {
		c.Description = l.TitleEN
	}
	box, ok, err := s.extent(ctx, l)
	if err != nil {
		return c, err
	}
	if ok {
		c.Extent = &extent{}
		c.Extent.Spatial.BBox = [][4]float64{box}
		c.Extent.Spatial.CRS = crs84URI
	}
	return c, nil
}

// extentTTL is how long a layer's extent is reused. /collections describes
// every layer, and measuring a layer of tens of thousands of features takes
// about 100 ms; an extent is advice to clients (where to zoom), so one that
// is a minute behind the latest edit does no harm.
const extentTTL = time.Minute

type cachedExtent struct {
	box [4]float64
	ok  bool
	at  time.Time
}

// extent returns l's extent in CRS84, from the cache when fresh.
func (s *Service) extent(ctx context.Context, l layers.Layer) ([4]float64, bool, error) {
	s.mu.Lock()
	c, hit := s.extents[l.Name]
	s.mu.Unlock()
	if hit && time.Since(c.at) < extentTTL {
		return c.box, c.ok, nil
	}
	minx, miny, maxx, maxy, ok, err := s.d.Layers.Extent(ctx, l, spatial.SRIDWGS84)
	if err != nil {
		return [4]float64{}, false, err
	}
	c = cachedExtent{box: [4]float64{minx, miny, maxx, maxy}, ok: ok, at: time.Now()}
	s.mu.Lock()
	s.extents[l.Name] = c
	s.mu.Unlock()
	return c.box, c.ok, nil
}

func (s *Service) handleCollections(w http.ResponseWriter, r *http.Request) error {
	f, err := negotiate(r)
	if err != nil {
		return err
	}
	if err := noParams(r); err != nil {
		return err
	}
	ctx := r.Context()
	v := access.FromContext(ctx)
	all, err := s.d.Layers.Layers(ctx)
	if err != nil {
		return err
	}
	base := baseURL(r)
	out := []collectionJSON{}
	for _, l := range all {
		if !v.CanRead(l) || !l.Local() {
			continue
		}
		c, err := s.describe(ctx, base, l)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	doc := map[string]any{
		"links": []link{
			{Href: base + "/collections", Rel: "self", Type: mtJSON, Title: "this document"},
			{Href: base + "/collections?f=html", Rel: "alternate", Type: mtHTML, Title: "this document as HTML"},
		},
		"collections": out,
		"crs":         crsList(),
	}
	if f == formatHTML {
		return writeHTML(w, "collections", pageData{Title: "Колекции", TitleEN: "Collections", Base: base,
			JSON: base + "/collections?f=json", Collections: out})
	}
	writeJSON(w, http.StatusOK, mtJSON, doc)
	return nil
}

func (s *Service) handleCollection(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
	f, err := negotiate(r)
	if err != nil {
		return err
	}
	if err := noParams(r); err != nil {
		return err
	}
	base := baseURL(r)
	c, err := s.describe(r.Context(), base, l)
	if err != nil {
		return err
	}
	if f == formatHTML {
		return writeHTML(w, "collection", pageData{Title: l.TitleBG, TitleEN: l.TitleEN, Base: base,
			JSON: base + "/collections/" + url.PathEscape(l.Name) + "?f=json", Collection: &c})
	}
	writeJSON(w, http.StatusOK, mtJSON, c)
	return nil
}
