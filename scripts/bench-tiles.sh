#!/usr/bin/env bash
# Tile benchmark (issue 4): the same deterministic list of cadastre_parcels
# tiles at z12, z14 and z16 of the demo town, served by `munigis serve`
# (tile cache off, and warm) and by tegola v0.21.2 (mvt_postgis provider,
# cache off, the same attributes) from the same throwaway PostGIS cluster,
# each driven by wrk on loopback (64 connections, 2 threads), RUNS runs
# each, alternating. Prints requests/s, p50/p99 latency and errors side by
# side with the ratios, and the raw cost of munigis's own tile SQL run
# sequentially in psql over the same tiles. Each run starts once the
# machine is quiet (bench_settle), so none measures another's leftovers.
#
#   scripts/bench-tiles.sh                         1,000,000 parcels (~6 min demo), 3 runs
#   BENCH_TILE_PARCELS=100000 BENCH_RUNS=1 scripts/bench-tiles.sh
#
# Knobs: BENCH_TILE_PARCELS (1000000), BENCH_RUNS (3), BENCH_TILE_SECONDS
# (15, per wrk run), BENCH_TILE_MAX (200 tiles per zoom), BENCH_TILE_CONNS
# (64), BENCH_TILE_DB_CONNS (16: the pool of munigis and of tegola alike).
# tegola is built once from the Go module proxy in a scratch module under
# var/bench/ (not part of the munigis module) and kept there.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_TILE_PARCELS:-1000000}
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_TILE_SECONDS:-15}
MAXT=${BENCH_TILE_MAX:-200}
CONNS=${BENCH_TILE_CONNS:-64}
DBCONNS=${BENCH_TILE_DB_CONNS:-16}
BIN=${MUNIGIS_BIN:-bin/munigis}
PORT=${BENCH_TILE_PGPORT:-55590}
HTTP_UNCACHED=${BENCH_TILE_PORT:-55591}
HTTP_WARM=$((HTTP_UNCACHED + 1))
HTTP_TEGOLA=$((HTTP_UNCACHED + 2))
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CACHE=${BENCH_CACHE:-var/bench}
TEGOLA_VERSION=v0.21.2
TEGOLA=$CACHE/tegola-$TEGOLA_VERSION
ZOOMS=(12 14 16)

for tool in wrk curl go; do
  command -v "$tool" >/dev/null || {
    echo "bench-tiles: $tool is missing (apt-get install wrk curl; Go from scripts/deps.sh)" >&2
    exit 1
  }
done
if ! [ -x "$BIN" ] || [[ "$("$BIN" help 2>&1)" != *" serve "* ]]; then
  echo "bench-tiles: $BIN is missing; run make build (or set MUNIGIS_BIN)" >&2
  exit 1
fi

if [ ! -x "$TEGOLA" ]; then
  # `go install …@v0.21.2` is refused (the proxy lists no versions), but a
  # scratch module can require it. Outside the munigis module tree's
  # packages (var/ is ignored), so `go vet ./...` never sees it.
  echo "==> building tegola $TEGOLA_VERSION into $TEGOLA (once)"
  mkdir -p "$CACHE/tegola-build"
  (
    cd "$CACHE/tegola-build"
    [ -f go.mod ] || GOFLAGS=-mod=mod go mod init scratch >/dev/null 2>&1
    go get "github.com/go-spatial/tegola/cmd/tegola@$TEGOLA_VERSION" >/dev/null 2>&1
    go build -o "../tegola-$TEGOLA_VERSION.tmp" github.com/go-spatial/tegola/cmd/tegola
  )
  mv "$CACHE/tegola-$TEGOLA_VERSION.tmp" "$TEGOLA"
fi

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_start tiles "$PORT"
bench_demo "$N"
minzoom=$(psql -tAc "SELECT min_zoom FROM layers WHERE name = 'cadastre_parcels'")
echo "    cadastre_parcels: $(psql -tAc "SELECT count(*) FROM features.cadastre_parcels") parcels, min_zoom $minzoom"

