package web

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"munigis"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		return munigis.Wrap(munigis.Unavailable, err, "the database does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok", "version": s.cfg.Version})
	return nil
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="bg">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>munigis – общинска ГИС</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
code{background:#f3f3f3;padding:0 .2em}</style></head>
<body>
<h1>munigis</h1>
<p>Географска информационна система на общината. <span lang="en">(Municipal GIS.)</span></p>
<p><a href="/login">Вход за служители</a> <span lang="en">(<a href="/login?lang=en">staff sign-in</a>)</span></p>
<h2>Програмен интерфейс <small lang="en">(API)</small></h2>
<ul>
<li><a href="/api/layers"><code>/api/layers</code></a> – каталог на слоевете <span lang="en">(layer catalog)</span></li>
<li><a href="/api/layer-types"><code>/api/layer-types</code></a> – видове слоеве <span lang="en">(layer types)</span></li>
<li><code>/api/layers/{слой}/features?bbox=…&amp;limit=…</code> – обекти като GeoJSON <span lang="en">(features as GeoJSON)</span></li>
<li><code>/api/cadastre/{идентификатор}</code> – кадастрален обект, напр. ЕКАТТЕ.район.имот <span lang="en">(cadastral object)</span></li>
<li><a href="/healthz"><code>/healthz</code></a> – състояние <span lang="en">(health)</span></li>
</ul>
<p><small>Версия {{.}}</small></p>
</body></html>
`))

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return homePage.Execute(w, s.cfg.Version)
}
