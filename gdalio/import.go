package gdalio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"

	"munigis"
	"munigis/internal/postgis"
	"munigis/layers"
)

// ImportOptions says what to import where.
type ImportOptions struct {
	// File is the file to read: a shapefile (.shp, with its .dbf, .shx and
	// optional .prj and .cpg), GeoJSON, GeoPackage, KML, DXF or CSV with a
	// WKT column; anything else GDAL opens is tried too.
	File string
	// Layer is the munigis layer that receives the features.
	Layer string
	// SourceLayer picks a layer of a multi-layer source (GeoPackage, KML,
	// DXF); empty means the first.
	SourceLayer string
	// SRS, "EPSG:N", is the coordinate reference system of the file. It
	// overrides the one the file declares and is required when the file
	// declares none (CSV, DXF, a shapefile without .prj).
	SRS string
	// Encoding of the file's text, e.g. "CP1251". A shapefile's .cpg is
	// honoured without it; a shapefile that declares nothing is read as
	// CP1251, which is what Bulgarian desktop GIS wrote for decades.
	Encoding string
	// Map gives the source field of a layer attribute (attribute → field).
	// Attributes not in Map take the field of the same name, compared
	// case-insensitively, or failing that the 10-character name Export
	// gives it in a shapefile.
	Map map[string]string
	// MakeValid repairs invalid geometries with PostGIS's ST_MakeValid
	// instead of rejecting the file.
	MakeValid bool
	// Progress draws a progress bar on out.
	Progress bool
	// Actor is recorded as the creator of the features; empty means the
	// actor of ctx (munigis.WithActor), else the database role.
	Actor string
}

// ImportResult says what an import did.
type ImportResult struct {
	// Features is the number of features written.
	Features int64
	// Repaired counts the geometries ST_MakeValid repaired (MakeValid).
	Repaired int64
	Elapsed  time.Duration
}

// batchSize is the number of rows handed from the GDAL reader to COPY at a
// time: big enough that channel hand-offs cost nothing, small enough that
// memory stays flat whatever the file's size.
const batchSize = 512

// Import reads opt.File through GDAL and appends its features to the local
// layer opt.Layer, in one transaction: either every feature is written or,
// on any error, none. Geometries are transformed to EPSG:7801 with GDAL
// (x = easting on both sides) and fitted to the layer's geometry type;
// attribute values are converted by the layer's attribute types. The file
// is read once, as a stream fed to COPY, so memory does not grow with its
// size.
//
// Notes for the person importing (fields left empty, an assumed encoding)
// and the progress bar go to out. Errors meant for people are
// *munigis.Error with code Invalid, naming the file and, where there is
// one, the 1-based feature number and the field:
//
//	parcels.shp: feature 1234: field area_m2: "abc" is not a number
func Import(ctx context.Context, store *layers.Store, opt ImportOptions, out io.Writer) (ImportResult, error) {
	start := time.Now()
	var res ImportResult
	if out == nil {
		out = io.Discard
	}
	out = &syncWriter{w: out}
	r, err := newReader(ctx, store, opt, out)
	if err != nil {
		return res, err
	}
	defer r.close()
	pool := store.Pool()

	ctx, cancel := context.WithCancel(ctx)
	if opt.MakeValid {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			cancel()
			return res, fmt.Errorf("gdalio: import: %w", err)
		}
		defer conn.Release()
		if err := ensureGeometryCodec(ctx, conn.Conn()); err != nil {
			cancel()
			return res, fmt.Errorf("gdalio: import: %w", err)
		}
		r.repairConn = conn
	}

	headers := make(chan header, 1)
	batches := make(chan batch, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx, headers, batches)
	}()
	// Stop the reader and wait for it to close the file whatever happens.
	defer func() {
		cancel()
		<-done
	}()

	// The reader sends exactly one header, an error or the columns,
	// before it does anything else.
	h := <-headers
	if h.err != nil {
		return res, h.err
	}
	if opt.Progress {
		r.bar = progressbar.NewOptions64(h.count,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription("import "+r.name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("features"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
		)
		r.barReady <- struct{}{}
	} else {
		close(r.barReady)
	}

	src := &rowSource{ctx: ctx, in: batches}
	txCtx := ctx
	if opt.Actor != "" {
		txCtx = munigis.WithActor(ctx, opt.Actor)
	}
	var copied int64
	err = postgis.Tx(txCtx, pool, func(tx pgx.Tx) error {
		if err := ensureGeometryCodec(ctx, tx.Conn()); err != nil {
			return err
		}
		rebuild, err := deferIndexes(ctx, tx, r.layer, h.count)
		if err != nil {
			return err
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"features", r.layer.Name}, h.columns, src)
		if err != nil {
			return err
		}
		if err := rebuild(ctx); err != nil {
			return err
		}
		copied = n
		return nil
	})
	if err != nil {
		return res, r.importError(src.err, err)
	}
	if r.bar != nil {
		_ = r.bar.Finish()
	}
	res.Features = copied
	res.Repaired = r.repaired
	res.Elapsed = time.Since(start)
	return res, nil
}