# The tile list: every tile of the zoom meeting the parcels' extent that
# holds at least one parcel, then up to MAXT of them in a fixed
# pseudo-random order (md5 of z/x/y), so dense and sparse tiles mix.
echo "==> tile lists (up to $MAXT tiles per zoom with parcels in them)"
for z in "${ZOOMS[@]}"; do
  psql -tA -F/ -o "$work/tiles-$z.txt" -c "
    WITH e AS (SELECT ST_Extent(ST_Transform(geom_3857, 4326)) AS b FROM features.cadastre_parcels),
    r AS (
      SELECT floor((ST_XMin(b) + 180) / 360 * 2 ^ $z)::int AS x0,
             floor((ST_XMax(b) + 180) / 360 * 2 ^ $z)::int AS x1,
             floor((1 - ln(tan(radians(ST_YMax(b))) + 1 / cos(radians(ST_YMax(b)))) / pi()) / 2 * 2 ^ $z)::int AS y0,
             floor((1 - ln(tan(radians(ST_YMin(b))) + 1 / cos(radians(ST_YMin(b)))) / pi()) / 2 * 2 ^ $z)::int AS y1
      FROM e)
    SELECT $z, x, y
    FROM r, generate_series(x0, x1) AS x, generate_series(y0, y1) AS y
    WHERE EXISTS (SELECT FROM features.cadastre_parcels
                  WHERE geom_3857 && ST_TileEnvelope($z, x, y))
    ORDER BY md5($z || '/' || x || '/' || y)
    LIMIT $MAXT"
  echo "    z$z: $(wc -l <"$work/tiles-$z.txt") tiles"
done

# Raw SQL: munigis's own tile statement (tiles.Tiler.SQL, layerSQL: extent
# 4096, buffer 64, below z14 simplified to half a 512-px pixel, sub-pixel
# features dropped, the biggest 5,000), literals inlined, run one tile
# after another in one psql session. Keep in step with tiles/tiles.go.
tile_sql() { # z x y
  local z=$1 x=$2 y=$3 geom=geom_3857 extra="" order="" limit=50000
  if [ "$z" -lt 14 ]; then
    local px
    px=$(awk "BEGIN { printf \"%.17g\", 2 * 20037508.342789244 / 2 ^ $z / 512 }")
    geom="ST_Simplify(geom_3857, $px::float8 / 2, true)"
    extra="AND public.munigis_geom_size(geom_3857) >= $px::float8"
    order="ORDER BY public.munigis_geom_size(geom_3857) DESC"
    limit=5000
  fi
  echo "SELECT length((SELECT coalesce(ST_AsMVT(t, 'cadastre_parcels', 4096, '_geom', '_id'), ''::bytea) FROM (
    SELECT id AS _id, ST_AsMVTGeom($geom, ST_TileEnvelope($z, $x, $y), 4096, 64, true) AS _geom,
           identifier, area_m2, land_use, ownership, address
    FROM features.cadastre_parcels
    WHERE geom_3857 && ST_TileEnvelope($z, $x, $y, margin => 0.015625) $extra
    $order LIMIT $limit) t WHERE t._geom IS NOT NULL));"
}
pct() { # p values...: nearest-rank percentile
  local p=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v p="$p" '{a[NR] = $1} END {i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print a[i]}'
}
declare -A sql_p50 sql_p99 sql_bytes
echo "==> raw SQL, sequential, one psql session (munigis's tile statement)"
for z in "${ZOOMS[@]}"; do
  {
    # one warm-up pass so that both the SQL and the servers read from a warm page cache
    while IFS=/ read -r tz tx ty; do tile_sql "$tz" "$tx" "$ty"; done <"$work/tiles-$z.txt"
    echo '\timing on'
    while IFS=/ read -r tz tx ty; do tile_sql "$tz" "$tx" "$ty"; done <"$work/tiles-$z.txt"
  } >"$work/sql-$z.sql"
  psql -tA -f "$work/sql-$z.sql" >"$work/sql-$z.out"
  mapfile -t ms < <(awk '/^Time:/ {print $2}' "$work/sql-$z.out")
  mapfile -t by < <(grep -v '^Time:' "$work/sql-$z.out" | tail -n "${#ms[@]}")
  sql_p50[$z]=$(median "${ms[@]}")
  sql_p99[$z]=$(pct 99 "${ms[@]}")
  sql_bytes[$z]=$(median "${by[@]}")
  printf '    z%d: %d tiles, per tile median %.2f ms, p99 %.2f ms, median tile %d bytes\n' \
    "$z" "${#ms[@]}" "${sql_p50[$z]}" "${sql_p99[$z]}" "${sql_bytes[$z]}"
