# Shared by the benchmarks that serve the demo town over HTTP
# (bench-tiles.sh, bench-ogc.sh); sourced, not run. It gives them one way
# to set up, so that the peers they compare are always fed the same data:
#
#   bench_start NAME PORT   work folder, throwaway PostGIS cluster on PORT
#                           with a database "bench"; sets work, sock, url,
#                           and a psql function on that database; every
#                           process added to pids is stopped, the cluster
#                           destroyed and work removed on exit
#   bench_demo N            munigis migrate and the demo town of N parcels
#                           (no case files: they play no part in serving
#                           maps), then VACUUM ANALYZE of the parcels
#   wait_http URL NAME LOG  until URL answers 2xx (20-30 s), else LOG and exit
#   median V...             the median of the values
#
# Expects BIN (the munigis binary) and PG_BIN (PostgreSQL's bin folder).

pids=()
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${pgdir:-}" ] && { scripts/pg.sh destroy "$pgdir" >/dev/null 2>&1 || true; }
  [ -n "${work:-}" ] && rm -rf "$work"
}

bench_start() { # name port
  local name=$1
  BENCH_PGPORT=$2
  work=$(mktemp -d "/tmp/munigis-bench-$name.XXXXXX")
  pgdir=$(mktemp -d /tmp/munigis-bench-pg.XXXXXX)
  trap bench_cleanup EXIT
  echo "==> throwaway PostGIS cluster in $pgdir"
  MUNIGIS_PG_THROWAWAY=1 scripts/pg.sh start "$pgdir" "$BENCH_PGPORT" >/dev/null
  sock=$(cd "$pgdir" && pwd -P)/run
  url="postgres://postgres@/bench?host=$sock&port=$BENCH_PGPORT&sslmode=disable"
  "$PG_BIN/psql" -h "$sock" -p "$BENCH_PGPORT" -U postgres -d postgres -X -q -c "CREATE DATABASE bench"
}

psql() {
  PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -h "$sock" -p "$BENCH_PGPORT" -U postgres -d bench -X -q -v ON_ERROR_STOP=1 "$@"
}

bench_demo() { # parcels
  echo "==> munigis migrate; munigis demo --parcels $1 --case-files -1"
  DATABASE_URL=$url "$BIN" migrate >/dev/null
  local t0
  t0=$(date +%s)
  DATABASE_URL=$url "$BIN" demo --parcels "$1" --case-files -1 >"$work/demo.out" 2>&1 || { cat "$work/demo.out" >&2; exit 1; }
  echo "    demo loaded in $(($(date +%s) - t0)) s"
  psql -c "VACUUM ANALYZE features.cadastre_parcels"
}

wait_http() { # url name log
  local code=000
  for _ in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)
    [[ "$code" == 2* ]] && return 0
    sleep 0.2
  done
  echo "bench: $2 did not answer $1 ($code)" >&2
  cat "$3" >&2
  exit 1
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# bench_settle: wait (up to 60 s) until the machine is quiet — under a
# quarter of its CPU busy over half a second — before the next measured
# run. A server can go on working after wrk has closed its connections:
# lighttpd hands the FastCGI mapserv processes every request already queued
# and they finish them all (munigis stops a request whose client left), so
# without this a run measured whatever the previous one left behind.
bench_settle() {
  local i busy
  for i in $(seq 1 120); do
    busy=$(cpu_busy)
    [ "$busy" -lt 25 ] && return 0
  done
  echo "    (the machine stayed busy, $busy % of the CPU, for 60 s; measuring anyway)"
}

cpu_busy() { # percent of all CPUs busy over 0.5 s, from /proc/stat
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 0.5
  read -r -a b < <(grep '^cpu ' /proc/stat)
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    n = split(a, x, " "); split(b, y, " ")
    for (i = 2; i <= n; i++) { t += y[i] - x[i] }
    idle = (y[5] - x[5]) + (y[6] - x[6])
    print (t > 0) ? int(100 * (t - idle) / t) : 0 }'
}