// importError picks the error to report when COPY failed: the reader's when
// it has one (a COPY cut short by the reader fails with a message about the
// cancelled COPY, which says nothing), else the database's, translated.
func (r *reader) importError(readErr, copyErr error) error {
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	if me := r.copyError(copyErr); me != nil {
		return me
	}
	if errors.Is(copyErr, context.Canceled) || errors.Is(copyErr, context.DeadlineExceeded) {
		return fmt.Errorf("gdalio: import: %s: stopped: %w", r.name, copyErr)
	}
	return fmt.Errorf("gdalio: import: %s: %w", r.name, copyErr)
}

// ensureGeometryCodec registers pgx-geom on conn when the pool that made it
// did not (postgis.Open does): COPY sends every value in binary and needs a
// codec for the geometry column.
func ensureGeometryCodec(ctx context.Context, conn *pgx.Conn) error {
	if _, ok := conn.TypeMap().TypeForName("geometry"); ok {
		return nil
	}
	return registerGeom(ctx, conn)
}

// header is what the reader learned before the first feature.
type header struct {
	columns []string // COPY columns: geom, then the attributes fed
	count   int64    // features in the file, -1 when unknown
	err     error
}

// batch is a run of rows, or the error that ended reading.
type batch struct {
	rows [][]any
	err  error
}

// rowSource hands the reader's batches to pgx.CopyFrom one row at a time.
type rowSource struct {
	ctx  context.Context
	in   <-chan batch
	rows [][]any
	i    int
	err  error
}

func (s *rowSource) Next() bool {
	s.i++
	for s.i >= len(s.rows) {
		select {
		case b, ok := <-s.in:
			if !ok {
				return false
			}
			if b.err != nil {
				s.err = b.err
				return false
			}
			s.rows, s.i = b.rows, 0
		case <-s.ctx.Done():
			s.err = s.ctx.Err()
			return false
		}
	}
	return true
}

func (s *rowSource) Values() ([]any, error) { return s.rows[s.i], nil }

func (s *rowSource) Err() error { return s.err }

// column is a layer attribute fed from a source field.
type column struct {
	attr  layers.Attribute
	field sourceField
}

// label names the column in messages: the field as the file spells it, and
// the attribute when that differs.
func (c column) label() string {
	if strings.EqualFold(c.field.Name, c.attr.Name) {
		return c.field.Name
	}
	return c.field.Name + " (" + c.attr.Name + ")"
}

// reader reads the source with GDAL on one locked OS thread and turns each
// feature into a COPY row.
type reader struct {
	opt      ImportOptions
	name     string // the file's base name, for messages
	layer    layers.Layer
	out      io.Writer
	override *godal.SpatialRef // from opt.SRS
	dst      *godal.SpatialRef // EPSG:7801
	srsCode  int

	// Set by run.
	columns []column
	trn     *godal.Transform
	srcName string
	decode  func(string) string
	warned  map[string]bool

	bar      *progressbar.ProgressBar
	barReady chan struct{}

	repairConn *pgxpool.Conn
	repaired   int64
	repairCtx  context.Context
}

