#!/usr/bin/env bash
# OGC benchmark (issue 5): munigis's WMS and WFS against MapServer 8
# (Debian's cgi-mapserver, run as FastCGI under lighttpd) on the same
# throwaway PostGIS cluster and the same demo parcels, each driven by wrk
# on loopback, RUNS runs each, alternating. Rows:
#
#   WMS GetMap PNG 256×256 and 1024×768, each with ~200 and ~5,000 parcels
#     in view (fixed, deterministic lists of boxes spread over the town)
#   WFS 2.0 GetFeature GeoJSON (EPSG:4326), COUNT=1000 and COUNT=10000, on
#     one list of boxes holding at least 10,000 parcels each
#
# Each measured run starts once the machine is quiet (bench_settle): after
# wrk stops, lighttpd still hands mapserv every request already queued, and
# a 10,000-feature WFS backlog ran on into the next row's measurement.
#
# Prints requests/s, p50/p99 latency, non-2xx and socket errors side by side
# with the ratio munigis/MapServer (medians), and munigis's peak RSS during
# the WFS 10,000 row against the 1,000 row (streaming keeps it flat).
#
#   scripts/bench-ogc.sh                                   1,000,000 parcels, 3 runs
#   BENCH_OGC_PARCELS=100000 BENCH_RUNS=1 scripts/bench-ogc.sh    quick, < 10 min
#
# Knobs: BENCH_OGC_PARCELS (1000000), BENCH_RUNS (3), BENCH_OGC_SECONDS (15,
# per wrk run), BENCH_OGC_BOXES (100 boxes per list), BENCH_OGC_CONNS (32
# wrk connections), BENCH_OGC_DB_CONNS (16: munigis's pool), BENCH_OGC_MS_PROCS
# (4 mapserv processes, one database connection each: on 2 cores, 4 gave
# MapServer 204 req/s on the small 256-px row against 196 with 2 and 174
# with 16), BENCH_OGC_PGPORT (55594), BENCH_OGC_PORT (55595; MapServer
# listens on the next port), MUNIGIS_BIN (bin/munigis).
#
# MapServer set-up, chosen for speed: mapserv is itself a FastCGI program
# (Debian builds it with FastCGI support), so lighttpd's mod_fastcgi spawns
# BENCH_OGC_MS_PROCS long-lived mapserv processes that keep their mapfile
# and their PostGIS connection (PROCESSING CLOSE_CONNECTION=DEFER) between
# requests. The plain CGI route (fork per request, or fcgiwrap) reconnects
# and re-reads the mapfile each time and would be an unfair straw man.
# MapServer reads the stored geom_3857 column directly (no reprojection
# for EPSG:3857 maps), its best case; munigis decides its own SQL.
# Style: one plain class, fill #f2efe9 and a grey 0.5 px outline, with the
# parcels' identifiers as labels below 1:2,500 as munigis draws them;
# munigis uses its default parcels style (fills by land use, outline,
# labels below 1:2,500): the same kind of work per feature.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_OGC_PARCELS:-1000000}
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_OGC_SECONDS:-15}
BOXES=${BENCH_OGC_BOXES:-100}
CONNS=${BENCH_OGC_CONNS:-32}
DBCONNS=${BENCH_OGC_DB_CONNS:-16}
MSPROCS=${BENCH_OGC_MS_PROCS:-4}
BIN=${MUNIGIS_BIN:-bin/munigis}
PORT=${BENCH_OGC_PGPORT:-55594}
HTTP_MUNIGIS=${BENCH_OGC_PORT:-55595}
HTTP_MS=$((HTTP_MUNIGIS + 1))
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MAPSERV=/usr/lib/cgi-bin/mapserv
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

# MapServer 8 and lighttpd from Debian, installed only when missing, and
# only as root (as scripts/deps.sh does); otherwise the line to run.
missing=()
for p in cgi-mapserver lighttpd wrk curl fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench-ogc: needs the Debian packages ${missing[*]}; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for tool in wrk curl lighttpd python3 "$MAPSERV"; do
  command -v "$tool" >/dev/null || { echo "bench-ogc: $tool is missing" >&2; exit 1; }
done
if ! [ -x "$BIN" ] || [[ "$("$BIN" help 2>&1)" != *" serve "* ]]; then
  echo "bench-ogc: $BIN is missing; run make build (or set MUNIGIS_BIN)" >&2
  exit 1
