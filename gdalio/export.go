package gdalio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/schollz/progressbar/v3"

	"munigis"
	"munigis/layers"
)

// ExportOptions says what to export where.
type ExportOptions struct {
	// Layer is the local munigis layer to export.
	Layer string
	// Format is "GPKG", "GeoJSON", "ESRI Shapefile" or "CSV" (also
	// "gpkg", "geojson", "shp", "shapefile", "csv"); empty means the one
	// File's extension names.
	Format string
	// File is the file to write; a shapefile's must end in .shp.
	File string
	// SRS, "EPSG:N", is the coordinate reference system written. The
	// default is EPSG:7801, the storage CRS, except for GeoJSON, whose
	// default is EPSG:4326 (RFC 7946 allows nothing else).
	SRS string
	// Encoding of a shapefile's text; default UTF-8 (with a .cpg saying so).
	// CP1251 suits older Windows software.
	Encoding string
	// Overwrite replaces an existing file; without it Export refuses.
	Overwrite bool
	// Progress draws a progress bar on out.
	Progress bool
}

// exportFormat is an output format and the files it writes.
type exportFormat struct {
	name   string // GDAL driver
	ext    string // of File
	others []string
}

var exportFormats = []exportFormat{
	{name: "GPKG", ext: ".gpkg"},
	{name: "GeoJSON", ext: ".geojson"},
	{name: "ESRI Shapefile", ext: ".shp", others: []string{".shx", ".dbf", ".prj", ".cpg"}},
	{name: "CSV", ext: ".csv", others: []string{".csvt", ".prj"}},
}

func formatFor(name, file string) (exportFormat, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" {
		key = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	switch key {
	case "gpkg", "geopackage":
		return exportFormats[0], nil
	case "geojson", "json":
		return exportFormats[1], nil
	case "esri shapefile", "shapefile", "shp":
		return exportFormats[2], nil
	case "csv":
		return exportFormats[3], nil
	}
	if name == "" {
		return exportFormat{}, munigis.Errorf(munigis.Invalid, "%s: say which format to write (GPKG, GeoJSON, ESRI Shapefile or CSV), or end the file name in .gpkg, .geojson, .shp or .csv", filepath.Base(file))
	}
	return exportFormat{}, munigis.Errorf(munigis.Invalid, "format %q: munigis exports GPKG, GeoJSON, ESRI Shapefile or CSV", name)
}

// gpkgCommitEvery bounds a GeoPackage write transaction: one transaction
// per feature would sync the disk a million times, one for everything
// keeps a journal as big as the file.
const gpkgCommitEvery = 20000

