#!/usr/bin/env bash
# ./dev test-matrix: the Python test suite (unit, e2e through TestClient and live servers) on
# every supported CPython this machine has (pyenv's versions, or pythonX.Y on PATH), each in
# its own venv under .venv-matrix/ with the extension built for it; says which were skipped.
#   FERROWEB_MATRIX="3.12 3.13" ./dev test-matrix      only these versions
#   ./dev test-matrix -- -k multipart                 arguments for pytest
set -uo pipefail
cd "$(dirname "$0")/.."

versions=${FERROWEB_MATRIX:-"3.10 3.11 3.12 3.13"}
ran=() skipped=() failed=()

interpreter() {  # the python executable of version $1, or nothing
  local version=$1 candidate
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/"$version".*/bin/python"$version"; do
      [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
  fi
  for candidate in "python$version" "/usr/bin/python$version" "/usr/local/bin/python$version"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate"
      return
    fi
  done
}

# the extension is abi3 (_ferroweb.abi3.so): per-version ones from older builds would shadow it
rm -f python/ferroweb/_ferroweb.cpython-*.so

for version in $versions; do
  python=$(interpreter "$version")
  if [ -z "$python" ]; then
    skipped+=("$version")
    echo "== CPython $version: not installed here, skipped"
    continue
  fi
  venv=".venv-matrix/$version"
  echo "== CPython $version ($python) in $venv"
  if ! { [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"; } ||
     ! "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt ||
     ! VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH" CARGO_TARGET_DIR="target/matrix-$version" \
         "$venv/bin/maturin" develop --quiet ||
     ! VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH" "$venv/bin/python" -m pytest -q "$@"; then
    failed+=("$version")
    continue
  fi
  ran+=("$version")
done

echo
echo "test-matrix: passed on ${ran[*]:-none}; failed on ${failed[*]:-none}; skipped (not installed) ${skipped[*]:-none}"
[ ${#failed[@]} -eq 0 ]
