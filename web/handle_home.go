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

// mapText holds the map page in both languages.
type mapText struct {
	Lang, Title, Layers, SignIn, Other, OtherHref, API, Parcel, Details, NoLayers, Loading string
	// The other cadastral objects, and the register entries on the one
	// clicked (/api/cadastre/{identifier}/related).
	Building, Unit, Registers, NoEntries, RelatedFailed string
	// Track links the citizen's case tracking (/track, Art. 123).
	Track string
}

var mapTexts = map[string]mapText{
	"bg": {Lang: "bg", Title: "munigis – карта на общината", Layers: "Слоеве", SignIn: "Вход", Other: "English", OtherHref: "/?lang=en",
		API: "API", Parcel: "Поземлен имот", Details: "данни", NoLayers: "Няма слоеве за показване.", Loading: "Зареждане…",
		Building: "Сграда", Unit: "Самостоятелен обект", Registers: "Вписвания в регистрите", NoEntries: "Няма вписвания в регистрите.",
		RelatedFailed: "Вписванията не могат да бъдат заредени.", Track: "Проверка на преписка"},
	"en": {Lang: "en", Title: "munigis – the municipality's map", Layers: "Layers", SignIn: "Sign in", Other: "Български", OtherHref: "/",
		API: "API", Parcel: "Land parcel", Details: "details", NoLayers: "No layers to show.", Loading: "Loading…",
		Building: "Building", Unit: "Independent unit", Registers: "Register entries", NoEntries: "No register entries.",
		RelatedFailed: "The register entries could not be loaded.", Track: "Track your case"},
}

// homePage is the map: MapLibre GL JS (embedded, /ui/), the per-viewer
// style /styles/munigis.json, a layer list, the identifier of a clicked
// parcel, building or unit with the register entries on it (as the viewer
// may see them: /api/cadastre/{identifier}/related), and the position and layers kept in the URL's hash
// (#zoom/lat/lon/layers=a,b). The map is exposed as window.munigisMap for
// the browser test.
var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/maplibre-gl.css">
<style>
html,body{margin:0;height:100%;font-family:system-ui,sans-serif}
#map{position:absolute;inset:0}
#panel{position:absolute;top:.6rem;left:.6rem;z-index:2;background:#fffe;border-radius:.4rem;box-shadow:0 1px 4px #0004;
 padding:.5rem .8rem;max-height:calc(100% - 3rem);overflow:auto;font-size:.9rem;max-width:18rem}