func newReader(ctx context.Context, store *layers.Store, opt ImportOptions, out io.Writer) (*reader, error) {
	if strings.TrimSpace(opt.File) == "" {
		return nil, munigis.Errorf(munigis.Invalid, "say which file to import")
	}
	if strings.TrimSpace(opt.Layer) == "" {
		return nil, munigis.Errorf(munigis.Invalid, "say which layer to import %s into (--layer)", filepath.Base(opt.File))
	}
	r := &reader{opt: opt, name: filepath.Base(opt.File), out: out, warned: map[string]bool{}, barReady: make(chan struct{}, 1)}
	st, err := os.Stat(opt.File)
	if err != nil {
		return nil, munigis.Wrap(munigis.Invalid, err, "%s: cannot read it: %s", r.name, osReason(err))
	}
	if st.IsDir() {
		return nil, munigis.Errorf(munigis.Invalid, "%s is a folder; give the file itself (for a shapefile, the .shp)", r.name)
	}
	l, err := store.Layer(ctx, opt.Layer)
	if err != nil {
		return nil, err
	}
	if l.Derived() {
		return nil, munigis.Errorf(munigis.Invalid, "layer %s shows records of %s; change them there instead", l.Name, l.DerivedFrom())
	}
	if !l.Editable() {
		return nil, munigis.Errorf(munigis.Invalid, "layer %s shows data from a %s service; only local layers can be imported into", l.Name, strings.ToUpper(l.Source))
	}
	r.layer = l
	for target := range opt.Map {
		if _, ok := l.Type.Attribute(target); !ok {
			return nil, munigis.Errorf(munigis.Invalid, "--map %s=%s: layer %s has no attribute %s; its attributes are %s",
				target, opt.Map[target], l.Name, target, attrNames(l.Type))
		}
	}
	register()
	if opt.Encoding != "" && !checkEncoding(opt.Encoding) {
		return nil, munigis.Errorf(munigis.Invalid, "--encoding %q is not an encoding GDAL knows; Bulgarian files are usually CP1251 (Windows Cyrillic) or UTF-8", opt.Encoding)
	}
	if opt.SRS != "" {
		code, ok := parseEPSG(opt.SRS)
		if !ok {
			return nil, munigis.Errorf(munigis.Invalid, "--srs %q: write it as EPSG:N, e.g. EPSG:7801 (cadastral coordinates) or EPSG:4326 (GPS longitude/latitude)", opt.SRS)
		}
		sr, err := newSRS(code)
		if err != nil {
			return nil, munigis.Wrap(munigis.Invalid, err, "--srs %s: there is no coordinate reference system EPSG:%d; e.g. EPSG:7801 is the cadastral system, EPSG:4326 GPS longitude/latitude", opt.SRS, code)
		}
		r.override, r.srsCode = sr, code
	}
	dst, err := newSRS(storageSRID)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("gdalio: import: EPSG:%d: %w", storageSRID, err)
	}
	r.dst = dst
	return r, nil
}

func (r *reader) close() {
	if r.override != nil {
		r.override.Close()
	}
	if r.dst != nil {
		r.dst.Close()
	}
}

// fail returns an Invalid error about the file.
func (r *reader) fail(format string, args ...any) *munigis.Error {
	return munigis.Errorf(munigis.Invalid, "%s: %s", r.name, fmt.Sprintf(format, args...))
}

// featureError returns an Invalid error about feature n.
func (r *reader) featureError(n int64, format string, args ...any) *munigis.Error {
	return munigis.Errorf(munigis.Invalid, "%s: feature %d: %s", r.name, n, fmt.Sprintf(format, args...))
}

func (r *reader) note(format string, args ...any) {
	fmt.Fprintf(r.out, "%s: %s\n", r.name, fmt.Sprintf(format, args...))
}

