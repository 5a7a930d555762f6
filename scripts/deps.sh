#!/usr/bin/env bash
# Installs the Debian packages munigis needs to build, run and test.
# As root it installs what is missing (apt-get update once, first); as anyone
# else it prints the exact apt-get line to run and stops.
set -euo pipefail

packages=(
  postgresql-15 postgresql-15-postgis-3   # the spatial store
  libgdal-dev gdal-bin pkg-config g++     # godal (cgo) and GDAL's own tools for tests and benchmarks
  util-linux                              # runuser, to run PostgreSQL as the postgres user
  time wrk                                # /usr/bin/time -v (peak memory) and wrk (HTTP load) in make bench
  fonts-dejavu-core                       # the font of the map labels' glyphs (web/ui/build.mjs)
  chromium                                # the map page's browser test (web/ui/e2e)
  python3-owslib python3-qgis             # the OGC services' real-client test (cmd/munigis/ogcclients_test.go),
                                          # with GDAL's ogrinfo/ogr2ogr/gdal_translate above; QGIS runs headless
)
# npm installs MapLibre GL JS and playwright-core (make ui); Debian's nodejs
# and npm only if no npm is there already (a newer Node.js is fine too).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "munigis needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