// Export writes the features of local layer opt.Layer to opt.File through
// GDAL, with one field per layer attribute, typed from the layer type
// (booleans as integers 0/1, which every format holds). Rows are streamed
// from PostGIS in id order; geometries are transformed with GDAL from
// EPSG:7801 to opt.SRS. It returns the number of features written.
//
// The file appears only when everything was written: GDAL writes into a
// temporary folder beside it, whose files are then moved into place.
//
// A shapefile holds field names of at most 10 characters: longer attribute
// names are shortened as shapefileNames says (built_area_m2 → built_area),
// and Import maps those names back without --map.
func Export(ctx context.Context, store *layers.Store, opt ExportOptions, out io.Writer) (int64, error) {
	if out == nil {
		out = io.Discard
	}
	if strings.TrimSpace(opt.File) == "" {
		return 0, munigis.Errorf(munigis.Invalid, "say which file to export to")
	}
	name := filepath.Base(opt.File)
	f, err := formatFor(opt.Format, opt.File)
	if err != nil {
		return 0, err
	}
	if f.ext == ".shp" && !strings.EqualFold(filepath.Ext(opt.File), ".shp") {
		return 0, munigis.Errorf(munigis.Invalid, "%s: a shapefile's name must end in .shp", name)
	}
	l, err := store.Layer(ctx, opt.Layer)
	if err != nil {
		return 0, err
	}
	if !l.Local() {
		return 0, munigis.Errorf(munigis.Invalid, "layer %s shows data from a %s service; only local layers can be exported", l.Name, strings.ToUpper(l.Source))
	}
	code := storageSRID
	if f.name == "GeoJSON" {
		code = 4326
	}
	if opt.SRS != "" {
		var ok bool
		if code, ok = parseEPSG(opt.SRS); !ok {
			return 0, munigis.Errorf(munigis.Invalid, "--srs %q: write it as EPSG:N, e.g. EPSG:7801 (cadastral coordinates) or EPSG:4326 (GPS longitude/latitude)", opt.SRS)
		}
	}
	targets := []string{opt.File}
	stem := strings.TrimSuffix(opt.File, filepath.Ext(opt.File))
	for _, ext := range f.others {
		targets = append(targets, stem+ext)
	}
	if !opt.Overwrite {
		for _, t := range targets {
			if _, err := os.Lstat(t); err == nil {
				return 0, munigis.Errorf(munigis.Conflict, "%s already exists; choose another name or allow overwriting it", filepath.Base(t))
			}
		}
	}
	enc := "UTF-8"
	if opt.Encoding != "" {
		enc = opt.Encoding
	}
	register()
	if f.name == "ESRI Shapefile" && !checkEncoding(enc) {
		return 0, munigis.Errorf(munigis.Invalid, "--encoding %q is not an encoding GDAL knows; use UTF-8 or CP1251", opt.Encoding)
	}

	// GDAL keeps per-thread state (errors, SQLite for GeoPackage): do all
	// of the writing from one OS thread.
	release := gdalThread()
	defer release()

	outSR, err := newSRS(code)
	if err != nil {
		return 0, munigis.Wrap(munigis.Invalid, err, "--srs %s: there is no coordinate reference system EPSG:%d", opt.SRS, code)
	}
	defer outSR.Close()
	srcSR, err := newSRS(storageSRID)
	if err != nil {
		return 0, fmt.Errorf("gdalio: export: %w", err)
	}
	defer srcSR.Close()
	var trn *godal.Transform
	if !srcSR.IsSame(outSR) {
		if trn, err = godal.NewTransform(srcSR, outSR); err != nil {
			return 0, munigis.Wrap(munigis.Invalid, err, "GDAL cannot transform from EPSG:%d to EPSG:%d", storageSRID, code)
		}
		defer trn.Close()
	}

	dir := filepath.Dir(opt.File)
	tmp, err := os.MkdirTemp(dir, ".munigis-export-*")
	if err != nil {
		return 0, munigis.Wrap(munigis.Invalid, err, "%s: cannot write in %s: %s", name, dir, osReason(err))
	}
	defer os.RemoveAll(tmp)

	fieldNames := map[string]string{}
	for _, a := range l.Type.Attributes {
		fieldNames[a.Name] = a.Name
	}
	if f.name == "ESRI Shapefile" {
		fieldNames = shapefileNames(l.Type)
	}
	ds, err := createOutput(filepath.Join(tmp, name), f, l, fieldNames, outSR, enc)
	if err != nil {
		return 0, err
	}
	n, werr := writeFeatures(ctx, store, l, ds, f, fieldNames, trn, opt, out)
	cerr := ds.Close()
	if werr != nil {
		return 0, werr
	}
	if cerr != nil {
		return 0, munigis.Wrap(munigis.Invalid, cerr, "%s: GDAL could not finish the file: %v", name, cerr)
	}

	entries, err := os.ReadDir(tmp)
	if err != nil {
		return 0, fmt.Errorf("gdalio: export: %w", err)
	}
	if opt.Overwrite {
		for _, t := range targets {
			if err := os.Remove(t); err != nil && !errors.Is(err, os.ErrNotExist) {
				return 0, munigis.Wrap(munigis.Invalid, err, "%s: cannot replace it: %s", filepath.Base(t), osReason(err))
			}
		}
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return 0, fmt.Errorf("gdalio: export: %w", err)
		}
	}
	return n, nil
}