// warn passes on a GDAL warning once.
func (r *reader) warn(msg string) {
	if r.warned[msg] || len(r.warned) >= 10 {
		return
	}
	r.warned[msg] = true
	r.note("GDAL warns: %s", msg)
}

// run opens the file, sends the header, then the rows, then closes batches.
// All GDAL work happens here, on one OS thread.
func (r *reader) run(ctx context.Context, headers chan<- header, batches chan<- batch) {
	release := gdalThread()
	defer release()
	r.repairCtx = ctx

	ds, lyr, err := r.open()
	if err != nil {
		headers <- header{err: err}
		return
	}
	defer ds.Close()
	if err := r.setup(lyr); err != nil {
		headers <- header{err: err}
		return
	}
	if r.trn != nil {
		defer r.trn.Close()
	}
	cols := []string{"geom"}
	for _, c := range r.columns {
		cols = append(cols, c.attr.Name)
	}
	count := int64(-1)
	if r.opt.Progress {
		if count = fastCount(&lyr); count < 0 {
			if n, err := lyr.FeatureCount(); err == nil {
				count = int64(n)
			}
		}
		lyr.ResetReading()
	}
	headers <- header{columns: cols, count: count}
	select {
	case <-r.barReady:
	case <-ctx.Done():
		return
	}

	send := func(b batch) bool {
		select {
		case batches <- b:
			if r.bar != nil && len(b.rows) > 0 {
				_ = r.bar.Add(len(b.rows))
			}
			return true
		case <-ctx.Done():
			return false
		}
	}
	rows := make([][]any, 0, batchSize)
	var n int64
	for {
		if ctx.Err() != nil {
			return
		}
		resetError()
		f := lyr.NextFeature()
		if msg, failure, warning := lastError(); failure {
			if f != nil {
				f.Close()
			}
			if send(batch{rows: rows}) {
				send(batch{err: r.featureError(n+1, "cannot be read: %s; the file is damaged or incomplete", msg)})
			}
			return
		} else if warning {
			r.warn(msg)
		}
		if f == nil {
			break
		}
		n++
		row, err := r.row(n, f)
		f.Close()
		if err != nil {
			if send(batch{rows: rows}) {
				send(batch{err: err})
			}
			return
		}
		rows = append(rows, row)
		if len(rows) == batchSize {
			if !send(batch{rows: rows}) {
				return
			}
			rows = make([][]any, 0, batchSize)
		}
	}
	if len(rows) > 0 && !send(batch{rows: rows}) {
		return
	}
	close(batches)
}

