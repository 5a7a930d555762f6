// Package remote fetches map images of external layers: catalog layers whose
// Source is "wms" are drawn by another server (for example the national
// cadastre agency's INSPIRE WMS), and munigis proxies a GetMap to it with a
// timeout, a response size cap and a short-lived in-memory cache; layers
// whose Source is "wfs" are read from another server's WFS as GeoJSON and
// drawn here, with the same timeout, cap and cache. When the
// remote is down, slow, or answers something that is not the image asked
// for, the caller gets an error tile that says so in the map itself, plus
// an error to log.
package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // remotes may answer GIF or JPEG although PNG was asked for
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

// Config tunes the client. The zero value of each field takes the default
// named beside it.
type Config struct {
	// Timeout bounds one request to a remote, connection included (8 s).
	Timeout time.Duration
	// MaxBytes caps the body of a remote's answer (16 MiB); a bigger
	// answer is refused, not truncated.
	MaxBytes int64
	// MaxPixels caps width × height of a requested or answered image
	// (4096 × 4096), so a small compressed answer cannot decode into a
	// huge one.
	MaxPixels int
	// CacheBytes bounds the image cache, counted as 4 bytes a pixel of
	// the decoded images (64 MiB); negative turns the cache off.
	CacheBytes int64
	// TTL is how long a fetched image is served from the cache (60 s):
	// short, since the remote's data may change and we cannot know when.
	TTL time.Duration
	// FailTTL is how long a failure is remembered for the same request
	// (5 s), so that a map of many tiles over a dead remote does not wait
	// Timeout once per tile and redraw; negative turns it off.
	FailTTL time.Duration
	// Transport makes the requests (a clone of http.DefaultTransport).
	Transport http.RoundTripper
	// UserAgent is sent to remotes ("munigis").
	UserAgent string
	// MaxFeatures is the COUNT of a GetFeature to a remote WFS (5000):
	// a map of more features than that is drawn with the first ones only,
	// so give such a layer a min_zoom (see featureMap).
	MaxFeatures int
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 8 * time.Second
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 16 << 20
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = 4096 * 4096
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = 64 << 20
	}
	if c.TTL <= 0 {
		c.TTL = 60 * time.Second
	}
	if c.FailTTL == 0 {
		c.FailTTL = 5 * time.Second
	}
	if c.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A map view asks a remote for many tiles at once; keep enough
		// idle connections to it that each does not open a new one.
		t.MaxIdleConnsPerHost = 16
		c.Transport = t
	}
	if c.UserAgent == "" {
		c.UserAgent = "munigis"
	}
	if c.MaxFeatures <= 0 {
		c.MaxFeatures = 5000
	}
}

// Client fetches images from remote WMS servers and features from remote
// WFS servers. It is safe for concurrent use; create one per process so
// that its cache is shared.
type Client struct {
	cfg    Config
	http   *http.Client
	cache  *cache
	flight singleflight.Group
	now    func() time.Time
}

// New returns a client with the given configuration.
func New(cfg Config) *Client {
	cfg.defaults()
	return &Client{
		cfg:   cfg,
		http:  &http.Client{Transport: cfg.Transport, Timeout: cfg.Timeout},
		cache: newCache(cfg.CacheBytes),
		now:   time.Now,
	}
}

// Map returns the layer's image for the box (minx, miny, maxx, maxy), given
// in crs with x = easting or longitude whatever the CRS's axis order, at
// width × height pixels, from the layer's remote or from the cache: for
// Source "wms" the image the remote WMS draws (SourceURL,
// LAYERS=SourceLayer); for Source "wfs" the remote WFS's features
// (TYPENAMES=SourceLayer) drawn here with the default style of the layer's
// type (see wfs.go).
//
// It returns (image, nil) on success. When the remote fails (unreachable,
// slower than Config.Timeout, an HTTP error, an XML service exception, an
// answer that is not an image of the requested size, or not GeoJSON, or
// bigger than Config.MaxBytes) it returns BOTH an error tile of the
// requested size (semi-transparent, saying in Bulgarian and English that
// the layer does not answer), which the caller draws in place of the
// layer, AND a non-nil *munigis.Error with code Unavailable, whose cause
// the caller should log: a map with one dead external layer still shows
// everything else. Bad arguments (a layer that is not a remote layer, a
// size out of range, an empty box) return a nil image and a
// munigis.Invalid error.
func (c *Client) Map(ctx context.Context, l layers.Layer, crs spatial.CRS,
	minx, miny, maxx, maxy float64, width, height int) (image.Image, error) {
	if l.Source != "wms" && l.Source != "wfs" {
		return nil, munigis.Errorf(munigis.Invalid, "layer %s is not a remote WMS layer or a remote WFS layer (source %q)", l.Name, l.Source)
	}
	if width <= 0 || height <= 0 || width*height > c.cfg.MaxPixels {
		return nil, munigis.Errorf(munigis.Invalid, "remote layer %s: image size %d×%d out of range (at most %d pixels)",
			l.Name, width, height, c.cfg.MaxPixels)
	}
	if !(minx < maxx && miny < maxy) {
		return nil, munigis.Errorf(munigis.Invalid, "remote layer %s: empty or inverted box %g,%g,%g,%g", l.Name, minx, miny, maxx, maxy)
	}
	if l.Source == "wfs" {
		return c.featureMap(ctx, l, crs, minx, miny, maxx, maxy, width, height)
	}
	u, err := GetMapURL(l.SourceURL, l.SourceLayer, crs, minx, miny, maxx, maxy, width, height)
	if err != nil {
		return nil, err
	}
	return c.cached(ctx, l, u, width, height, func(ctx context.Context) (image.Image, error) {
		return c.fetch(ctx, l, u, width, height)
	})
}