// createOutput creates the output file with one empty layer shaped like l.
// godal's CreateLayer takes no layer creation options and no field widths,
// so the layer is built in memory and copied with GDAL's ogr2ogr
// (VectorTranslate), which takes both; ogr2ogr returns the new dataset open
// for writing.
func createOutput(path string, f exportFormat, l layers.Layer, fieldNames map[string]string, sr *godal.SpatialRef, enc string) (*godal.Dataset, error) {
	name := filepath.Base(path)
	mem, err := godal.CreateVector(godal.Memory, "")
	if err != nil {
		return nil, fmt.Errorf("gdalio: export: %w", err)
	}
	defer mem.Close()
	var defs []godal.CreateLayerOption
	for _, a := range l.Type.Attributes {
		defs = append(defs, godal.NewFieldDefinition(fieldNames[a.Name], fieldType(a.Type)))
	}
	if _, err := mem.CreateLayer(l.Name, sr, geometryType(l.Type.GeometryType), defs...); err != nil {
		return nil, fmt.Errorf("gdalio: export: %w", err)
	}
	var lco []string
	switch f.name {
	case "ESRI Shapefile":
		lco = append(lco, "ENCODING="+enc)
		// GDAL's default text width, 80 bytes, is 40 Cyrillic letters in
		// UTF-8: too short for an address. 254 is the DBF maximum.
		for _, a := range l.Type.Attributes {
			if fieldType(a.Type) == godal.FTString {
				rs, err := mem.ExecuteSQL(fmt.Sprintf(`ALTER TABLE "%s" ALTER COLUMN "%s" TYPE varchar(254)`, l.Name, fieldNames[a.Name]))
				if err != nil {
					return nil, fmt.Errorf("gdalio: export: widen %s: %w", a.Name, err)
				}
				if rs != nil {
					_ = rs.Close()
				}
			}
		}
	case "CSV":
		// The geometry as WKT in the first column, and a .csvt with the
		// column types so that the CSV reads back typed.
		lco = append(lco, "GEOMETRY=AS_WKT", "CREATE_CSVT=YES")
	case "GeoJSON":
		lco = append(lco, "RFC7946=NO")
	}
	switches := []string{"-f", f.name, "-nln", l.Name}
	for _, o := range lco {
		switches = append(switches, "-lco", o)
	}
	ds, err := mem.VectorTranslate(path, switches)
	if err != nil {
		return nil, munigis.Wrap(munigis.Invalid, err, "%s: GDAL cannot create it: %v", name, err)
	}
	return ds, nil
}