fi
echo "    $("$MAPSERV" -v | cut -d' ' -f1-3), $(lighttpd -v 2>&1 | head -n1 | cut -d' ' -f1)"

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_start ogc "$PORT"
bench_demo "$N"
echo "    cadastre_parcels: $(psql -tAc "SELECT count(*) FROM features.cadastre_parcels") parcels"

# Box lists, EPSG:3857, x/y. Centres: the parcels in a fixed pseudo-random
# order (md5 of the id), so boxes follow where parcels are. Each box is
# sized from the distance to the target-th nearest parcel box (a KNN walk
# of the GiST index with <#>, which needs no exact-distance recheck),
# given the image's aspect ratio, then kept if it holds
# between half and twice the target (at least the target for WFS).
# OFFSET 0 keeps each subquery from being inlined, which would repeat the
# KNN walk and the count once per reference; the outer LIMIT still stops
# the work as soon as enough boxes are found.
boxes() { # name target aspect(w/h) min max
  local name=$1 target=$2 aspect=$3 lo=$4 hi=$5
  psql -tA -F, -o "$work/boxes-$name.txt" -c "
    WITH c AS (
      SELECT ST_PointOnSurface(geom_3857) AS p FROM features.cadastre_parcels
      ORDER BY md5(id::text) LIMIT $((BOXES * 2))),
    r AS (
      SELECT p, (SELECT p <#> q.geom_3857 FROM features.cadastre_parcels q
                 ORDER BY p <#> q.geom_3857 OFFSET $target - 1 LIMIT 1) AS d FROM c OFFSET 0),
    b AS (
      SELECT ST_MakeEnvelope(ST_X(p) - w / 2, ST_Y(p) - h / 2, ST_X(p) + w / 2, ST_Y(p) + h / 2, 3857) AS e
      FROM r, LATERAL (SELECT sqrt(pi() * d * d * $aspect) AS w, sqrt(pi() * d * d / $aspect) AS h) s
      WHERE d > 0),
    n AS (
      SELECT e, (SELECT count(*) FROM features.cadastre_parcels WHERE geom_3857 && e) AS k FROM b OFFSET 0)
    SELECT round(ST_XMin(e)::numeric, 2), round(ST_YMin(e)::numeric, 2),
           round(ST_XMax(e)::numeric, 2), round(ST_YMax(e)::numeric, 2), k
    FROM n WHERE k BETWEEN $lo AND $hi LIMIT $BOXES"
  local got
  got=$(wc -l <"$work/boxes-$name.txt")
  if [ "$got" -lt 1 ]; then
    echo "bench-ogc: no box with $lo–$hi parcels for $name; more parcels (BENCH_OGC_PARCELS)?" >&2
    exit 1
  fi
  mapfile -t ks < <(cut -d, -f5 "$work/boxes-$name.txt")
  printf '    %-10s %3d boxes, parcels in view: median %s (min %s, max %s)\n' "$name" "$got" \
    "$(printf '%s\n' "${ks[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')" \
    "$(printf '%s\n' "${ks[@]}" | sort -n | head -n1)" "$(printf '%s\n' "${ks[@]}" | sort -n | tail -n1)"
}
echo "==> box lists (up to $BOXES each)"
boxes wms256-200 200 1 100 400
boxes wms256-5k 5000 1 2500 10000
boxes wms1024-200 200 1.3333333 100 400
boxes wms1024-5k 5000 1.3333333 2500 10000
boxes wfs 15000 1 10000 40000

# The request lists: the same query strings for both servers, apart from
# WFS's type name and output format, which each names its own way.
wms_list() { # name width height
  cut -d, -f1-4 "$work/boxes-$1.txt" | while read -r b; do
    echo "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:3857&BBOX=$b&WIDTH=$2&HEIGHT=$3&FORMAT=image/png&TRANSPARENT=TRUE"
  done
}
wfs_list() { # count typename outputformat
  cut -d, -f1-4 "$work/boxes-wfs.txt" | while read -r b; do
    echo "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=$2&COUNT=$1&BBOX=$b,urn:ogc:def:crs:EPSG::3857&SRSNAME=EPSG:4326&OUTPUTFORMAT=$3"
  done
}
rows=(wms256-200 wms256-5k wms1024-200 wms1024-5k wfs1000 wfs10000)
declare -A title=(
  [wms256-200]="WMS 256×256, ~200 parcels" [wms256-5k]="WMS 256×256, ~5,000 parcels"
  [wms1024-200]="WMS 1024×768, ~200 parcels" [wms1024-5k]="WMS 1024×768, ~5,000 parcels"
  [wfs1000]="WFS GeoJSON, COUNT=1000" [wfs10000]="WFS GeoJSON, COUNT=10000"
)
for s in munigis mapserver; do
  wms_list wms256-200 256 256 >"$work/$s-wms256-200.txt"
  wms_list wms256-5k 256 256 >"$work/$s-wms256-5k.txt"
  wms_list wms1024-200 1024 768 >"$work/$s-wms1024-200.txt"
  wms_list wms1024-5k 1024 768 >"$work/$s-wms1024-5k.txt"
done
for c in 1000 10000; do
  wfs_list "$c" munigis:cadastre_parcels application/json >"$work/munigis-wfs$c.txt"
  wfs_list "$c" cadastre_parcels geojson >"$work/mapserver-wfs$c.txt"
done

echo "==> MapServer mapfile and lighttpd (mod_fastcgi, $MSPROCS mapserv processes) on 127.0.0.1:$HTTP_MS"
echo "dejavu $FONT" >"$work/fonts.txt"
read -r ext < <(psql -tA -F' ' -c "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
  FROM (SELECT ST_Extent(geom_3857) AS e FROM features.cadastre_parcels) x")
cat >"$work/bench.map" <<EOF
MAP
  NAME "bench"
  EXTENT $ext
  SIZE 256 256
  MAXSIZE 4096
  UNITS METERS
  # 0.28 mm pixels as OGC (and munigis) count scale: 25.4 / 0.28 = 90.7 dpi
  RESOLUTION 90.714
  DEFRESOLUTION 90.714
  FONTSET "$work/fonts.txt"
  IMAGETYPE "png"
  PROJECTION "init=epsg:3857" END
  OUTPUTFORMAT
    NAME "png"
    DRIVER "AGG/PNG"
    MIMETYPE "image/png"
    IMAGEMODE RGBA
    EXTENSION "png"
    TRANSPARENT ON
  END
  OUTPUTFORMAT
    NAME "geojson"
    DRIVER "OGR/GEOJSON"
    MIMETYPE "application/json"
    FORMATOPTION "STORAGE=stream"
    FORMATOPTION "FORM=SIMPLE"
  END
  WEB
    METADATA
      "ows_enable_request" "*"
      "ows_title" "bench"
      "ows_onlineresource" "http://127.0.0.1:$HTTP_MS/mapserv?"
      "ows_srs" "EPSG:3857 EPSG:4326 EPSG:7801"
      "wfs_getfeature_formatlist" "geojson"
    END
  END
  LAYER
    NAME "cadastre_parcels"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "host=$sock port=$PORT dbname=bench user=postgres"
    DATA "geom_3857 from features.cadastre_parcels using unique id using srid=3857"
    PROCESSING "CLOSE_CONNECTION=DEFER"
    PROJECTION "init=epsg:3857" END
    LABELITEM "identifier"
    METADATA
      "ows_title" "parcels"
      "gml_include_items" "identifier,area_m2,land_use,ownership,address"
      "gml_featureid" "id"
      "gml_types" "auto"
    END
    CLASS
      STYLE COLOR 242 239 233 OUTLINECOLOR 128 128 128 WIDTH 0.5 END
      LABEL
        MAXSCALEDENOM 2500
        TYPE TRUETYPE FONT "dejavu" SIZE 8 COLOR 122 62 0 OUTLINECOLOR 255 255 255
        PARTIALS FALSE
      END
    END
  END
END
EOF
# MapServer 8 takes its environment from a config file; MS_MAPFILE there
# spares the requests a MAP= parameter, so both servers get the same URLs.
cat >"$work/mapserver.conf" <<EOF
CONFIG
  ENV
    MS_MAPFILE "$work/bench.map"
  END
END
EOF
mkdir -p "$work/www"
cat >"$work/lighttpd.conf" <<EOF
server.document-root = "$work/www"
server.bind = "127.0.0.1"
server.port = $HTTP_MS
server.modules = ("mod_fastcgi")
server.errorlog = "$work/lighttpd-error.log"
server.max-connections = 1024
fastcgi.server = ("/mapserv" => ((
  "socket" => "$work/mapserv.sock",
  "bin-path" => "$MAPSERV",
  "max-procs" => $MSPROCS,
  "check-local" => "disable",
  "bin-environment" => ("MAPSERVER_CONFIG_FILE" => "$work/mapserver.conf")
)))
EOF
lighttpd -D -f "$work/lighttpd.conf" >"$work/lighttpd.log" 2>&1 &
pids+=($!)

declare -A base=([munigis]="http://127.0.0.1:$HTTP_MUNIGIS" [mapserver]="http://127.0.0.1:$HTTP_MS")
declare -A path=([munigis]="/ows" [mapserver]="/mapserv")
rowpath() { # server row: the service path (munigis has /wms and /wfs)
  if [ "$1" = munigis ]; then
    [[ "$2" == wfs* ]] && echo /wfs || echo /wms
  else
    echo "${path[$1]}"
  fi
}
# munigis is (re)started by start_munigis: once here, and afresh before
# each of its WFS runs, so that the peak RSS read after the run (VmHWM) is
# that run's own, not what the WMS rows left in the Go heap.
mpid=
start_munigis() {
  if [ -n "$mpid" ]; then
    kill "$mpid" 2>/dev/null || true
    wait "$mpid" 2>/dev/null || true
  fi
  DATABASE_URL=$url MUNIGIS_ADDR=127.0.0.1:$HTTP_MUNIGIS MUNIGIS_DB_MAX_CONNS=$DBCONNS \
    MUNIGIS_LOG_LEVEL=warn "$BIN" serve >>"$work/munigis.log" 2>&1 &
  mpid=$!
  pids+=($mpid)
  wait_http "${base[munigis]}/api/layers" munigis "$work/munigis.log"
}
echo "==> munigis serve on 127.0.0.1:$HTTP_MUNIGIS (pool $DBCONNS)"
start_munigis
wait_http "${base[mapserver]}/mapserv?SERVICE=WMS&REQUEST=GetCapabilities" MapServer "$work/lighttpd-error.log"

# What wrk cannot see: an OGC exception comes back with status 200. Check
# the first few requests of every list on both servers: the right
# content type, a PNG of the asked size, GeoJSON with the asked count.
echo "==> checking the answers (first 3 requests of each list)"
check() { # server row
  local s=$1 r=$2 q out ctype
  while read -r q; do
    out=$work/check.bin
    ctype=$(curl -s -o "$out" -w '%{http_code} %{content_type}' "${base[$s]}$(rowpath "$s" "$r")?$q")
    if [[ "$r" == wms* ]]; then
      local want="256x256"
      [[ "$r" == wms1024* ]] && want="1024x768"
      local got
      got=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", b[16:24]) if b[:8] == b"\x89PNG\r\n\x1a\n" else "not-png")' "$out")
      if [[ "$ctype" != "200 image/png"* || "$got" != "$want" ]]; then
        echo "bench-ogc: $s $r answered $ctype, $got (want a $want PNG) for ?$q:" >&2
        head -c 600 "$out" >&2
        echo >&2
        return 1
      fi
    else
      local want=${r#wfs} got
      got=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["features"]))' "$out" 2>/dev/null || echo "not-geojson")
      if [[ "$ctype" != 200* || "$got" != "$want" ]]; then
        echo "bench-ogc: $s $r answered $ctype with $got features (want $want) for ?$q:" >&2
        head -c 600 "$out" >&2
        echo >&2
        return 1
      fi
    fi
  done < <(head -n3 "$work/$s-$r.txt")
  printf '    %-9s %-12s ok (%s, %s bytes)\n' "$s" "$r" "${ctype#200 }" "$(stat -c %s "$work/check.bin")"
}
declare -A broken=()
for r in "${rows[@]}"; do
  for s in munigis mapserver; do
    check "$s" "$r" || broken[$s,$r]=1
  done
done

# wrk: each connection walks the list from its own offset; done() prints
# one machine-readable line.
cat >"$work/ogc.lua" <<'EOF'
local paths, counter = {}, 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  for line in io.lines(args[2]) do paths[#paths + 1] = args[1] .. "?" .. line end
  i = (id - 1) * math.floor(#paths / 2)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
EOF

# munigis's peak RSS during a WFS run: VmHWM of the process started
# just before it.
rss_read() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$mpid/status"; }
wrk_row() { # server row seconds
  wrk -t2 -c"$CONNS" -d"$3s" --timeout 30s -s "$work/ogc.lua" "${base[$1]}" \
    -- "$(rowpath "$1" "$2")" "$work/$1-$2.txt" 2>&1
}

declare -A rps p50 p99 non2xx errs rss
# A short unmeasured warm-up of every list on both servers first: lighttpd
# starts its mapserv processes, which open their database connections on
# their first request, and both read the same pages into the cache.
echo "==> warm-up: 2 s of wrk per list and server"
for r in "${rows[@]}"; do
  for s in munigis mapserver; do
    [ -n "${broken[$s,$r]:-}" ] || wrk_row "$s" "$r" 2 >/dev/null || true
  done
done
echo "==> wrk: $CONNS connections, 2 threads, ${SECS} s per run, $RUNS runs, alternating"
for run in $(seq 1 "$RUNS"); do
  for r in "${rows[@]}"; do
    for s in munigis mapserver; do
      [ -n "${broken[$s,$r]:-}" ] && continue
      [ "$s" = munigis ] && [[ "$r" == wfs* ]] && start_munigis
      bench_settle
      out=$(wrk_row "$s" "$r" "$SECS") || { echo "$out" >&2; exit 1; }
      [ "$s" = munigis ] && [[ "$r" == wfs* ]] && rss[$r]+="$(rss_read) "
      read -r _ a b c d e <<<"$(grep '^RESULT' <<<"$out")"
      rps[$s,$r]+="$a " p50[$s,$r]+="$b " p99[$s,$r]+="$c " non2xx[$s,$r]+="$d " errs[$s,$r]+="$e "
      printf '    run %d %-12s %-9s %8.1f req/s  p50 %8.1f ms  p99 %8.1f ms  non-2xx %d  errors %d\n' \
        "$run" "$r" "$s" "$a" "$b" "$c" "$d" "$e"
    done
  done
done

sum() { printf '%s\n' "$@" | awk '{s += $1} END {print s + 0}'; }
echo
printf 'parcels %d, %d runs each of %d s, %d connections, medians; munigis pool %d connections, MapServer %d FastCGI processes\n' \
  "$N" "$RUNS" "$SECS" "$CONNS" "$DBCONNS" "$MSPROCS"
printf '%-30s %-9s %9s %9s %9s %8s %7s\n' row server 'req/s' 'p50 ms' 'p99 ms' non-2xx errors
for r in "${rows[@]}"; do
  for s in munigis mapserver; do
    if [ -n "${broken[$s,$r]:-}" ]; then
      printf '%-30s %-9s %9s   (wrong answers, see the check above; not measured)\n' "${title[$r]}" "$s" -
      continue
    fi
    # shellcheck disable=SC2086
    printf '%-30s %-9s %9.1f %9.1f %9.1f %8d %7d\n' "${title[$r]}" "$s" \
      "$(median ${rps[$s,$r]})" "$(median ${p50[$s,$r]})" "$(median ${p99[$s,$r]})" \
      "$(sum ${non2xx[$s,$r]})" "$(sum ${errs[$s,$r]})"
  done
  if [ -z "${broken[munigis,$r]:-}" ] && [ -z "${broken[mapserver,$r]:-}" ]; then
    # shellcheck disable=SC2086
    awk -v a="$(median ${rps[munigis,$r]})" -v b="$(median ${rps[mapserver,$r]})" \
      -v c="$(median ${p99[munigis,$r]})" -v d="$(median ${p99[mapserver,$r]})" \
      'BEGIN { printf "%-30s ratio munigis/MapServer: req/s %.2f, p99 %.2f\n", "", a / b, c / d }'
  fi
done
if [ -n "${rss[wfs1000]:-}" ] && [ -n "${rss[wfs10000]:-}" ]; then
  # shellcheck disable=SC2086
  printf 'munigis peak RSS (MB, median of runs; a fresh process for each WFS run): COUNT=1000 %s, COUNT=10000 %s\n' \
    "$(median ${rss[wfs1000]})" "$(median ${rss[wfs10000]})"
fi
