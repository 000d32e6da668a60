#!/usr/bin/env bash
# The official postgres image's first-start contract, for the Debian stand-in: on an empty data folder,
# initdb with POSTGRES_USER / POSTGRES_PASSWORD (required), create POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*.sh (sourced, with this environment) and *.sql, then serve on every
# interface with SCRAM passwords. An existing data folder is served as it is.
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
if [ "${1:-postgres}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required: the superuser gets no default password}"
  export POSTGRES_USER=${POSTGRES_USER:-postgres} POSTGRES_DB=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
  pwfile=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER")
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres -v db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";' >/dev/null
  fi
  export PGUSER=$POSTGRES_USER PGDATABASE=$POSTGRES_DB
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "postgres init: $f"; . "$f" ;;
      *.sql) echo "postgres init: $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres init: done"
fi
exec "$@"
