package gdalio

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <cpl_error.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <ogr_api.h>

static void gdalioPushQuiet(void) { CPLPushErrorHandler(CPLQuietErrorHandler); }

static char *gdalioRecode(const char *s, const char *from) {
	return CPLRecode(s, from, CPL_ENC_UTF8);
}

// A date or date-time field as parts; returns 0 when it cannot be read.
static int gdalioFieldDate(OGRFeatureH f, int i, int *y, int *m, int *d) {
	int hh, mm, tz;
	float ss;
	return OGR_F_GetFieldAsDateTimeEx(f, i, y, m, d, &hh, &mm, &ss, &tz);
}

// Linear and 2D, in place: curves (arcs from DXF or GeoPackage) become
// line segments, Z and M are dropped; feature columns hold neither.
static void gdalioPrepareGeometry(OGRFeatureH f) {
	OGRGeometryH g = OGR_F_GetGeometryRef(f);
	if (g == NULL) return;
	if (OGR_G_HasCurveGeometry(g, TRUE)) {
		OGRGeometryH l = OGR_G_GetLinearGeometry(g, 0, NULL);
		if (l != NULL) {
			OGR_F_SetGeometryDirectly(f, l);
			g = l;
		}
	}
	if (OGR_G_Is3D(g) || OGR_G_IsMeasured(g)) OGR_G_FlattenTo2D(g);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/airbusgeo/godal"
)

var registerOnce sync.Once

// register makes GDAL's drivers available; godal registers none by itself.
func register() { registerOnce.Do(godal.RegisterAll) }

// gdalThread pins the calling goroutine to its OS thread and silences GDAL's
// default error printer there. GDAL keeps its last error, error handlers and
// thread-local configuration per OS thread, and godal's NextFeature reports
// no errors at all: reading a damaged file is only noticed by asking
// CPLGetLastErrorType on the same thread right after each call. The
// returned function undoes both and must run on the same goroutine.
func gdalThread() (release func()) {
	runtime.LockOSThread()
	C.gdalioPushQuiet()
	var keys []string
	release = func() {
		for _, k := range keys {
			ck := C.CString(k)
			C.CPLSetThreadLocalConfigOption(ck, nil)
			C.free(unsafe.Pointer(ck))
		}
		C.CPLPopErrorHandler()
		C.CPLErrorReset()
		runtime.UnlockOSThread()
	}
	return release
}

// setThreadConfig sets a GDAL configuration option for the current OS thread
// only (the caller holds gdalThread), so concurrent imports do not see it.
func setThreadConfig(key, value string) {
	ck, cv := C.CString(key), C.CString(value)
	C.CPLSetThreadLocalConfigOption(ck, cv)
	C.free(unsafe.Pointer(ck))
	C.free(unsafe.Pointer(cv))
}

func resetError() { C.CPLErrorReset() }

// lastError returns GDAL's last error on this thread at CE_Warning or above.
func lastError() (msg string, failure, warning bool) {
	switch C.CPLGetLastErrorType() {
	case C.CE_Failure, C.CE_Fatal:
		return C.GoString(C.CPLGetLastErrorMsg()), true, false
	case C.CE_Warning:
		return C.GoString(C.CPLGetLastErrorMsg()), false, true
	}
	return "", false, false
}

// recode converts s from encoding from to UTF-8 with GDAL's CPLRecode (iconv).
func recode(s, from string) string {
	cs, cf := C.CString(s), C.CString(from)
	defer C.free(unsafe.Pointer(cs))
	defer C.free(unsafe.Pointer(cf))
	out := C.gdalioRecode(cs, cf)
	defer C.VSIFree(unsafe.Pointer(out))
	return C.GoString(out)
}

// checkEncoding reports whether GDAL (iconv) can decode from enc.
func checkEncoding(enc string) bool {
	release := gdalThread()
	defer release()
	resetError()
	recode("\xe0", enc)
	_, failure, warning := lastError()
	return !failure && !warning
}

// godal v0.0.18 keeps the C handles of its Layer and Feature unexported, and
// its Feature.Fields cannot tell a null field from 0 or "" (it does not call
// OGR_F_IsFieldNull), nor does it expose the layer's schema. Both types hold
// the handle as their only field, so it is read through unsafe; openSource
// checks the layer handle against godal's own accessor, and the tests read
// nulls through the feature handle.
func layerHandle(l *godal.Layer) C.OGRLayerH {
	return *(*C.OGRLayerH)(unsafe.Pointer(l))
}

// layerHandleName reads the layer's name through the handle, to check the
// handle is what it should be.
func layerHandleName(l *godal.Layer) string {
	return C.GoString(C.OGR_L_GetName(layerHandle(l)))
}

func featureHandle(f *godal.Feature) C.OGRFeatureH {
	return *(*C.OGRFeatureH)(unsafe.Pointer(f))
}