// cached returns the image cached under key, or makes it with fetch and
// caches it (a failure for FailTTL). Concurrent requests for the same key
// share one fetch.
func (c *Client) cached(ctx context.Context, l layers.Layer, key string, width, height int,
	fetch func(context.Context) (image.Image, error)) (image.Image, error) {
	if img, ferr, ok := c.cache.get(key, c.now()); ok {
		if ferr != nil {
			return ErrorTile(l, width, height), ferr
		}
		return img, nil
	}
	// The fetch does not end with the first caller's context, so that one
	// client going away does not fail the others waiting on it; Timeout
	// bounds it.
	ch := c.flight.DoChan(key, func() (any, error) {
		img, err := fetch(context.WithoutCancel(ctx))
		now := c.now()
		switch {
		case err == nil:
			c.cache.put(key, img, nil, int64(width)*int64(height)*4, now.Add(c.cfg.TTL))
		case c.cfg.FailTTL > 0:
			c.cache.put(key, nil, err, 64, now.Add(c.cfg.FailTTL))
		}
		return img, err
	})
	select {
	case <-ctx.Done():
		return ErrorTile(l, width, height), munigis.Wrap(munigis.Unavailable, ctx.Err(),
			"remote layer %s: the request ended before the remote answered", l.Name)
	case res := <-ch:
		if res.Err != nil {
			return ErrorTile(l, width, height), res.Err
		}
		return res.Val.(image.Image), nil
	}
}

// failure is the error of a remote that failed: Unavailable, naming the
// layer and the remote's host, with the cause (for the log) wrapped.
func failure(l layers.Layer, u string, cause error, format string, args ...any) error {
	return munigis.Wrap(munigis.Unavailable, cause, "remote layer %s (%s): "+format,
		append([]any{l.Name, hostOf(u)}, args...)...)
}

// get makes one GET request to a remote and returns the body and media
// type of a successful answer. It refuses, as a failure: no answer within
// Timeout, a body over MaxBytes, an OGC exception report (which WMS and
// WFS servers send as XML with status 200 (MapServer) or 400 (GeoServer,
// munigis), sometimes with a wrong content type), an HTTP error, and an
// answer whose media type wanted rejects (what names what was asked for).
func (c *Client) get(ctx context.Context, l layers.Layer, u, accept string, wanted func(ctype string) bool, what string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", failure(l, u, err, "bad request URL")
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, "", failure(l, u, err, "no answer within %s", c.cfg.Timeout)
		}
		return nil, "", failure(l, u, err, "not reachable")
	}
	defer resp.Body.Close()
	// Read at most one byte past the cap, to tell "exactly the cap" from
	// "more than the cap" without reading a huge body.
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, "", failure(l, u, err, "the answer did not arrive within %s", c.cfg.Timeout)
		}
		return nil, "", failure(l, u, err, "reading the answer")
	}
	if int64(len(body)) > c.cfg.MaxBytes {
		return nil, "", failure(l, u, nil, "the answer is larger than %d bytes", c.cfg.MaxBytes)
	}
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if strings.Contains(ctype, "xml") || (!wanted(ctype) && looksLikeException(body)) {
		if resp.StatusCode != http.StatusOK {
			return nil, "", failure(l, u, errors.New(serviceException(body)), "the remote answered HTTP status %d with a service exception", resp.StatusCode)
		}
		return nil, "", failure(l, u, errors.New(serviceException(body)), "the remote answered a service exception")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", failure(l, u, errors.New(snippet(body)), "HTTP status %d", resp.StatusCode)
	}
	if !wanted(ctype) {
		return nil, "", failure(l, u, errors.New(snippet(body)), "the answer is %q, not %s", ctype, what)
	}
	return body, ctype, nil
}

