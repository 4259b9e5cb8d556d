#!/usr/bin/env bash
# The whole test suite: Rust tests, then the Python SDK conformance suite against a real
# `kiln serve`. Installs what it needs (a venv with databricks-sdk) on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build artefacts live outside the clone so CI and fresh clones reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"

echo "== cargo test"
cargo test --workspace --locked

echo "== building kiln"
cargo build --locked --bin kiln
export KILN_BIN="$CARGO_TARGET_DIR/debug/kiln"

echo "== python suites"
venv="${KILN_VENV:-$HOME/.cache/kiln-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/conformance/requirements.txt
echo "== python runtime of clusters (python/kiln_runtime)"
"$venv/bin/python" -m pytest python/tests -q
KILN_BIN="$KILN_BIN" "$venv/bin/python" -m pytest tests/conformance -q
