#!/usr/bin/env bash
# The server's key metrics over a benchmark run, as Prometheus recorded them: starts the release
# server with --metrics-addr and a Prometheus of its own scraping it every second (both on
# loopback), runs scenarios (a) and (e) of the fan-out benchmark against it, then asks
# Prometheus for what it recorded and draws docs/metrics.svg.
#
#   bench/metrics-picture.sh            # needs target/release/{server,loadgen} (cargo build --release)
#
# Everything runs on loopback and stops by itself.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
apt_need curl
scripts/prometheus.sh install >&2

OUT=target/bench/metrics
rm -rf "$OUT" && mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"
PORT=39500 METRICS=39501 PROM=39502
if [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); else SERVER_CPU=(); LOAD_CPU=(); fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"${SERVER_CPU[@]}" target/release/server --addr "127.0.0.1:$PORT" --data-dir "$OUT/data" \
  --metrics-addr "127.0.0.1:$METRICS" \
  --messages-per-second 1000000 --message-burst 1000000 --max-connections-per-address 1000000 \
  --new-rooms-per-hour 1000000 --new-sessions-per-minute 1000000 >"$OUT/server.log" 2>&1 &
server=$!
pids+=("$server")
cat >"$OUT/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: chat
    static_configs:
      - targets: ['127.0.0.1:$METRICS']
YML
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/tsdb" \
  --web.listen-address="127.0.0.1:$PROM" >"$OUT/prometheus.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PROM/-/ready" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

start=$(date +%s)
sleep 3
"${LOAD_CPU[@]}" target/release/loadgen run --target "127.0.0.1:$PORT" --server-pid "$server" \
  --label chat --scenarios a,e --out "$OUT/results.jsonl" >&2
sleep 5
end=$(date +%s)

# What Prometheus recorded, one query each over the run.
query() { # file promql
  curl -fsG "http://127.0.0.1:$PROM/api/v1/query_range" --data-urlencode "query=$2" \
    --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=1" >"$OUT/$1.json"
}
query connections 'sum(chat_connections)'
query deliveries 'rate(chat_deliveries_total[3s])'
query bytes 'rate(chat_sent_bytes_total[3s])'
query stored 'rate(chat_messages_stored_total[3s])'
query commit_p99 'histogram_quantile(0.99, rate(chat_commit_duration_seconds_bucket[3s]))'
query batch 'rate(chat_commit_batch_size_sum[3s]) / rate(chat_commit_batch_size_count[3s])'
python3 bench/metrics_picture.py "$OUT" docs/metrics.svg "$(date -u +%F)"
echo "wrote docs/metrics.svg" >&2