done

# Raw SQL under load: the same statement from pgbench with DBCONNS clients
# (the servers' pool size), tiles drawn at random (fixed seed) from the
# list through a one-row lookup (\gset), simple protocol: planned for the
# very tile, as munigis's unnamed statements are.
for z in "${ZOOMS[@]}"; do
  psql -c "CREATE TABLE bench_tiles_$z (n int PRIMARY KEY, z int, x int, y int)"
  awk -F/ -v OFS=, '{print NR, $1, $2, $3}' "$work/tiles-$z.txt" | psql -c "\\copy bench_tiles_$z FROM STDIN WITH (FORMAT csv)"
  {
    echo "\\set i random(1, $(wc -l <"$work/tiles-$z.txt"))"
    echo "SELECT x, y FROM bench_tiles_$z WHERE n = :i \\gset"
    tile_sql "$z" :x :y | tr '\n' ' '
    echo
  } >"$work/pgbench-$z.sql"
done

# Servers, all three up at once on loopback (an idle one costs nothing).
first=$(head -n1 "$work/tiles-16.txt")
echo "==> munigis serve on 127.0.0.1:$HTTP_UNCACHED (MUNIGIS_TILE_CACHE_MB=0) and :$HTTP_WARM (cache 256 MB)"
DATABASE_URL=$url MUNIGIS_ADDR=127.0.0.1:$HTTP_UNCACHED MUNIGIS_TILE_CACHE_MB=0 MUNIGIS_DB_MAX_CONNS=$DBCONNS \
  MUNIGIS_LOG_LEVEL=warn "$BIN" serve >"$work/munigis-uncached.log" 2>&1 &
pids+=($!)
DATABASE_URL=$url MUNIGIS_ADDR=127.0.0.1:$HTTP_WARM MUNIGIS_DB_MAX_CONNS=$DBCONNS \
  MUNIGIS_LOG_LEVEL=warn "$BIN" serve >"$work/munigis-warm.log" 2>&1 &
pids+=($!)

echo "==> tegola $TEGOLA_VERSION on 127.0.0.1:$HTTP_TEGOLA (mvt_postgis, no cache, $DBCONNS connections)"
# The same rows, attributes, extent, buffer and index filter as munigis at
# full detail; tegola simplifies nothing and keeps every feature at z12.
cat >"$work/tegola.toml" <<EOF
[webserver]
port = "127.0.0.1:$HTTP_TEGOLA"

[[providers]]
name = "munigis"
type = "mvt_postgis"
uri = "postgres://postgres@localhost:$PORT/bench?host=$sock"
ssl_mode = "disable"
srid = 3857
max_connections = $DBCONNS

  [[providers.layers]]
  name = "cadastre_parcels"
  geometry_fieldname = "geom"
  geometry_type = "MultiPolygon"
  id_fieldname = "id"
  srid = 3857
  sql = """SELECT ST_AsMVTGeom(geom_3857, !BBOX!, 4096, 64, true) AS geom, id,
    identifier, area_m2, land_use, ownership, address
    FROM features.cadastre_parcels
    WHERE geom_3857 && ST_TileEnvelope(!Z!, !X!, !Y!, margin => 0.015625)"""

