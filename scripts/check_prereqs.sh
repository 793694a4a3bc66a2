#!/usr/bin/env bash
# Report missing prerequisites with what to install, before anything else runs.
set -u
missing=0
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: Python 3.11 or newer is required (Debian/Ubuntu: apt-get install python3 python3-venv)" >&2
  missing=1
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "error: Python's venv module is missing (Debian/Ubuntu: apt-get install python3-venv)" >&2
  missing=1
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "error: Node.js with npm is required to fetch Pyodide and KaTeX and to render the formulas (Debian/Ubuntu: apt-get install nodejs npm)" >&2
  missing=1
fi
exit $missing
