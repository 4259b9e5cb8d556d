# Sourced by the bench scripts: builds kiln ($1: release or debug) and starts it on port $2
# with a fresh data directory and admin token, stopped and removed on exit. Sets $host,
# $token and $server. KILN_BENCH_BIN=/path/to/kiln runs that binary instead of building one
# (to compare two builds).
bench_start_server() {
  local profile="$1" port="$2"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"
  local bin="$CARGO_TARGET_DIR/$profile/kiln"
  if [ -n "${KILN_BENCH_BIN:-}" ]; then
    bin="$KILN_BENCH_BIN"
  elif [ "$profile" = release ]; then cargo build --release --bin kiln; else cargo build --bin kiln; fi
  data="$(mktemp -d)"; host="http://127.0.0.1:$port"
  token="dapi$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  KILN_ADMIN_TOKEN="$token" KILN_RATE_LIMITS=off KILN_SAMPLES_SCALE=0 KILN_LOG=warn "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null &
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
  for _ in $(seq 100); do curl -sf "$host/.well-known/databricks-config" >/dev/null && break; sleep 0.1; done
}