// fetch makes one GetMap request and decodes the answer.
func (c *Client) fetch(ctx context.Context, l layers.Layer, u string, width, height int) (image.Image, error) {
	body, ctype, err := c.get(ctx, l, u, "image/png, image/*;q=0.8, */*;q=0.1",
		func(ct string) bool { return strings.HasPrefix(ct, "image/") }, "an image")
	if err != nil {
		return nil, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return nil, failure(l, u, err, "the answer (%s) is not a readable image", ctype)
	}
	if cfg.Width != width || cfg.Height != height {
		return nil, failure(l, u, nil, "the remote answered a %d×%d %s image for a %d×%d request",
			cfg.Width, cfg.Height, format, width, height)
	}
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, failure(l, u, err, "the %s image cannot be decoded", format)
	}
	return img, nil
}

// GetMapURL builds the GetMap request for layer name on the WMS at base.
// The box is given with x = easting/longitude. base may carry parameters
// of its own (MapServer's MAP=…, an API key), which are kept; WMS
// parameters in it are replaced, except VERSION: VERSION=1.1.1 (or 1.1.0,
// 1.0.0) in base selects WMS 1.1.1, anything else WMS 1.3.0.
//
// WMS 1.3.0 gives the box in the CRS's authority axis order, so EPSG:4326
// and the Bulgarian EPSG:7801/7799/7800 go northing (latitude) first; 1.1.1
// is always x/y and has no CRS:84, for which it sends EPSG:4326.
func GetMapURL(base, name string, crs spatial.CRS, minx, miny, maxx, maxy float64, width, height int) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", munigis.Errorf(munigis.Invalid, "remote WMS URL %q is not an http(s) URL", base)
	}
	if name == "" {
		return "", munigis.Errorf(munigis.Invalid, "remote WMS %s: the layer has no source_layer (the remote's LAYERS name)", u.Host)
	}
	if crs.SRID == 0 {
		return "", munigis.Errorf(munigis.Invalid, "remote WMS %s: no CRS given", u.Host)
	}
	q := u.Query()
	version := "1.3.0"
	for k, vs := range q {
		if strings.EqualFold(k, "VERSION") && len(vs) > 0 {
			switch strings.TrimSpace(vs[0]) {
			case "1.1.1", "1.1.0", "1.0.0":
				version = "1.1.1"
			}
		}
	}
	for k := range q {
		switch strings.ToUpper(k) {
		case "SERVICE", "REQUEST", "VERSION", "LAYERS", "STYLES", "CRS", "SRS", "BBOX",
			"WIDTH", "HEIGHT", "FORMAT", "TRANSPARENT", "BGCOLOR", "EXCEPTIONS":
			delete(q, k)
		}
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	bbox := []string{f(minx), f(miny), f(maxx), f(maxy)}
	if version == "1.3.0" {
		q.Set("CRS", crs.String())
		if crs.AxisNorthingFirst(true) {
			bbox = []string{f(miny), f(minx), f(maxy), f(maxx)}
		}
	} else {
		srs := crs.String()
		if crs.CRS84 {
			srs = "EPSG:4326" // 1.1.1's EPSG:4326 is lon/lat, as CRS:84
		}
		q.Set("SRS", srs)
	}
	q.Set("SERVICE", "WMS")
	q.Set("REQUEST", "GetMap")
	q.Set("VERSION", version)
	q.Set("LAYERS", name)
	q.Set("STYLES", "")
	q.Set("BBOX", strings.Join(bbox, ","))
	q.Set("WIDTH", strconv.Itoa(width))
	q.Set("HEIGHT", strconv.Itoa(height))
	q.Set("FORMAT", "image/png")
	q.Set("TRANSPARENT", "TRUE")
	// url.Values.Encode sorts the keys, so the same request always gives
	// the same URL: it is the cache key.
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return "?"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// looksLikeException tells an OGC exception report sent with a wrong
// content type (text/plain, none) from other non-images.
func looksLikeException(b []byte) bool {
	if len(b) > 1024 {
		b = b[:1024]
	}
	return bytes.Contains(b, []byte("ExceptionReport"))
}

// snippet returns the start of a body as one printable line, for logs.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		b = b[:max]
	}
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "?"))
	return fmt.Sprintf("%q", strings.TrimSpace(s))
}
