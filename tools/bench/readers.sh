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
#   REFINERY_BENCH_SCRATCH SwiftPM scratch path of the release build (default .build-bench, never .build)
#
# Two measurements, both pinned to one core:
# - reader-bench (tools/bench/ReaderBench) over the corpus held in memory: "text" (bytes → UTF-8), "parse"
#   (text + cue parsing: the target), "reader" (parse + cleaning + dialogue windows + records);
# - `refinery run` on the corpus with no stages: "decode" is the read phase's worker time from stats.json (the
#   reader as the engine runs it), "whole run" adds disk reads, JSON serialisation and zstd.
set -euo pipefail

BENCH_NAME=readers
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_settings
SIZE_MB="${REFINERY_BENCH_SUB_MB:-300}"
TARGET_MBPS=150

bench_install_deps
bench_check_core "$CORE"
bench_build refinery reader-bench

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
log "reader-bench: $CORPUS, $REPEAT rounds, pinned to core $CORE"
PHASES="$(taskset -c "$CORE" "$BIN_DIR/reader-bench" "$CORPUS" "$REPEAT")"
log "reader-bench: $PHASES"
read -r text parse reader <<<"$(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); print(p["text_mb_s"], p["parse_mb_s"], p["reader_mb_s"])' "$PHASES")"
verdict=$(awk "BEGIN{print ($parse >= $TARGET_MBPS) ? \"PASS\" : \"MISS\"}")
echo "| corpus | text → UTF-8 | parse (cues) | whole reader (records) | decode in refinery run | whole run | peak RSS of run |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
echo "| ${SIZE_MB} MB SRT+WebVTT | $text MB/s | $parse MB/s | $reader MB/s | $best_parse MB/s | $best_run MB/s | $best_rss MiB |"
echo "$verdict: SRT/WebVTT parsing >= $TARGET_MBPS MB/s per core (reader-bench parse phase, fastest of $REPEAT rounds)"
