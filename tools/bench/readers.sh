#!/usr/bin/env bash
# Reader benchmark: how fast the subtitle reader turns SRT and WebVTT files into dialogue-window records, on
# one core. See tools/bench/README.md.
#
# Usage: bash tools/bench/readers.sh
#
# Environment (all optional):
#   REFINERY_BENCH_DIR     work folder for the corpus, spec and output  (default /tmp/refinery-bench)
#   REFINERY_BENCH_SUB_MB  size of the generated subtitle corpus, MB    (default 300)
#   REFINERY_BENCH_CORE    the core the run is pinned to                 (default 0)
#   REFINERY_BENCH_REPEAT  runs; the fastest is kept                     (default 3)
#
# "parse" is the worker time of the read phase as the run's stats.json reports it (decode: text decoding, cue
# parsing, markup cleaning, windowing, record building), so it excludes disk reads, validation and zstd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DIR="${REFINERY_BENCH_DIR:-/tmp/refinery-bench}"
SIZE_MB="${REFINERY_BENCH_SUB_MB:-300}"
CORE="${REFINERY_BENCH_CORE:-0}"
REPEAT="${REFINERY_BENCH_REPEAT:-3}"
SCRATCH=".build-bench"
TARGET_MBPS=150

log() { echo "readers: $*" >&2; }

bash "$(dirname "$0")/../install-deps.sh" --bench
log "building: swift build -c release --product refinery --scratch-path $SCRATCH"
(cd "$ROOT" && swift build -c release --product refinery --scratch-path "$SCRATCH" >&2)
BIN="$(cd "$ROOT" && swift build -c release --product refinery --scratch-path "$SCRATCH" --show-bin-path)/refinery"

CORPUS="$BENCH_DIR/subtitles-${SIZE_MB}mb"
if [ ! -f "$CORPUS/.complete" ]; then
  rm -rf "$CORPUS"
  python3 "$ROOT/tools/bench/gen_subtitles.py" "$CORPUS" "$SIZE_MB" >&2
  touch "$CORPUS/.complete"
fi
SPEC="$BENCH_DIR/readers.yaml"
cat > "$SPEC" <<YAML
name: readers-bench
sources:
  - name: subs
    kind: subtitles
    glob: $CORPUS/*
    category: subtitles
output:
  dir: $BENCH_DIR/out-readers
  dataset: readers-bench
YAML

best_parse=0; best_run=0; best_rss=0
for round in $(seq 1 "$REPEAT"); do
  /usr/bin/time -f "%M" -o "$BENCH_DIR/readers.rss" taskset -c "$CORE" "$BIN" run "$SPEC" --workers 1 --force --log-level warning >/dev/null
  read -r parse run records <<<"$(python3 - "$BENCH_DIR/out-readers" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1] + "/stats.json"))
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
mb = stats["input_bytes"] / 1e6
print(f'{mb / stats["worker_seconds"]["decode"]:.1f} {mb / stats["seconds"]:.1f} {manifest["totals"]["written"]}')
PY
)"
  rss=$(( $(cat "$BENCH_DIR/readers.rss") / 1024 ))
  log "round $round: parse $parse MB/s, whole run $run MB/s, $records windows, peak RSS $rss MiB"
  if awk "BEGIN{exit !($parse > $best_parse)}"; then best_parse=$parse; best_run=$run; best_rss=$rss; fi
done
verdict=$(awk "BEGIN{print ($best_parse >= $TARGET_MBPS) ? \"PASS\" : \"MISS\"}")
echo "| corpus | parse MB/s, 1 core | whole run MB/s, 1 core | peak RSS |"
echo "|---:|---:|---:|---:|"
echo "| ${SIZE_MB} MB SRT+WebVTT | $best_parse | $best_run | $best_rss MiB |"
echo "$verdict: subtitle parsing >= $TARGET_MBPS MB/s per core (fastest of $REPEAT rounds)"
