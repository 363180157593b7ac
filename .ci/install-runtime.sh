#!/usr/bin/env bash
# The runtime-only install, as a customer makes it: the built wheel and only the dependencies it declares, at the
# lock's versions, into a venv of its own. One script for the two places that make it, so they cannot drift: .ci/run
# (which then smoke-tests that venv with .ci/smoke.py) and the Dockerfile (whose image is that venv).
#
#   .ci/install-runtime.sh VENV OUT     run from the checkout; OUT receives dist/*.whl and constraints.txt
#
# UV is the uv to use (default: uv on PATH), PYTHON the interpreter the venv is made from (default: python3).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 VENV OUT" >&2; exit 2; }
venv=$1
out=$2
uv=${UV:-uv}
python=$(command -v "${PYTHON:-python3}")

"$uv" build --quiet --wheel --out-dir "$out/dist"
"$uv" export --quiet --frozen --no-emit-project --no-hashes --output-file "$out/constraints.txt"
"$uv" venv --quiet --python "$python" "$venv"
"$uv" pip install --quiet --python "$venv/bin/python" -c "$out/constraints.txt" "$out"/dist/*.whl
