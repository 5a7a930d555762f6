#!/usr/bin/env bash
# make bench: every benchmark, each side by side with its peer on the same
# data in one run, printed as medians and ratios. Benchmarks are never timed
# unit tests: these machines are noisy, so read the medians.
#
#   BENCH_FEATURES=200000 BENCH_TILE_PARCELS=100000 BENCH_OGC_PARCELS=100000 BENCH_REG_PARCELS=100000 BENCH_RUNS=1 make bench
#                                                   a quicker, smaller run
set -euo pipefail
cd "$(dirname "$0")/.."

go build -buildvcs=auto -o bin/munigis ./cmd/munigis

echo "### import: munigis import vs ogr2ogr (PG_USE_COPY=YES)"
scripts/bench-import.sh

echo
echo "### tiles: munigis serve vs tegola v0.21.2 (mvt_postgis, no cache), wrk on loopback"
scripts/bench-tiles.sh

echo
echo "### OGC: munigis WMS/WFS vs MapServer 8 (FastCGI, lighttpd), wrk on loopback"
scripts/bench-ogc.sh

echo
echo "### registers: searches and related lookups on 200,000 entries"
scripts/bench-registers.sh

echo
echo "### case files: official register numbering under 16 clients, due lists over 100,000 tasks"
scripts/bench-cases.sh