[[maps]]
name = "munigis"

  [[maps.layers]]
  provider_layer = "munigis.cadastre_parcels"
  min_zoom = $minzoom
  max_zoom = 22
EOF
"$TEGOLA" serve --config "$work/tegola.toml" --no-cache >"$work/tegola.log" 2>&1 &
pids+=($!)

declare -A prefix=(
  [uncached]="http://127.0.0.1:$HTTP_UNCACHED/tiles/cadastre_parcels/"
  [warm]="http://127.0.0.1:$HTTP_WARM/tiles/cadastre_parcels/"
  [tegola]="http://127.0.0.1:$HTTP_TEGOLA/maps/munigis/"
)
declare -A suffix=([uncached]=".mvt" [warm]=".mvt" [tegola]=".pbf")
wait_http "${prefix[uncached]}$first${suffix[uncached]}" munigis "$work/munigis-uncached.log"
wait_http "${prefix[warm]}$first${suffix[warm]}" munigis "$work/munigis-warm.log"
wait_http "${prefix[tegola]}$first${suffix[tegola]}" tegola "$work/tegola.log"

# Same tiles, same bytes? Compare the body sizes of a few tiles (munigis
# and tegola encode the same rows; sizes match closely but need not be
# byte-identical: feature order and z12 simplification differ).
echo "==> body sizes of the first tile of each zoom (munigis / tegola)"
for z in "${ZOOMS[@]}"; do
  t=$(head -n1 "$work/tiles-$z.txt")
  a=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${prefix[uncached]}$t${suffix[uncached]}")
  b=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${prefix[tegola]}$t${suffix[tegola]}")
  echo "    z$z $t: munigis $a, tegola $b"
done

# Cold single pass (the warm server, freshly started, before wrk): each
# tile once, sequentially, from curl.
echo "==> cold first pass, sequential curl, cache-on munigis (then it is warm)"
for z in "${ZOOMS[@]}"; do
  mapfile -t ms < <(while read -r t; do
    curl -s -o /dev/null -w '%{time_total}\n' "${prefix[warm]}$t${suffix[warm]}"
  done <"$work/tiles-$z.txt" | awk '{print $1 * 1000}')
  printf '    z%d: per tile median %.2f ms, p99 %.2f ms (client-side, incl. curl connect)\n' "$z" "$(median "${ms[@]}")" "$(pct 99 "${ms[@]}")"
done

