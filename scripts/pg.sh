#!/usr/bin/env bash
# Manages a project-local PostgreSQL 15 + PostGIS cluster.
#
#   pg.sh start DIR [PORT]   create the cluster in DIR if it is new, start it if stopped,
#                            make sure database "munigis" exists; print its URL
#   pg.sh stop DIR           stop it (data kept)
#   pg.sh destroy DIR        stop it immediately and delete DIR (throwaway clusters)
#   pg.sh url DIR            print the connection URL
#
# Layout of DIR: data/ (PGDATA), run/ (unix socket), log, port.
# The server listens on a unix socket only (no TCP, so no clash with a system
# PostgreSQL); PORT only names the socket. PostgreSQL refuses to run as root,
# so as root the cluster runs as the "postgres" system user, which must be able
# to reach DIR: when DIR sits under a folder that user cannot enter (a clone
# inside a mode-700 home), the data goes to /var/tmp/munigis-<hash> and DIR
# becomes a symbolic link to it.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg.sh start|stop|destroy|url DIR [PORT]}
dir=${2:?usage: pg.sh start|stop|destroy|url DIR [PORT]}
port=${3:-55432}
throwaway=${MUNIGIS_PG_THROWAWAY:-0}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() {
  local d p
  d=$(cd "$dir" && pwd -P)
  p=$(cat "$dir/port")
  echo "postgres://postgres@/munigis?host=$d/run&port=$p&sslmode=disable"
}

running() {
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

create() {
  local target=$dir
  mkdir -p "$(dirname "$dir")"
  if [ "$(id -u)" -eq 0 ]; then
    local parent
    parent=$(cd "$(dirname "$dir")" && pwd -P)
    if ! runuser -u postgres -- test -x "$parent"; then
      target=/var/tmp/munigis-$(echo -n "$parent/$(basename "$dir")" | sha1sum | cut -c1-12)
      echo "The postgres user cannot reach $parent; keeping the cluster in $target (linked from $dir)."
      mkdir -p "$target"
      ln -sfn "$target" "$dir"
    fi
  fi
  mkdir -p "$target/run"
  echo "$port" >"$target/port"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$target"
  echo "Creating a PostgreSQL cluster in $dir ..."
  as_pg "$PG_BIN/initdb" -D "$target/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$target/initdb.log" 2>&1 || {
    cat "$target/initdb.log" >&2
    echo "initdb failed; the log is above." >&2
    exit 1
  }
  local extra=""
  if [ "$throwaway" = 1 ]; then
    # Acceptable only because the cluster is thrown away after the tests.
    extra="fsync = off
synchronous_commit = off
full_page_writes = off"
  fi
  cat >>"$target/data/postgresql.conf" <<CONF
# munigis
listen_addresses = ''
unix_socket_directories = '$(cd "$target" && pwd -P)/run'
port = $port
max_connections = 100
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 2GB
timezone = 'UTC'
$extra
CONF
}

case "$cmd" in
start)
  [ -f "$dir/data/PG_VERSION" ] || create
  if ! running; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null || {
      tail -20 "$dir/log" >&2
      echo "PostgreSQL did not start; the end of its log ($dir/log) is above." >&2
      exit 1
    }
  fi
  sock=$(cd "$dir" && pwd -P)/run
  p=$(cat "$dir/port")
  if ! "$PG_BIN/psql" -h "$sock" -p "$p" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'munigis'" | grep -q 1; then
    "$PG_BIN/psql" -h "$sock" -p "$p" -U postgres -d postgres -qc "CREATE DATABASE munigis" >/dev/null
  fi
  url
  ;;
stop)
  if running; then as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi
  ;;
destroy)
  if running; then as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true; fi
  real=$(cd "$dir" 2>/dev/null && pwd -P || true)
  rm -rf "$dir"
  [ -n "$real" ] && rm -rf "$real"
  ;;
url)
  url
  ;;
*)
  echo "pg.sh: unknown command $cmd" >&2
  exit 2
  ;;
esac
