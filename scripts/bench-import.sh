#!/usr/bin/env bash
# Import benchmark: `munigis import` of an N-polygon shapefile into the
# cadastre_parcels layer (triggers, generated EPSG:3857 column, two GiST
# indexes, a unique index, one transaction) against GDAL's own
# `PG_USE_COPY=YES ogr2ogr -f PostgreSQL` into a plain table, RUNS runs each,
# alternating, on a throwaway PostGIS cluster. Prints the median times, the
# rate, the ratio and munigis's peak RSS (from /usr/bin/time -v).
#
#   scripts/bench-import.sh                 1,000,000 polygons, 3 runs each
#   BENCH_FEATURES=200000 BENCH_RUNS=1 scripts/bench-import.sh
#
# The shapefile (CP1251 DBF with a .cpg, EPSG:7801, 9-vertex polygons) is
# generated once with ogr2ogr from a generate_series query and kept in
# var/bench/. MUNIGIS_BIN picks the binary (default bin/munigis; build it
# first with `make build`).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_FEATURES:-1000000}
RUNS=${BENCH_RUNS:-3}
BIN=${MUNIGIS_BIN:-bin/munigis}
PORT=${BENCH_PGPORT:-55520}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CACHE=${BENCH_CACHE:-var/bench}
SHP=$CACHE/parcels-$N.shp

for tool in ogr2ogr /usr/bin/time; do
  command -v "$tool" >/dev/null || {
    echo "bench-import: $tool is missing (apt-get install gdal-bin time)" >&2
    exit 1
  }
done
if ! [ -x "$BIN" ] || [[ "$("$BIN" help 2>&1)" != *" import "* ]]; then
  echo "bench-import: $BIN with an import command is missing; run make build (or set MUNIGIS_BIN)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/munigis-bench.XXXXXX)
# Its own folder: pg.sh hands it to the postgres user.
pgdir=$(mktemp -d /tmp/munigis-bench-pg.XXXXXX)
cleanup() {
  scripts/pg.sh destroy "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> throwaway PostGIS cluster in $pgdir"
MUNIGIS_PG_THROWAWAY=1 scripts/pg.sh start "$pgdir" "$PORT" >/dev/null
sock=$(cd "$pgdir" && pwd -P)/run
psql() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -h "$sock" -p "$PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
url() { echo "postgres://postgres@/$1?host=$sock&port=$PORT&sslmode=disable"; }
pgconn() { echo "PG:host=$sock port=$PORT user=postgres dbname=$1"; }

echo "==> migrating a template database"
psql -c "CREATE DATABASE bench_template"
DATABASE_URL=$(url bench_template) "$BIN" migrate >/dev/null

if [ ! -f "$SHP" ]; then
  echo "==> generating $SHP ($N polygons, once)"
  mkdir -p "$CACHE"
  # A 1000-wide grid of 9-vertex parcels 12 m apart west of Sofia, with
  # valid unique cadastral identifiers and Cyrillic attributes.
  ogr2ogr -f "ESRI Shapefile" -lco ENCODING=CP1251 "$SHP" "$(pgconn bench_template)" -sql "
    SELECT '68134.' || (i / 10000 + 1) || '.' || (i % 10000 + 1) AS identifier,
           (100 + i % 900)::float8 + 0.25 AS area_m2,
           (ARRAY['жилищна', 'нива', 'гора', 'улица', 'друг'])[i % 5 + 1] AS land_use,
           (ARRAY['частна', 'общинска публична', 'държавна частна'])[i % 3 + 1] AS ownership,
           'ул. „Христо Ботев“ ' || (i % 200 + 1) AS address,
           ST_Buffer(ST_SetSRID(ST_MakePoint(300000 + (i % 1000) * 12, 4720000 + (i / 1000) * 12), 7801), 5, 'quad_segs=2') AS geom
    FROM generate_series(0, $N - 1) AS i"
fi
ls -l "${SHP%.shp}".* | awk '{s += $5} END {printf "    shapefile: %.0f MB\n", s / 1048576}'

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
munigis_times=() ogr_times=() rss=()
for run in $(seq 1 "$RUNS"); do
  psql -c "DROP DATABASE IF EXISTS bench_run WITH (FORCE)" -c "CREATE DATABASE bench_run TEMPLATE bench_template"
  t0=$(now)
  DATABASE_URL=$(url bench_run) /usr/bin/time -v -o "$work/time.txt" \
    "$BIN" import "$SHP" --layer cadastre_parcels >"$work/munigis.out" 2>"$work/munigis.err" || {
    cat "$work/munigis.err" >&2
    exit 1
  }
  t1=$(now)
  munigis_times+=("$(calc "$t1 - $t0")")
  rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")")
  got=$(psql -tAc "SELECT count(*) FROM features.cadastre_parcels" -d bench_run)
  [ "$got" = "$N" ] || { echo "bench-import: munigis wrote $got features, not $N" >&2; exit 1; }
  printf '    run %d: munigis import %6.1f s, peak RSS %d MB\n' "$run" "${munigis_times[-1]}" $((rss[-1] / 1024))

  psql -c "DROP DATABASE IF EXISTS bench_ogr WITH (FORCE)" -c "CREATE DATABASE bench_ogr TEMPLATE bench_template"
  t0=$(now)
  PG_USE_COPY=YES ogr2ogr -f PostgreSQL "$(pgconn bench_ogr)" "$SHP" -nln parcels_plain -lco GEOMETRY_NAME=geom \
    -nlt PROMOTE_TO_MULTI >"$work/ogr.out" 2>&1 || {
    cat "$work/ogr.out" >&2
    exit 1
  }
  t1=$(now)
  ogr_times+=("$(calc "$t1 - $t0")")
  printf '    run %d: ogr2ogr        %6.1f s\n' "$run" "${ogr_times[-1]}"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
m=$(median "${munigis_times[@]}")
o=$(median "${ogr_times[@]}")
r=$(median "${rss[@]}")
echo
printf 'features                      %d (%d runs each)\n' "$N" "$RUNS"
printf 'munigis import, median        %.1f s  (%.0f features/s), peak RSS %.0f MB\n' "$m" "$(calc "$N / $m")" "$(calc "$r / 1024")"
printf 'ogr2ogr PG_USE_COPY, median   %.1f s  (%.0f features/s)\n' "$o" "$(calc "$N / $o")"
printf 'ratio munigis / ogr2ogr       %.2f\n' "$(calc "$m / $o")"
