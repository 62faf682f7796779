#!/usr/bin/env bash
# The evening's reads measured from outside the process, with a standard load generator,
# so the figures compare with other systems': fills a database with
# `comanda bench reads --fill-only` (N paid orders over S stores, a live service in the
# first), serves it with `comanda serve`, signs in, and runs wrk against each read in
# turn. Prints requests/s, p50/p99 per read, and the server's resident memory.
#
#   cargo build --release && scripts/bench-reads.sh
#   ORDERS=100000 scripts/bench-reads.sh
#   COMANDA_DATABASE_URL=postgres://postgres@127.0.0.1:5432/comanda_bench scripts/bench-reads.sh
#
# Needs wrk (Debian: apt-get install wrk). wrk sends as fast as the server answers, so
# its latency is the queue (64 connections / throughput); with oha (cargo install oha)
# the script also gets an order at a set rate (RATE, 4000/s), latency corrected for
# coordinated omission: the p99 a till sees when the server is busy but not saturated.
# Environment: ORDERS (1000000), STORES (4), CONNECTIONS (64), THREADS (2),
# DURATION (20s), RATE (4000), PORT (8089), COMANDA_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${COMANDA_BIN:-./target/release/comanda}
orders=${ORDERS:-1000000}
stores=${STORES:-4}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
duration=${DURATION:-20s}
rate=${RATE:-4000}
port=${PORT:-8089}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin not found: cargo build --release" >&2; exit 1; }

work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "filling: $orders orders over $stores stores" >&2
"$bin" bench reads --orders "$orders" --stores "$stores" --fill-only | tee "$work/fill.txt" >&2
field() { sed -n "s/^$1: //p" "$work/fill.txt"; }
login=$(field login)
password=$(field password)
store=$(field "live store")
paths=$(field "order paths")
database=$(field database)
scratch=$(dirname "$paths")
case "$scratch" in
    */comanda-bench-*) trap 'cleanup; rm -rf "$scratch"' EXIT ;;
    *) echo "unexpected scratch directory $scratch" >&2; exit 1 ;;
esac

# The fill leaves gigabytes for the kernel to write back; reads measured while it does
# measure the disk, not the server.
sync
sleep 5

# PostgreSQL needs a named key for secrets at rest; a throwaway one for the run.
if [ -z "$database" ] && [ -z "${COMANDA_SECRET_KEY:-}" ]; then
    export COMANDA_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
fi
serve_args=(--data-dir "$scratch" serve --listen "127.0.0.1:$port")
if [ -n "$database" ]; then
    serve_args=(--database-url "sqlite://$database" "${serve_args[@]}")
fi
COMANDA_LOG=warn "$bin" "${serve_args[@]}" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }
token=$(curl -fsS -H 'content-type: application/json' \
    -d "{\"login\":\"$login\",\"password\":\"$password\"}" \
    "http://127.0.0.1:$port/api/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "could not sign in" >&2; exit 1; }
etag=$(curl -fsS -D - -o /dev/null -H "authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/stores/$store/catalog/menu" | sed -n 's/^etag: *//Ip' | tr -d '\r')

cat >"$work/orders.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("ORDER_PATHS")) do paths[#paths + 1] = line end
local auth = { ["authorization"] = "Bearer " .. os.getenv("TOKEN") }
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
request = function()
    return wrk.format("GET", paths[math.random(#paths)], auth)
end
LUA
cat >"$work/errors.lua" <<'LUA'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("non-2xx/3xx: %d, socket errors: %d\n",
        e.status, e.connect + e.read + e.write + e.timeout))
end
LUA

base="http://127.0.0.1:$port/api/v1/stores/$store"
run() {
    local name=$1 url=$2 script=${3:-}
    local args=(-t "$threads" -c "$connections" -d "$duration" --latency -H "authorization: Bearer $token")
    [ -n "${4:-}" ] && args+=(-H "$4")
    if [ -n "$script" ]; then
        cat "$script" "$work/errors.lua" >"$work/run.lua"
    else
        cp "$work/errors.lua" "$work/run.lua"
    fi
    ORDER_PATHS=$paths TOKEN=$token wrk "${args[@]}" -s "$work/run.lua" "$url" >"$work/$name.txt"
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
    errors=$(sed -n 's/^non-2xx\/3xx: \([0-9]*\), socket errors: \([0-9]*\)/\1 + \2/p' "$work/$name.txt")
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "$errors"
}

echo
echo "wrk, $connections connections, $threads threads, $duration per read, $orders orders in $stores stores"
echo
echo "| read | requests/s | p50 | p99 | errors (status + socket) |"
echo "|---|---|---|---|---|"
run "get an order" "http://127.0.0.1:$port/" "$work/orders.lua"
run "open orders" "$base/orders?status=open,sent"
run "floor" "$base/tables"
run "grill tickets" "$base/kds/grill/tickets"
run "menu (304)" "$base/catalog/menu" "" "if-none-match: $etag"
run "X report" "$base/reports/x"
if command -v oha >/dev/null; then
    sed "s|^|http://127.0.0.1:$port|" "$paths" >"$work/order-urls.txt"
    oha --no-tui -u ms -z "$duration" -c "$connections" -q "$rate" --latency-correction \
        --urls-from-file -H "authorization: Bearer $token" "$work/order-urls.txt" >"$work/paced.txt"
    percentile() { awk -v p="$1%" '$1 == p {print $3 " ms"}' "$work/paced.txt"; }
    echo
    echo "oha, $connections connections, get an order at $rate/s for $duration (latency corrected):"
    echo "requests/s $(awk '/Requests\/sec:/ {print $2}' "$work/paced.txt"), p50 $(percentile 50.00), p99 $(percentile 99.00), p99.9 $(percentile 99.90)"
    echo "answers: $(awk '/^Status code distribution/ {on = 1; next} on && /\[/ {printf "%s%s %s", sep, $1, $2; sep = ", "} on && !/\[/ {on = 0}' "$work/paced.txt"); $(awk '/Success rate:/ {print $3}' "$work/paced.txt") of requests answered"
fi
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$server/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server/status")
echo
echo "server resident memory: $((rss / 1024)) MiB now, $((hwm / 1024)) MiB at most"
