#!/usr/bin/env bash
# Register benchmark (issue 6): 200,000 register entries over the demo town
# (1,000,000 parcels by default), through every trigger; prints p50/p99 of
# 200 runs of each search (free text in Cyrillic and Latin, number, person,
# identifier with everything under it) and of /related's query, and the
# query plans (trigram index, entry_objects index). The goals: related
# under 20 ms and free-text search under 100 ms at p99. The streamed CSV
# export's flat memory is asserted by TestRegisterExportFlatMemory (web, 100,000 entries).
#
#   scripts/bench-registers.sh                       1,000,000 parcels
#   BENCH_REG_PARCELS=100000 scripts/bench-registers.sh     quicker
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REG_PARCELS:-1000000}
PORT=${BENCH_REG_PGPORT:-55596}
pgdir=$(mktemp -d /tmp/munigis-bench-reg.XXXXXX)
trap 'scripts/pg.sh destroy "$pgdir" >/dev/null 2>&1 || true' EXIT
echo "==> throwaway PostGIS cluster in $pgdir"
MUNIGIS_PG_THROWAWAY=1 scripts/pg.sh start "$pgdir" "$PORT" >/dev/null
sock=$(cd "$pgdir" && pwd -P)/run
echo "==> $N parcels and 200,000 entries (the demo load and the inserts take minutes), then 200 runs per search"
MUNIGIS_TEST_DATABASE_URL="postgres://postgres@/postgres?host=$sock&port=$PORT&sslmode=disable" \
MUNIGIS_REQUIRE_DB=1 MUNIGIS_BENCH_PARCELS=$N \
  go test -run '^$' -bench Registers200k -benchtime 1x -timeout 60m ./registers/ 2>&1 |
  grep -v '^goos:\|^goarch:\|^pkg:\|^cpu:\|^Benchmark\|^PASS' | sed 's/^ *bench_test.go:[0-9]*: /    /'