// open opens the file with the open options its driver needs and picks the
// source layer.
func (r *reader) open() (*godal.Dataset, godal.Layer, error) {
	ext := strings.ToLower(filepath.Ext(r.opt.File))
	enc := r.opt.Encoding
	var oo []string
	switch ext {
	case ".shp", ".dbf":
		if enc != "" {
			oo = append(oo, "ENCODING="+enc)
		}
	case ".csv", ".tsv", ".txt":
		// A WKT column under a usual name becomes the geometry (and is
		// not also an attribute); x/y columns make points.
		oo = append(oo,
			"GEOM_POSSIBLE_NAMES=WKT,wkt,Wkt,geometry,Geometry,GEOMETRY,geom,the_geom",
			"X_POSSIBLE_NAMES=x,X,lon,Lon,LON,longitude,Longitude",
			"Y_POSSIBLE_NAMES=y,Y,lat,Lat,LAT,latitude,Latitude",
			"KEEP_GEOM_COLUMNS=NO", "EMPTY_STRING_AS_NULL=YES")
		if enc != "" {
			r.decode = func(s string) string { return recode(s, enc) }
		}
	case ".dxf":
		if isPolygonal(r.layer.Type.GeometryType) {
			// Parcel outlines in DXF are closed polylines, not hatches.
			setThreadConfig("DXF_CLOSED_LINE_AS_POLYGON", "TRUE")
		}
		if enc != "" {
			setThreadConfig("DXF_ENCODING", enc)
		}
	default:
		if enc != "" {
			r.note("--encoding applies to shapefiles, CSV and DXF; %s files say their own encoding (UTF-8), so it is ignored", strings.TrimPrefix(ext, "."))
		}
	}
	ds, err := r.openWith(oo)
	if err != nil {
		return nil, godal.Layer{}, err
	}
	lyr, err := r.pickLayer(ds)
	if err != nil {
		ds.Close()
		return nil, godal.Layer{}, err
	}
	if (ext == ".shp" || ext == ".dbf") && enc == "" {
		// A DBF that declares no encoding (no .cpg, and a language
		// driver byte of 0 or 87, "ANSI") comes from Windows desktop
		// GIS; in Bulgaria that means CP1251. GDAL would pass the bytes
		// through or read them as Latin-1, garbling every Cyrillic letter.
		md := lyr.Metadatas(godal.Domain("SHAPEFILE"))
		if md["ENCODING_FROM_CPG"] == "" && (md["SOURCE_ENCODING"] == "" || md["LDID_VALUE"] == "87") {
			ds.Close()
			ds, err = r.openWith([]string{"ENCODING=CP1251"})
			if err != nil {
				return nil, godal.Layer{}, err
			}
			if lyr, err = r.pickLayer(ds); err != nil {
				ds.Close()
				return nil, godal.Layer{}, err
			}
			r.note("the file does not say how its text is encoded (no .cpg); reading it as CP1251 (Windows Cyrillic). If the text comes out wrong, give --encoding")
		}
	}
	if got := layerHandleName(&lyr); got != lyr.Name() {
		ds.Close()
		return nil, godal.Layer{}, fmt.Errorf("gdalio: import: the godal handle layout is not the expected one (layer %q read as %q)", lyr.Name(), got)
	}
	return ds, lyr, nil
}

func (r *reader) openWith(openOptions []string) (*godal.Dataset, error) {
	var failures []string
	opts := []godal.OpenOption{
		godal.VectorOnly(),
		godal.ErrLogger(func(ec godal.ErrorCategory, _ int, msg string) error {
			if ec >= godal.CE_Failure {
				failures = append(failures, msg)
				return errors.New(msg)
			}
			if ec == godal.CE_Warning {
				r.warn(msg)
			}
			return nil
		}),
	}
	if len(openOptions) > 0 {
		opts = append(opts, godal.DriverOpenOption(openOptions...))
	}
	ds, err := godal.Open(r.opt.File, opts...)
	if err != nil {
		why := strings.Join(failures, "; ")
		if why == "" {
			why = err.Error()
		}
		return nil, munigis.Wrap(munigis.Invalid, err,
			"%s: GDAL cannot open it as vector data (%s); the file is damaged, incomplete (a shapefile needs its .shx and .dbf beside the .shp) or of a format GDAL does not read",
			r.name, strings.TrimSpace(why))
	}
	return ds, nil
}

func (r *reader) pickLayer(ds *godal.Dataset) (godal.Layer, error) {
	all := ds.Layers()
	names := make([]string, len(all))
	for i, l := range all {
		names[i] = l.Name()
	}
	if r.opt.SourceLayer != "" {
		if l := ds.LayerByName(r.opt.SourceLayer); l != nil {
			return *l, nil
		}
		return godal.Layer{}, r.fail("has no layer %q; its layers are %s", r.opt.SourceLayer, strings.Join(names, ", "))
	}
	if len(all) == 0 {
		return godal.Layer{}, r.fail("has no vector layers")
	}
	if len(all) > 1 {
		r.note("has %d layers (%s); importing %s; choose another with --source-layer NAME", len(all), strings.Join(names, ", "), names[0])
	}
	return all[0], nil
}

