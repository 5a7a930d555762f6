package web

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"munigis"
)

// Export formats of a register search or a report (format=csv|xlsx).
const (
	formatCSV  = "csv"
	formatXLSX = "xlsx"
)

// tableWriter writes a table row by row, so that an export of any size is
// written with flat memory: a CSV goes straight to the response, an XLSX
// through excelize's StreamWriter, which keeps the sheet in a temporary
// file beyond a small in-memory buffer.
type tableWriter interface {
	// Row writes one row; the first is the header.
	Row(values []any) error
	// Close finishes the file (for XLSX: writes the whole workbook to the
	// response). Call it once, after the last row.
	Close() error
}

// exportFormat reads format= and tells whether the request asks for a
// file: "" (JSON), csv or xlsx; anything else is Invalid naming the field.
func exportFormat(r *http.Request) (string, error) {
	switch f := strings.ToLower(r.URL.Query().Get("format")); f {
	case "", "json":
		return "", nil
	case formatCSV, formatXLSX:
		return f, nil
	default:
		return "", &munigis.Error{Code: munigis.Invalid,
			Message:   fmt.Sprintf("format: %q is not one of csv, xlsx (leave it out for JSON)", f),
			MessageBG: fmt.Sprintf("format: %q не е csv или xlsx", f)}
	}
}

// startExport sets the headers of a download named base.csv or base.xlsx
// and returns the writer. Nothing is written to w before the first row
// (CSV) or Close (XLSX), so an error found before then can still be
// answered as JSON.
func startExport(w http.ResponseWriter, format, base, sheet string) (tableWriter, error) {
	name := base + "." + format
	switch format {
	case formatCSV:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	case formatXLSX:
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	default:
		return nil, munigis.Errorf(munigis.Invalid, "format: %q is not one of csv, xlsx", format)
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == formatCSV {
		return newCSVWriter(w), nil
	}
	return newXLSXWriter(w, sheet)
}

// csvWriter writes UTF-8 CSV with a byte order mark, which is what makes
// Excel read Cyrillic correctly (without it Excel assumes the Windows code
// page). It flushes every few hundred rows so the client sees progress and
// the server holds at most one buffer.
type csvWriter struct {
	bw   *bufio.Writer
	cw   *csv.Writer
	rows int
	fl   http.Flusher
}

func newCSVWriter(w io.Writer) *csvWriter {
	bw := bufio.NewWriterSize(w, 32<<10)
	fl, _ := w.(http.Flusher)
	return &csvWriter{bw: bw, cw: csv.NewWriter(bw), fl: fl}
}

func (c *csvWriter) Row(values []any) error {
	if c.rows == 0 {
		if _, err := c.bw.WriteString("\uFEFF"); err != nil {
			return err
		}
	}
	rec := make([]string, len(values))
	for i, v := range values {
		rec[i] = csvCell(v)
	}
	if err := c.cw.Write(rec); err != nil {
		return err
	}
	c.rows++
	if c.rows%500 == 0 {
		c.cw.Flush()
		if err := c.cw.Error(); err != nil {
			return err
		}
		if err := c.bw.Flush(); err != nil {
			return err
		}
		if c.fl != nil {
			c.fl.Flush()
		}
	}
	return nil
}

func (c *csvWriter) Close() error {
	if c.rows == 0 {
		// An empty export is still a file Excel opens as UTF-8.
		if _, err := c.bw.WriteString("\uFEFF"); err != nil {
			return err
		}
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// csvCell formats a value for CSV. A text starting with = + - @ (or a tab
// or carriage return) is prefixed with an apostrophe, as OWASP advises
// against CSV formula injection: a register's text typed by anyone must
// not run as a formula in the spreadsheet of the clerk who opens the
// export. Numbers are written as numbers.
func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			if _, err := strconv.ParseFloat(x, 64); err != nil {
				return "'" + x
			}
		}
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "да"
		}
		return "не"
	default:
		return fmt.Sprint(x)
	}
}

// xlsxWriter streams rows into one sheet with excelize's StreamWriter and
// writes the workbook on Close. Rows beyond excelize's in-memory buffer
// (16 MB) go to a temporary file, and the zip is written straight to the
// client, so memory stays flat however many rows there are.
type xlsxWriter struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	rows int
}

func newXLSXWriter(w io.Writer, sheet string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	sheet = xlsxSheetName(sheet)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		_ = f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	// excelize assembles the zip in a bytes.Buffer and copies it out at
	// the end, which would hold the whole compressed file in memory; its
	// zip writer goes straight to w instead. (The buffer it still passes
	// around stays empty; it only matters for zip64 entries, sheets over
	// 4 GB, which the 1,048,576-row limit of a sheet rules out.)
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	return &xlsxWriter{w: w, f: f, sw: sw}, nil
}

// xlsxSheetName fits a title to Excel's sheet-name rules: at most 31
// characters, none of : \ / ? * [ ].
func xlsxSheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	if strings.TrimSpace(s) == "" {
		s = "munigis"
	}
	return s
}

func (x *xlsxWriter) Row(values []any) error {
	row := make([]any, len(values))
	for i, v := range values {
		switch t := v.(type) {
		case time.Time:
			if t.IsZero() {
				row[i] = nil
			} else {
				// Dates as text (YYYY-MM-DD): a date cell would need a
				// number format and still shift with the reader's time zone.
				row[i] = csvCell(t)
			}
		case bool:
			row[i] = csvCell(t)
		default:
			row[i] = v
		}
	}
	x.rows++
	cell, err := excelize.CoordinatesToCellName(1, x.rows)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, row)
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(x.w)
}