// writeFeatures streams the layer's rows into the first layer of ds.
func writeFeatures(ctx context.Context, store *layers.Store, l layers.Layer, ds *godal.Dataset, f exportFormat,
	fieldNames map[string]string, trn *godal.Transform, opt ExportOptions, out io.Writer) (int64, error) {
	name := filepath.Base(opt.File)
	outLayers := ds.Layers()
	if len(outLayers) == 0 {
		return 0, fmt.Errorf("gdalio: export: %s: GDAL created no layer", name)
	}
	ol := outLayers[0]
	pool := store.Pool()

	var bar *progressbar.ProgressBar
	if opt.Progress {
		var total int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+l.Table()).Scan(&total); err != nil {
			return 0, fmt.Errorf("gdalio: export: count %s: %w", l.Name, err)
		}
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription("export "+name),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
		)
	}

	cols := "id, ST_AsBinary(geom)"
	for _, a := range l.Type.Attributes {
		cols += `, "` + a.Name + `"`
	}
	rows, err := pool.Query(ctx, `SELECT `+cols+` FROM `+l.Table()+` ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("gdalio: export: %s: %w", l.Name, err)
	}
	defer rows.Close()

	gpkg := f.name == "GPKG"
	if gpkg {
		if err := ds.StartTransaction(); err != nil {
			return 0, fmt.Errorf("gdalio: export: %s: %w", name, err)
		}
	}
	src, err := newSRS(storageSRID)
	if err != nil {
		return 0, fmt.Errorf("gdalio: export: %w", err)
	}
	defer src.Close()

	var fields []godal.Field // by attribute, from the first feature
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return n, fmt.Errorf("gdalio: export: %s: %w", l.Name, err)
		}
		id := vals[0].(int64)
		wkbBytes, _ := vals[1].([]byte)
		g, err := godal.NewGeometryFromWKB(wkbBytes, src)
		if err != nil {
			return n, fmt.Errorf("gdalio: export: feature %d: %w", id, err)
		}
		if trn != nil {
			if err := g.Transform(trn); err != nil {
				g.Close()
				return n, munigis.Wrap(munigis.Invalid, err, "%s: feature %d: cannot transform it to the file's coordinate reference system: %s", name, id, gdalMessage(err))
			}
		}
		feat, err := ol.NewFeature(nil)
		if err != nil {
			g.Close()
			return n, fmt.Errorf("gdalio: export: %w", err)
		}
		err = feat.SetGeometry(g)
		g.Close()
		if err == nil && fields == nil {
			byName := feat.Fields()
			for _, a := range l.Type.Attributes {
				fld, ok := byName[fieldNames[a.Name]]
				if !ok {
					err = fmt.Errorf("field %s was not created", fieldNames[a.Name])
					break
				}
				fields = append(fields, fld)
			}
		}
		for i, a := range l.Type.Attributes {
			if err != nil {
				break
			}
			err = setField(feat, fields[i], a, vals[i+2])
		}
		if err == nil {
			err = ol.CreateFeature(feat)
		}
		feat.Close()
		if err != nil {
			return n, munigis.Wrap(munigis.Invalid, err, "%s: feature %d: GDAL cannot write it: %v", name, id, err)
		}
		n++
		if gpkg && n%gpkgCommitEvery == 0 {
			if err := ds.CommitTransaction(); err != nil {
				return n, fmt.Errorf("gdalio: export: %s: %w", name, err)
			}
			if err := ds.StartTransaction(); err != nil {
				return n, fmt.Errorf("gdalio: export: %s: %w", name, err)
			}
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("gdalio: export: %s: %w", l.Name, err)
	}
	if gpkg {
		if err := ds.CommitTransaction(); err != nil {
			return n, fmt.Errorf("gdalio: export: %s: %w", name, err)
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	return n, nil
}

// setField writes v (as pgx decoded it) into fld; nil leaves it null.
func setField(feat *godal.Feature, fld godal.Field, a layers.Attribute, v any) error {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return feat.SetFieldValue(fld, x)
	case int64:
		return feat.SetFieldValue(fld, x)
	case float64:
		return feat.SetFieldValue(fld, x)
	case time.Time:
		return feat.SetFieldValue(fld, time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC))
	case bool:
		i := 0
		if x {
			i = 1
		}
		return feat.SetFieldValue(fld, i)
	}
	return fmt.Errorf("field %s: cannot write a %T", a.Name, v)
}

func fieldType(t layers.AttrType) godal.FieldType {
	switch t {
	case layers.Integer:
		return godal.FTInt64
	case layers.Number:
		return godal.FTReal
	case layers.Date:
		return godal.FTDate
	case layers.Boolean:
		return godal.FTInt
	}
	return godal.FTString
}

func geometryType(t string) godal.GeometryType {
	switch t {
	case "Point":
		return godal.GTPoint
	case "MultiPoint":
		return godal.GTMultiPoint
	case "LineString":
		return godal.GTLineString
	case "MultiLineString":
		return godal.GTMultiLineString
	case "Polygon":
		return godal.GTPolygon
	}
	return godal.GTMultiPolygon
}