// setup works out the coordinate transformation and which field feeds
// which attribute.
func (r *reader) setup(lyr godal.Layer) error {
	fileSR := lyr.SpatialRef()
	fileWKT, werr := fileSR.WKT()
	var src *godal.SpatialRef
	switch {
	case r.override != nil:
		src = r.override
		if werr == nil && fileWKT != "" {
			if fsr, err := godal.NewSpatialRefFromWKT(fileWKT); err == nil {
				if !fsr.IsSame(src) {
					r.note("the file says its coordinates are in %s; treating them as EPSG:%d as asked", srsName(fsr), r.srsCode)
				}
				fsr.Close()
			}
		}
	case werr != nil || fileWKT == "":
		return r.fail("the file does not say which coordinate reference system it uses (a shapefile's .prj is missing, or the format has none); give it with --srs EPSG:N, e.g. EPSG:7801 for cadastral coordinates or EPSG:4326 for GPS longitude/latitude")
	default:
		// Rebuilt from WKT so that godal sets x = easting/longitude
		// explicitly, as the file stores it.
		sr, err := godal.NewSpatialRefFromWKT(fileWKT)
		if err != nil {
			return munigis.Wrap(munigis.Invalid, err, "%s: its coordinate reference system cannot be understood; give it with --srs EPSG:N", r.name)
		}
		defer sr.Close()
		src = sr
	}
	r.srcName = srsName(src)
	if !src.IsSame(r.dst) {
		trn, err := godal.NewTransform(src, r.dst)
		if err != nil {
			return munigis.Wrap(munigis.Invalid, err, "%s: GDAL cannot transform from %s to EPSG:%d", r.name, r.srcName, storageSRID)
		}
		r.trn = trn
	}
	return r.mapFields(layerFields(&lyr), lyr.Type())
}

// mapFields decides the source field of each attribute and says which
// attributes stay empty and which fields are not imported.
func (r *reader) mapFields(fields []sourceField, gt godal.GeometryType) error {
	// The field of exactly the name wins; else one whose name differs
	// only in case (DBF names are often upper case).
	exact := map[string]sourceField{}
	folded := map[string]sourceField{}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
		exact[f.Name] = f
		if _, dup := folded[strings.ToLower(f.Name)]; !dup {
			folded[strings.ToLower(f.Name)] = f
		}
	}
	find := func(name string) (sourceField, bool) {
		if f, ok := exact[name]; ok {
			return f, true
		}
		f, ok := folded[strings.ToLower(name)]
		return f, ok
	}
	fieldList := strings.Join(names, ", ")
	if fieldList == "" {
		fieldList = "none"
	}
	short := shapefileNames(r.layer.Type)
	used := map[string]bool{}
	var empty []string
	for _, a := range r.layer.Type.Attributes {
		var f sourceField
		var ok bool
		if src, mapped := r.opt.Map[a.Name]; mapped {
			if f, ok = find(src); !ok {
				return r.fail("field %s (given with --map %s=%s) does not exist; the file's fields are %s", src, a.Name, src, fieldList)
			}
		} else if f, ok = find(a.Name); !ok {
			f, ok = find(short[a.Name])
		}
		if !ok {
			if a.Required {
				return r.fail("field %s is missing, and layer %s requires it; the file's fields are %s. If one of them holds it, say so with --map %s=FIELD",
					a.Name, r.layer.Name, fieldList, a.Name)
			}
			empty = append(empty, a.Name)
			continue
		}
		used[f.Name] = true
		r.columns = append(r.columns, column{attr: a, field: f})
	}
	if len(empty) > 0 {
		r.note("no field for %s: left empty", strings.Join(empty, ", "))
	}
	var unused []string
	for _, f := range fields {
		if !used[f.Name] {
			unused = append(unused, f.Name)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		r.note("fields not imported (layer %s has no such attributes): %s", r.layer.Name, strings.Join(unused, ", "))
	}
	if gt == godal.GTNone {
		return r.fail("has no geometry; a CSV file needs a WKT column (or x and y columns)")
	}
	return nil
}