#panel h1{font-size:1rem;margin:.1rem 0 .4rem}#panel h2{font-size:.85rem;margin:.6rem 0 .2rem;color:#555}
#panel label{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#nav{font-size:.85rem}#nav a{margin-right:.6rem}
#info{margin-top:.5rem;padding-top:.4rem;border-top:1px solid #ddd}#info:empty{display:none}
.ident{font-family:ui-monospace,monospace;font-weight:bold}
#related h2{margin-top:.5rem}#related h3{font-size:.85rem;margin:.4rem 0 .1rem}#related ul{margin:0;padding-left:1.1rem}
#related .below{font-family:ui-monospace,monospace;color:#555}
</style></head>
<body>
<div id="map" role="application" aria-label="{{.T.Title}}"></div>
<div id="panel">
<h1>munigis</h1>
<div id="nav"><a id="signin" href="/login{{if eq .T.Lang "en"}}?lang=en{{end}}">{{with .User}}{{.}}{{else}}{{.T.SignIn}}{{end}}</a><a href="{{.T.OtherHref}}" id="other-lang">{{.T.Other}}</a><a href="/track{{if eq .T.Lang "en"}}?lang=en{{end}}" id="track">{{.T.Track}}</a><a href="/api/layers" title="JSON API">{{.T.API}}</a></div>
<h2>{{.T.Layers}}</h2>
<div id="layers">{{.T.Loading}}</div>
<div id="info" aria-live="polite"></div>
</div>
<script src="/ui/maplibre-gl.js"></script>
<script>
(function () {
  const T = {{.T}};
  const en = T.Lang === 'en';
  const layersBox = document.getElementById('layers');
  const info = document.getElementById('info');

  // #zoom/lat/lon/layers=a,b
  function readHash() {
    const parts = location.hash.replace(/^#/, '').split('/');
    const out = {};
    if (parts.length >= 3 && parts.slice(0, 3).every(p => p !== '' && !isNaN(+p))) {
      out.zoom = +parts[0]; out.center = [+parts[2], +parts[1]];
    }
    for (const p of parts.slice(3)) {
      if (p.startsWith('layers=')) out.layers = p.slice(7).split(',').filter(Boolean);
    }
    return out;
  }

  Promise.all([
    fetch('/styles/munigis.json', {credentials: 'same-origin'}).then(r => r.json()),
    fetch('/api/layers', {credentials: 'same-origin'}).then(r => r.json()),
  ]).then(([style, catalog]) => start(style, catalog.layers || [])).catch(err => {
    layersBox.textContent = String(err);
  });

  function start(style, catalog) {
    const groups = []; // munigis layers in the style, top first, with their style layers
    const byName = {};
    for (const sl of style.layers) {
      const m = sl.metadata && sl.metadata['munigis:layer'];
      if (!m) continue;
      if (!byName[m]) {
        byName[m] = {name: m, title: en ? sl.metadata['munigis:title_en'] : sl.metadata['munigis:title_bg'], ids: [],
          visible: !(sl.layout && sl.layout.visibility === 'none')};
        groups.unshift(byName[m]);
      }
      byName[m].ids.push(sl.id);
    }
    const h = readHash();
    if (h.layers) {
      for (const g of groups) {
        g.visible = h.layers.includes(g.name);
        for (const sl of style.layers) if (g.ids.includes(sl.id)) {
          sl.layout = Object.assign({}, sl.layout, {visibility: g.visible ? 'visible' : 'none'});
        }
      }
    }
    const opts = {container: 'map', style, attributionControl: {compact: true}};
    if (h.center) { opts.center = h.center; opts.zoom = h.zoom; }
    const map = new maplibregl.Map(opts);
    window.munigisMap = map;
    map.addControl(new maplibregl.NavigationControl(), 'top-right');
    map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
    if (!h.center) {
      let bounds = null;
      const pick = catalog.find(l => l.name === 'cadastre_parcels' && l.extent) || catalog.find(l => l.extent);
      if (pick) bounds = pick.extent;
      if (bounds) map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], {padding: 20, duration: 0});
      else map.jumpTo({center: [25.3, 42.7], zoom: 6});
    }

    function writeHash() {
      const c = map.getCenter();
      const on = groups.filter(g => g.visible).map(g => g.name).join(',');
      const hash = '#' + map.getZoom().toFixed(2) + '/' + c.lat.toFixed(6) + '/' + c.lng.toFixed(6) + '/layers=' + on;
      history.replaceState(null, '', location.pathname + location.search + hash);
    }
    map.on('moveend', writeHash);

    layersBox.textContent = '';
    if (groups.length === 0) layersBox.textContent = T.NoLayers;
    for (const g of groups) {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox'; box.checked = g.visible; box.dataset.layer = g.name;
      box.addEventListener('change', () => {
        g.visible = box.checked;
        for (const id of g.ids) map.setLayoutProperty(id, 'visibility', g.visible ? 'visible' : 'none');
        writeHash();
      });
      label.append(box, ' ' + g.title);
      layersBox.append(label);
    }

    // The cadastral object layers (parcels, buildings, units): those whose
    // "identifier" is a cadastral identifier; not the register layers drawn
    // from them. A click shows the topmost object under it; labels do not
    // count (a neighbour's label may overhang the parcel clicked).
    const cadastral = new Set(catalog.filter(l => l.source !== 'register' &&
      (l.attributes || []).some(a => a.name === 'identifier' && a.type === 'cadastral_id')).map(l => l.name));
    const objectLayers = () => groups.filter(g => g.visible && cadastral.has(g.name))
      .flatMap(g => g.ids).filter(id => map.getLayer(id) && map.getLayer(id).type !== 'symbol');
    let clicks = 0; // only the last click's answer is shown
    map.on('click', e => {
      const ids = objectLayers();
      if (ids.length === 0) return;
      const f = map.queryRenderedFeatures(e.point, {layers: ids}).find(f => f.properties && f.properties.identifier);
      info.textContent = '';
      if (!f) return;
      const id = String(f.properties.identifier);
      // 3 fields: a parcel, 4: a building, 5: a unit (Cadastre Act).
      const kind = {3: T.Parcel, 4: T.Building, 5: T.Unit}[id.split('.').length] || T.Parcel;
      const title = document.createElement('div'); title.textContent = kind;
      const ident = document.createElement('div'); ident.className = 'ident'; ident.id = 'object-identifier'; ident.textContent = id;
      const link = document.createElement('a'); link.href = '/api/cadastre/' + encodeURIComponent(id); link.textContent = T.Details;
      const related = document.createElement('div'); related.id = 'related'; related.textContent = T.Loading;
      info.append(title, ident, link, related);
      const pop = document.createElement('div');
      const b = document.createElement('b'); b.textContent = id;
      const a = document.createElement('a'); a.href = link.href; a.textContent = ' ' + T.Details;
      pop.append(b, a);
      new maplibregl.Popup({closeButton: true}).setLngLat(e.lngLat).setDOMContent(pop).addTo(map);
      const click = ++clicks;
      fetch('/api/cadastre/' + encodeURIComponent(id) + '/related', {credentials: 'same-origin'})
        .then(r => r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status)))
        .then(body => { if (click === clicks) showRelated(related, id, body.registers || []); })
        .catch(() => { if (click === clicks) { related.textContent = T.RelatedFailed; related.dataset.state = 'failed'; } });
    });
    map.on('mousemove', e => {
      const ids = objectLayers();
      map.getCanvas().style.cursor = ids.length && map.queryRenderedFeatures(e.point, {layers: ids}).length ? 'pointer' : '';
    });
  }

  // showRelated lists the entries on object id grouped by register, each
  // number linking to the entry; an entry on an object inside it (a
  // building's unit) names that object. Text only: entries are user input.
  function showRelated(box, id, regs) {
    box.textContent = '';
    box.dataset.state = 'done';
    if (regs.length === 0) { box.textContent = T.NoEntries; return; }
    const h = document.createElement('h2'); h.textContent = T.Registers;
    box.append(h);
    for (const g of regs) {
      const sec = document.createElement('section'); sec.dataset.register = g.register;
      const t = document.createElement('h3'); t.textContent = (en && g.title_en) || g.title_bg;
      const ul = document.createElement('ul');
      for (const e of g.entries || []) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        // Case files (staff only) are not a register: their own API.
        const cases = g.register === 'case_files';
        a.href = cases ? '/api/case-files/' + encodeURIComponent(e.id)
          : '/api/registers/' + encodeURIComponent(g.register) + '/entries/' + encodeURIComponent(e.id);
        a.textContent = e.number;
        li.append(a);
        const more = (cases ? [e.name, e.opened_on, e.status] : [e.date, e.status]).filter(Boolean).join(', ');
        if (more) li.append(' ' + more);
        const below = (e.identifiers || (e.identifier ? [e.identifier] : [])).filter(x => x.startsWith(id + '.'));
        if (below.length) {
          const s = document.createElement('span'); s.className = 'below'; s.textContent = ' ' + below.join(', ');
          li.append(s);
        }
        ul.append(li);
      }
      sec.append(t, ul);
      box.append(sec);
    }
  }
})();
</script>
</body></html>
`))

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	t, ok := mapTexts[r.URL.Query().Get("lang")]
	if !ok {
		t = mapTexts["bg"]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	user := ""
	if a := authFrom(r); a.via != "" {
		user = a.user.Username
	}
	return homePage.Execute(w, struct {
		T       mapText
		User    string
		Version string
	}{t, user, s.cfg.Version})
}
