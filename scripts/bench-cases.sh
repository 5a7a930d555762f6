#!/usr/bin/env bash
# Case-file benchmark (issue 7): 16 concurrent clients registering documents
# in the official document register (goal: at least 200 registrations a
# second, the numbers still exactly 1..N), and the overdue / due-this-week
# lists over 100,000 open tasks (goal: under 100 ms). No peer runs these: the
# goals are absolute, so the script prints the measured value beside the goal.
#
#   scripts/bench-cases.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${BENCH_CASES_PGPORT:-55597}
pgdir=$(mktemp -d /tmp/munigis-bench-cases.XXXXXX)
trap 'scripts/pg.sh destroy "$pgdir" >/dev/null 2>&1 || true' EXIT
echo "==> throwaway PostGIS cluster in $pgdir"
MUNIGIS_PG_THROWAWAY=1 scripts/pg.sh start "$pgdir" "$PORT" >/dev/null
sock=$(cd "$pgdir" && pwd -P)/run
export MUNIGIS_TEST_DATABASE_URL="postgres://postgres@/postgres?host=$sock&port=$PORT&sslmode=disable" MUNIGIS_REQUIRE_DB=1
echo "==> registrations: 16 clients for 10 s, 3 runs (the median is the one to read)"
go test -run '^$' -bench 'Register' -benchtime 10s -count 3 -timeout 30m ./documents/ 2>&1 |
  grep -v '^goos:\|^goarch:\|^pkg:\|^cpu:\|^PASS\|^ok'
echo "==> due lists over 100,000 open tasks (the generation takes a minute), 3 runs"
go test -run '^$' -bench 'Due' -benchtime 200x -count 3 -timeout 30m ./casefiles/ 2>&1 |
  grep -v '^goos:\|^goarch:\|^pkg:\|^cpu:\|^PASS\|^ok'
