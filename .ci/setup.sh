#!/usr/bin/env bash
# Install cityrisk into ./.venv on a fresh machine: find a Python >= 3.12 (Mesa needs it), make the
# venv, install the project with its test extras (which include every optional extra, `all`).
# With --browser also Debian's chromium and the Solara assets the app serves offline.
# Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  local c
  for c in python3.13 python3.12 /root/.pyenv/versions/3.13*/bin/python /root/.pyenv/versions/3.12*/bin/python \
           "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python python3; do
    if [[ -x "$c" || -n "$(command -v "$c" 2>/dev/null)" ]] \
       && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  py="$(find_python)" || { echo "cityrisk needs Python >= 3.12 (python3.12, python3.13 or pyenv)" >&2; exit 1; }
  echo "creating .venv with $py ($("$py" --version))"
  rm -rf .venv
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c 'import sim, mesa; print("cityrisk", sim.__version__, "on mesa", mesa.__version__)'
# compile the numba kernels now, so the first run only loads them from numba's cache (about 6 s of
# CPU once; a no-op when the cache is current)
.venv/bin/python -m sim.precompile

if [[ "${1:-}" == "--browser" ]]; then
  bash .ci/install_chromium.sh
  bash .ci/install_solara_assets.sh .venv/bin/python
fi
