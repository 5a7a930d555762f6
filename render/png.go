package render

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// encodePNG writes img as a PNG: RGB when it is opaque, else RGBA with
// straight (not premultiplied) alpha. It exists because image/png tries
// all five row filters on every row and keeps the best, which made PNG
// encoding cost more than drawing a 1024×768 map; a map compresses well
// with the Sub filter alone (runs of one colour become runs of zeros), at
// a fraction of the work. Deflate is klauspost/compress's at level 1:
// on a 1024×768 map it took 23 ms at level 2 where compress/zlib's
// BestSpeed took 63 ms, for the same size; level 1 took a quarter less
// CPU than level 2 again (16 against 22 ms on a 1024×768 parcel map, 1.1
// against 1.25 ms at 256×256) for files 2–4 % bigger.
func encodePNG(w io.Writer, img *image.RGBA) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	opaque := true
	for y := b.Min.Y; y < b.Max.Y && opaque; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				opaque = false
				break
			}
		}
	}
	bpp, colourType := 4, byte(6)
	if opaque {
		bpp, colourType = 3, 2
	}
	st := pngStatePool.Get().(*pngState)
	defer pngStatePool.Put(st)
	st.idat.Reset()
	st.zw.Reset(&st.idat)
	stride := 1 + width*bpp
	if cap(st.row) < stride {
		st.row = make([]byte, stride)
	}
	row := st.row[:stride]
	for y := b.Min.Y; y < b.Max.Y; y++ {
		src := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		row[0] = 1 // Sub: each byte minus the same byte of the pixel before
		out := row[1:]
		if opaque {
			var pr, pg, pb byte
			for i, j := 0, 0; i < len(src); i, j = i+4, j+3 {
				r, g, b := src[i], src[i+1], src[i+2]
				out[j], out[j+1], out[j+2] = r-pr, g-pg, b-pb
				pr, pg, pb = r, g, b
			}
		} else {
			var pr, pg, pb, pa byte
			for i := 0; i < len(src); i += 4 {
				r, g, b, a := src[i], src[i+1], src[i+2], src[i+3]
				switch a {
				case 0:
					r, g, b = 0, 0, 0
				case 255:
				default:
					// Straight alpha, as PNG stores it.
					a32 := uint32(a)
					r = uint8((uint32(r)*255 + a32/2) / a32)
					g = uint8((uint32(g)*255 + a32/2) / a32)
					b = uint8((uint32(b)*255 + a32/2) / a32)
				}
				out[i], out[i+1], out[i+2], out[i+3] = r-pr, g-pg, b-pb, a-pa
				pr, pg, pb, pa = r, g, b, a
			}
		}
		if _, err := st.zw.Write(row); err != nil {
			return err
		}
	}
	if err := st.zw.Close(); err != nil {
		return err
	}
	var hdr [13]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(width))
	binary.BigEndian.PutUint32(hdr[4:], uint32(height))
	hdr[8], hdr[9] = 8, colourType // 8 bits per sample
	if _, err := w.Write([]byte("\x89PNG\r\n\x1a\n")); err != nil {
		return err
	}
	if err := writeChunk(w, "IHDR", hdr[:]); err != nil {
		return err
	}
	if err := writeChunk(w, "IDAT", st.idat.Bytes()); err != nil {
		return err
	}
	return writeChunk(w, "IEND", nil)
}

type pngState struct {
	idat bytes.Buffer
	zw   *zlib.Writer
	row  []byte
}

var pngStatePool = sync.Pool{New: func() any {
	st := &pngState{}
	st.zw, _ = zlib.NewWriterLevel(&st.idat, 1)
	return st
}}

func writeChunk(w io.Writer, typ string, data []byte) error {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, p := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}
