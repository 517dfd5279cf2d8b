#!/usr/bin/env bash
# The project's one test command (README; .ci/run calls it too). On a fresh Debian machine it
# installs what the tests need (Debian's postgresql and chromium, the Python requirements), then
# runs every test against real SQLite, a real PostgreSQL server the tests start, and a real
# headless Chromium driven by Playwright.
# Arguments are passed to pytest, e.g. `bash tests/run.sh -k importer`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x "${LASNAOLO_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium fonts-dejavu-core)
command -v soffice >/dev/null || missing+=(libreoffice-impress)
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "tests/run.sh: please install the Debian packages: ${missing[*]}" >&2; exit 1
  fi
  echo "installing ${missing[*]} (Debian packages)"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -r requirements-test.txt

# Every database test must run on PostgreSQL too, the browser tests in Chromium and the deck
# in LibreOffice: a missing server, browser or office suite fails instead of skipping.
export LASNAOLO_REQUIRE_POSTGRES=1 LASNAOLO_REQUIRE_BROWSER=1 LASNAOLO_REQUIRE_OFFICE=1
# pytest exits 5 when it collected no test, so an empty run cannot pass.
exec python3 -m pytest -n "${LASNAOLO_TEST_WORKERS:-2}" "$@"
