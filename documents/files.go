package documents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode"

	"github.com/gabriel-vasile/mimetype"
	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

// file is an upload read, checked and hashed in memory, before any
// database work: a refused file leaves nothing behind (Art. 69(3) p. 4).
type file struct {
	sum       [32]byte
	size      int64
	mediaType string // as sniffed, with parameters ("text/plain; charset=utf-8")
	name      string
	content   []byte
}

func (f file) info() FileInfo {
	return FileInfo{SHA256: hex.EncodeToString(f.sum[:]), Size: f.size, MediaType: f.mediaType, FileName: f.name}
}

// readUpload reads at most MaxFileBytes+1 bytes of u, refuses a file over
// the limit (TooLarge, Art. 69(3) p. 4(б)) or of a type not accepted
// (Invalid, Art. 69(3) p. 4(в)), and hashes it. The type comes from the
// bytes only: a client's Content-Type or file extension proves nothing.
func (s *Store) readUpload(u *Upload) (file, error) {
	if u == nil || u.Content == nil {
		return file{}, invalid("file: the content is required", "файл: съдържанието е задължително")
	}
	name, err := cleanFileName(u.FileName)
	if err != nil {
		return file{}, err
	}
	b, err := io.ReadAll(io.LimitReader(u.Content, s.cfg.MaxFileBytes+1))
	if err != nil {
		return file{}, munigis.Wrap(munigis.Invalid, err, "file: the content could not be read")
	}
	if int64(len(b)) > s.cfg.MaxFileBytes {
		return file{}, &munigis.Error{Code: munigis.TooLarge,
			Message:   fmt.Sprintf("file: %s is larger than the limit of %s", name, humanBytes(s.cfg.MaxFileBytes)),
			MessageBG: fmt.Sprintf("файл: %s е по-голям от допустимите %s", name, humanBytesBG(s.cfg.MaxFileBytes))}
	}
	if len(b) == 0 {
		return file{}, invalid(fmt.Sprintf("file: %s is empty", name), fmt.Sprintf("файл: %s е празен", name))
	}
	mt := mimetype.Detect(b)
	if !s.allowed(mt) {
		accepted := strings.Join(s.cfg.AllowedTypes, ", ")
		return file{}, invalid(
			fmt.Sprintf("file: %s is of type %s, which is not accepted; accepted types: %s", name, essence(mt.String()), accepted),
			fmt.Sprintf("файл: %s е от вид %s, който не се приема; приемат се: %s", name, essence(mt.String()), accepted))
	}
	return file{sum: sha256.Sum256(b), size: int64(len(b)), mediaType: strings.ToLower(mt.String()), name: name, content: b}, nil
}

// allowed reports whether the detected type is one of AllowedTypes. The
// detected type itself (or one of its aliases) must be listed: mimetype's
// parents are not followed, or "text/plain" would let HTML in and
// "application/zip" every Office file.
func (s *Store) allowed(mt *mimetype.MIME) bool {
	for _, a := range s.cfg.AllowedTypes {
		if mt.Is(a) {
			return true
		}
	}
	return false
}

// essence is a media type without its parameters.
func essence(mediaType string) string {
	if t, _, err := mime.ParseMediaType(mediaType); err == nil {
		return t
	}
	return mediaType
}

// cleanFileName keeps the last element of a client's file name, without
// control characters; "" becomes "file".
func cleanFileName(name string) (string, error) {
	name = strings.ReplaceAll(name, "\\", "/")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(path.Base(strings.TrimSpace(name)))
	if name == "." || name == ".." || name == "/" || name == "" {
		name = "file"
	}
	if len([]rune(name)) > 255 {
		return "", invalid("file: the file name is longer than 255 characters", "файл: името на файла е по-дълго от 255 знака")
	}
	return name, nil
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func humanBytesBG(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d байта", n)
}

// putFile stores f once: the same bytes already stored are left as they
// are (content-addressed; the first upload's media type and time stay).
func putFile(ctx context.Context, tx pgx.Tx, f file) error {
	_, err := tx.Exec(ctx, `INSERT INTO files (sha256, size, media_type, content) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sha256) DO NOTHING`, f.sum[:], f.size, f.mediaType, f.content)
	return postgis.Translate(err, "documents: store file")
}
