#!/usr/bin/env bash
# make test: vet, a gofmt check, then every test with -race against a
# throwaway PostGIS cluster that is started here and always removed.
set -euo pipefail

echo "==> go vet"
go vet ./...
echo "==> gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './var/*'))
if [ -n "$unformatted" ]; then
  echo "These files are not gofmt-formatted (run gofmt -w):" >&2
  echo "$unformatted" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/munigis-test-pg.XXXXXX)
trap 'scripts/pg.sh destroy "$dir" >/dev/null 2>&1 || true' EXIT
echo "==> starting a throwaway PostGIS cluster in $dir"
MUNIGIS_PG_THROWAWAY=1 scripts/pg.sh start "$dir" 55433 >/dev/null
sock=$(cd "$dir" && pwd -P)/run
export MUNIGIS_TEST_DATABASE_URL="postgres://postgres@/postgres?host=$sock&port=55433&sslmode=disable"
export MUNIGIS_REQUIRE_DB=1
export MUNIGIS_SHARED_DIR=${MUNIGIS_SHARED_DIR:-$(cd .. && pwd)/shared}

echo "==> go test -race ./..."
go test -race -timeout 20m "$@" ./...