// fieldKind is how a source field is read.
type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindReal
	kindDate
	kindBool
	kindOther // lists, binary, time: read as text
)

// sourceField is one attribute field of the source layer.
type sourceField struct {
	Name  string
	Index int
	Kind  fieldKind
}

// layerFields returns the attribute fields of l from its definition, so a
// layer without features still has a schema.
func layerFields(l *godal.Layer) []sourceField {
	defn := C.OGR_L_GetLayerDefn(layerHandle(l))
	n := int(C.OGR_FD_GetFieldCount(defn))
	out := make([]sourceField, 0, n)
	for i := 0; i < n; i++ {
		fd := C.OGR_FD_GetFieldDefn(defn, C.int(i))
		f := sourceField{Name: C.GoString(C.OGR_Fld_GetNameRef(fd)), Index: i}
		switch C.OGR_Fld_GetType(fd) {
		case C.OFTString:
			f.Kind = kindString
		case C.OFTInteger, C.OFTInteger64:
			f.Kind = kindInt
			if C.OGR_Fld_GetSubType(fd) == C.OFSTBoolean {
				f.Kind = kindBool
			}
		case C.OFTReal:
			f.Kind = kindReal
		case C.OFTDate, C.OFTDateTime:
			f.Kind = kindDate
		default:
			f.Kind = kindOther
		}
		out = append(out, f)
	}
	return out
}

// fastCount returns the layer's feature count when the driver knows it
// without reading the whole file (shapefile, GeoPackage), else -1.
func fastCount(l *godal.Layer) int64 {
	name := C.CString("FastFeatureCount")
	defer C.free(unsafe.Pointer(name))
	h := layerHandle(l)
	if C.OGR_L_TestCapability(h, name) == 0 {
		return -1
	}
	return int64(C.OGR_L_GetFeatureCount(h, 0))
}

// rawValue is a source field value as GDAL holds it.
type rawValue struct {
	Null bool
	Kind fieldKind
	Int  int64
	Real float64
	Str  string
	Date time.Time
}

// readField reads field f of feature h.
func readField(h C.OGRFeatureH, f sourceField) rawValue {
	i := C.int(f.Index)
	if C.OGR_F_IsFieldSetAndNotNull(h, i) == 0 {
		return rawValue{Null: true, Kind: f.Kind}
	}
	v := rawValue{Kind: f.Kind}
	switch f.Kind {
	case kindInt, kindBool:
		v.Int = int64(C.OGR_F_GetFieldAsInteger64(h, i))
	case kindReal:
		v.Real = float64(C.OGR_F_GetFieldAsDouble(h, i))
	case kindDate:
		var y, m, d C.int
		if C.gdalioFieldDate(h, i, &y, &m, &d) == 0 {
			v.Kind = kindString
			v.Str = C.GoString(C.OGR_F_GetFieldAsString(h, i))
			return v
		}
		v.Date = time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	default:
		v.Str = C.GoString(C.OGR_F_GetFieldAsString(h, i))
	}
	return v
}

// prepareGeometry makes the geometry of feature h linear and 2D and reports
// whether h has one at all.
func prepareGeometry(h C.OGRFeatureH) bool {
	if C.OGR_F_GetGeometryRef(h) == nil {
		return false
	}
	C.gdalioPrepareGeometry(h)
	return true
}

// parseEPSG accepts "EPSG:N" (any case) or a bare N and returns N.
func parseEPSG(s string) (int, bool) {
	t := strings.TrimSpace(s)
	if len(t) > 5 && strings.EqualFold(t[:5], "EPSG:") {
		t = t[5:]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// newSRS returns the spatial reference EPSG:code with x = easting (or
// longitude) whatever the EPSG axis order: godal's constructors set
// OAMS_TRADITIONAL_GIS_ORDER, which is how every file format and PostGIS
// store coordinates.
func newSRS(code int) (*godal.SpatialRef, error) {
	return godal.NewSpatialRef(fmt.Sprintf("EPSG:%d", code),
		godal.ErrLogger(func(ec godal.ErrorCategory, _ int, msg string) error {
			if ec >= godal.CE_Failure {
				return fmt.Errorf("%s", msg)
			}
			return nil
		}))
}

// srsName returns a short human name of sr: "EPSG:4326 (WGS 84)" when GDAL
// can identify it, else the name in its WKT.
func srsName(sr *godal.SpatialRef) string {
	name, _ := sr.AttrValue("PROJCS", 0)
	if name == "" {
		name, _ = sr.AttrValue("GEOGCS", 0)
	}
	auth, code := sr.AuthorityName(""), sr.AuthorityCode("")
	if auth != "" && code != "" {
		if name != "" {
			return auth + ":" + code + " (" + name + ")"
		}
		return auth + ":" + code
	}
	if name == "" {
		return "an unnamed system"
	}
	return name
}
