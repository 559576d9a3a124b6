#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# Used verbatim by the README and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
if command -v apt-get >/dev/null; then
  echo "== Debian packages: gdal-bin (ogrinfo), chromium (map tests)"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    gdal-bin chromium chromium-driver fonts-noto-cjk >/dev/null
fi

echo "== Python environment (.venv) with linerisk and its test extras"
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'

echo "== Lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== Tests"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = "5" ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