// row turns feature n into a COPY row: geometry, then the attributes.
func (r *reader) row(n int64, f *godal.Feature) ([]any, error) {
	h := featureHandle(f)
	if !prepareGeometry(h) {
		return nil, r.featureError(n, "has no geometry")
	}
	g := f.Geometry()
	if r.trn != nil {
		if err := g.Transform(r.trn); err != nil {
			return nil, r.featureError(n, "its coordinates cannot be transformed from %s to EPSG:%d (%s); the file's coordinate reference system is wrong: give the right one with --srs EPSG:N",
				r.srcName, storageSRID, gdalMessage(err))
		}
	}
	valid := true
	if r.opt.MakeValid {
		valid = g.Valid()
		resetError()
	}
	b, err := g.WKB()
	if err != nil {
		return nil, r.featureError(n, "the geometry cannot be read: %v", err)
	}
	gt, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, r.featureError(n, "the geometry (%s) cannot be read: %v", g.Name(), err)
	}
	if !gt.Empty() && !inBulgaria(gt) {
		return nil, r.featureError(n, "%s", r.outsideMessage(gt))
	}
	if !valid {
		if gt, err = r.repair(gt); err != nil {
			return nil, r.featureError(n, "the geometry is invalid and could not be repaired: %v", err)
		}
		r.repaired++
	}
	fit, err := fitGeometry(gt, r.layer.Type.GeometryType)
	if err != nil {
		return nil, r.featureError(n, "%v", err)
	}
	row := make([]any, 1+len(r.columns))
	row[0] = fit
	for i, c := range r.columns {
		v, err := convert(c.attr, readField(h, c.field), r.decode)
		if err != nil {
			return nil, r.featureError(n, "field %s: %v", c.label(), err)
		}
		row[i+1] = v
	}
	return row, nil
}

// outsideMessage explains coordinates that landed outside Bulgaria.
func (r *reader) outsideMessage(g geom.T) string {
	b := g.Bounds()
	x, y := b.Min(0), b.Min(1)
	var msg string
	if r.trn == nil {
		msg = fmt.Sprintf("its coordinates (x %.3f, y %.3f) in %s lie outside Bulgaria, so the coordinate reference system is wrong",
			x, y, r.srcName)
	} else {
		msg = fmt.Sprintf("after transformation from %s to EPSG:%d its coordinates (x %.3f, y %.3f) lie outside Bulgaria, so the coordinate reference system is wrong",
			r.srcName, storageSRID, x, y)
	}
	switch {
	case x >= minNorthing && x <= maxNorthing && y >= minEasting && y <= maxEasting:
		msg += ": they look like northing and easting swapped"
	case r.trn == nil && x >= -180 && x <= 180 && y >= -90 && y <= 90:
		msg += ": they look like degrees of longitude and latitude (--srs EPSG:4326)"
	}
	if r.override == nil {
		msg += "; if you know the right one, give it with --srs EPSG:N"
	} else {
		msg += fmt.Sprintf("; are you sure about --srs EPSG:%d?", r.srsCode)
	}
	return msg
}

// repair makes g valid with PostGIS's ST_MakeValid, keeping only the parts
// of the layer's dimension (a self-touching polygon may come back with a
// stray line).
func (r *reader) repair(g geom.T) (geom.T, error) {
	g, err := geom.SetSRID(g, storageSRID)
	if err != nil {
		return nil, err
	}
	var out geom.T
	err = r.repairConn.QueryRow(r.repairCtx, `SELECT ST_CollectionExtract(ST_MakeValid($1::geometry), $2)`,
		g, dimension(r.layer.Type.GeometryType)).Scan(&out)
	if err != nil {
		return nil, err
	}
	if out == nil || out.Empty() {
		return nil, errors.New("nothing of the right kind is left")
	}
	return out, nil
}

func dimension(geometryType string) int {
	switch strings.TrimPrefix(geometryType, "Multi") {
	case "Point":
		return 1
	case "LineString":
		return 2
	}
	return 3
}

func isPolygonal(geometryType string) bool {
	return strings.HasSuffix(geometryType, "Polygon")
}

func attrNames(t layers.Type) string {
	names := make([]string, len(t.Attributes))
	for i, a := range t.Attributes {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

func osReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if os.IsNotExist(err) {
			return "there is no such file"
		}
		if os.IsPermission(err) {
			return "permission denied"
		}
		return pe.Err.Error()
	}
	return err.Error()
}