# wrk: each connection walks the list from its own offset; done() prints
# one machine-readable line.
cat >"$work/tiles.lua" <<'EOF'
local paths, threads, counter = {}, {}, 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local prefix, suffix, file = args[1], args[2], args[3]
  for line in io.lines(file) do paths[#paths + 1] = prefix .. line .. suffix end
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
# wrk wants a host:port URL and takes the paths from the script.
declare -A base=(
  [uncached]="http://127.0.0.1:$HTTP_UNCACHED"
  [warm]="http://127.0.0.1:$HTTP_WARM"
  [tegola]="http://127.0.0.1:$HTTP_TEGOLA"
)
declare -A pathpre=([uncached]="/tiles/cadastre_parcels/" [warm]="/tiles/cadastre_parcels/" [tegola]="/maps/munigis/")
declare -A rps p50 p99 non2xx errs
servers=(uncached tegola warm sql)
echo "==> wrk: $CONNS connections, 2 threads, ${SECS} s per run, $RUNS runs, alternating"
for run in $(seq 1 "$RUNS"); do
  for z in "${ZOOMS[@]}"; do
    for s in "${servers[@]}"; do
      bench_settle
      if [ "$s" = sql ]; then
        out=$("$PG_BIN/pgbench" -h "$sock" -p "$PORT" -U postgres -n -M simple -c "$DBCONNS" -j 2 -T "$SECS" \
          --random-seed=1 -f "$work/pgbench-$z.sql" bench 2>&1) || { echo "$out" >&2; exit 1; }
        r=$(awk '/^tps = / {print $3; exit}' <<<"$out")
        a=$(awk '/^latency average = / {print $4; exit}' <<<"$out")
        d=$(awk '/^number of failed transactions: / {print $5; exit}' <<<"$out")
        rps[$s,$z]+="$r " p50[$s,$z]+="$a " non2xx[$s,$z]+="0 " errs[$s,$z]+="${d:-0} "
        printf '    run %d z%-2d %-8s %8.1f tiles/s  latency average %8.2f ms (pgbench, %d clients)  errors %d\n' "$run" "$z" "raw SQL" "$r" "$a" "$DBCONNS" "${d:-0}"
        continue
      fi
      out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -s "$work/tiles.lua" "${base[$s]}" \
        -- "${pathpre[$s]}" "${suffix[$s]}" "$work/tiles-$z.txt" 2>&1) || { echo "$out" >&2; exit 1; }
      read -r _ r a b c d <<<"$(grep '^RESULT' <<<"$out")"
      rps[$s,$z]+="$r " p50[$s,$z]+="$a " p99[$s,$z]+="$b " non2xx[$s,$z]+="$c " errs[$s,$z]+="$d "
      printf '    run %d z%-2d %-8s %8.1f req/s  p50 %8.2f ms  p99 %8.2f ms  non-2xx %d  errors %d\n' "$run" "$z" "$s" "$r" "$a" "$b" "$c" "$d"
    done
  done
done

sum() { printf '%s\n' "$@" | awk '{s += $1} END {print s + 0}'; }
calc() { awk "BEGIN { print $1 }"; }
echo
printf 'parcels %d, %d runs each of %d s, %d connections, medians; munigis and tegola pools %d connections\n' "$N" "$RUNS" "$SECS" "$CONNS" "$DBCONNS"
printf '%-4s %-19s %10s %9s %9s %8s %7s\n' zoom server 'req/s' 'p50 ms' 'p99 ms' non-2xx errors
for z in "${ZOOMS[@]}"; do
  for s in "${servers[@]}"; do
    # shellcheck disable=SC2086
    if [ "$s" = sql ]; then
      printf '%-4s %-19s %10.1f %9s %9s %8s %7d   (pgbench, %d clients; mean latency %.2f ms)\n' "z$z" "raw SQL" \
        "$(median ${rps[$s,$z]})" - - - "$(sum ${errs[$s,$z]})" "$DBCONNS" "$(median ${p50[$s,$z]})"
      continue
    fi
    printf '%-4s %-19s %10.1f %9.2f %9.2f %8d %7d\n' "z$z" "$([ "$s" = tegola ] && echo "tegola (no cache)" || echo "munigis ($s)")" \
      "$(median ${rps[$s,$z]})" "$(median ${p50[$s,$z]})" "$(median ${p99[$s,$z]})" "$(sum ${non2xx[$s,$z]})" "$(sum ${errs[$s,$z]})"
  done
  # shellcheck disable=SC2086
  {
    mu=$(median ${rps[uncached,$z]}) te=$(median ${rps[tegola,$z]}) wa=$(median ${rps[warm,$z]})
    sq=$(median ${rps[sql,$z]})
  }
  printf '     ratios req/s: munigis uncached / tegola %.2f; munigis uncached / raw SQL %.2f; warm / uncached %.1f\n' \
    "$(calc "$mu / $te")" "$(calc "$mu / $sq")" "$(calc "$wa / $mu")"
done
echo "(the sequential raw SQL medians above are one query at a time; under $CONNS connections p50 includes queueing for the $DBCONNS-connection pool and the CPU."
echo " munigis coalesces concurrent requests for the same tile even with its cache off; with few tiles in a list (z12) that inflates its uncached rate)"
