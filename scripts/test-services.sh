#!/usr/bin/env bash
# Make sure what the test suite needs outside Python is there: Debian's
# Chromium and a Chinese font for the browser tests, and a PostgreSQL server
# on 127.0.0.1:5432 with a database named `test` (see DEVELOPERS.md).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v chromium >/dev/null || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -n "${ANDON_TEST_POSTGRES_URL:-}" ]; then
  exit 0  # the developer points the tests at a server of their own
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -d test -Atqc "select 1" >/dev/null 2>&1; then
  as_root runuser -u postgres -- createdb test 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d test -Atqc "select 1" >/dev/null || {
    echo "Cannot connect as postgres to the database test on 127.0.0.1:5432." >&2
    echo "Set ANDON_TEST_POSTGRES_URL to a database the tests may create schemas in." >&2
    exit 1; }
fi
