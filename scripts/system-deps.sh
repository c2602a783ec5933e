#!/usr/bin/env bash
# The Debian packages the tests need. Installs what is missing when run as root with apt;
# otherwise names exactly what is missing and stops.
set -euo pipefail

missing=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
# The storm (make storm, and its short run in make test) keeps rate limits in Redis.
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
have_lib libharfbuzz-subset.so.0 || missing+=(libharfbuzz-subset0)
have_lib libpango-1.0.so.0 || missing+=(libpango-1.0-0)
have_lib libpangoft2-1.0.so.0 || missing+=(libpangoft2-1.0-0)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v fc-list >/dev/null && fc-list | grep -qi "DejaVu Sans" || missing+=(fonts-dejavu-core)
command -v runuser >/dev/null || missing+=(util-linux)
# Rate limits shared between workers: the tests start a throw-away server like PostgreSQL.
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${RECRUIT_BENCH:-}" = 1 ]; then command -v wrk >/dev/null || missing+=(wrk); fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "Missing Debian packages: ${missing[*]}" >&2
echo "Install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
