#!/usr/bin/env bash
# Spine benchmark: read -> validate -> shard throughput and peak memory of `refinery run`, against the same
# machine's `zstd -3` on the same input, measured in the same run. See tools/bench/README.md.
#
# Usage: bash tools/bench/spine.sh
#
# Environment (all optional):
#   REFINERY_BENCH_DIR      work folder for corpora, specs and outputs   (default /tmp/refinery-bench)
#   REFINERY_BENCH_RESULTS  where the markdown results are written       (default $REFINERY_BENCH_DIR/results.md)
#   REFINERY_BENCH_SIZES    corpus sizes in decimal MB                   (default "200 1000")
#   REFINERY_BENCH_SEED     corpus seed                                  (default 20261122)
#   REFINERY_BENCH_CORE     the core the 1-core runs are pinned to       (default 0)
#   REFINERY_BENCH_WORKERS  workers of the unpinned run                  (default 2)
#   REFINERY_BENCH_REPEAT   rounds of the three runs; each keeps its fastest (default 3)
#   REFINERY_BENCH_IDLE_WAIT  seconds to wait before each measurement for the machine to be idle (default 300)
#   REFINERY_BENCH_RETRIES  extra runs allowed when other processes disturbed a measurement  (default 3)
#   REFINERY_BENCH_SCRATCH  SwiftPM scratch path of the release build (default .build-bench, never .build)
#
# The CPU time other processes used during each measurement is measured (/proc/stat minus our own processes'
# user+sys); a measurement where it exceeds 0.5 s and 3 % of the wall time is run again, up to RETRIES times,
# and flagged in the results if it still is.
#
# Exits non-zero when a run fails or the 1-worker and N-worker outputs differ. Missing a performance target
# is reported (PASS/MISS lines) but does not fail the script.
set -euo pipefail

BENCH_NAME=spine
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_settings
RESULTS="${REFINERY_BENCH_RESULTS:-$BENCH_DIR/results.md}"
SIZES="${REFINERY_BENCH_SIZES:-200 1000}"
WORKERS="${REFINERY_BENCH_WORKERS:-2}"
TARGET_MBPS=60                  # refinery, 1 core, MB of input per second
RSS_GROWTH_LIMIT=1.10           # peak RSS at the largest size / peak RSS at the smallest size

# ---------------------------------------------------------------------------------------------- tools --
bench_install_deps
bench_require swift python3 zstd taskset sha256sum awk
bench_check_core "$CORE"

# ---------------------------------------------------------------------------------------------- build --
bench_build refinery
log "measuring $BIN built from $BUILT"

mkdir -p "$BENCH_DIR" "$(dirname "$RESULTS")"
ROWS="$BENCH_DIR/rows.tsv"
DETAILS="$BENCH_DIR/details.tsv"
: >"$ROWS"
: >"$DETAILS"

# -------------------------------------------------------------------------------------------- helpers --
# (corpus_ok, stat_field, wait_idle, measure, mbps, mib: tools/bench/common.sh)

# detail_row KEY SIZE LABEL [RUNDIR]: appends KEY's fastest run's details (and its stats.json timings).
detail_row() {
  local key=$1 cpu_mbps stats="-\t-\t-\t-\t-"
  cpu_mbps=$(awk -v b="$INPUT_BYTES" -v u="${T_USER[$key]}" -v s="${T_SYS[$key]}" 'BEGIN { printf "%.1f", b / 1e6 / (u + s) }')
  if [ -n "${4:-}" ]; then
    local f="$4/stats.fastest.json"
    stats="$(stat_field "$f" seconds)\t$(stat_field "$f" reader_seconds)\t$(stat_field "$f" worker_seconds.decode)"
    stats="$stats\t$(stat_field "$f" worker_seconds.validate)\t$(stat_field "$f" worker_seconds.serialize_compress)"
  fi
  local other=${T_OTHER[$key]}
  if [ "${T_FLAGGED[$key]}" = 1 ]; then other="$other (disturbed)"; fi
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t$stats\t%s\n" "$2" "$3" "${T_WALL[$key]}" "${T_USER[$key]}" "${T_SYS[$key]}" \
    "$cpu_mbps" "${T_RSS[$key]}" "$other" >>"$DETAILS"
}

# ------------------------------------------------------------------------------------------- per size --
for SIZE in $SIZES; do
  CORPUS="$BENCH_DIR/corpus/${SIZE}mb"
  ensure_corpus "$CORPUS" "$SIZE"
  mapfile -t FILES < <(find "$CORPUS/chats" "$CORPUS/docs" -name '*.jsonl' | sort)
  INPUT_BYTES=$(cat "${FILES[@]}" | wc -c)
  INPUT_MB=$(awk -v b="$INPUT_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')

  # Both runs use the same spec text with a relative output dir, each in its own folder, so their manifests
  # (which embed the spec and the input paths relative to the spec) can be compared byte for byte.
  RUNS="$BENCH_DIR/runs/${SIZE}mb"
  rm -rf "$RUNS"
  mkdir -p "$RUNS/zstd" "$RUNS/w1" "$RUNS/w$WORKERS"
  for run in w1 "w$WORKERS"; do
    cat >"$RUNS/$run/spec.yaml" <<EOF
# Written by tools/bench/spine.sh: the spine benchmark over the ${SIZE} MB corpus.
name: spine-bench
sources:
  - name: chats
    kind: chat_jsonl
    glob: $CORPUS/chats/*.jsonl
    category: chat
  - name: docs
    kind: jsonl
    glob: $CORPUS/docs/*.jsonl
stages:
  - validate: {}
output:
  dir: dataset
  dataset: spine-bench
  shard_size: 64MiB
  zstd_level: 3
  validation_fraction: 0.05
EOF
  done

  # Every measurement starts with the input in the page cache and no dirty pages of an earlier run left to
  # write back, so none of them pays for the disk or for another run.
  # Rounds run zstd and both refinery runs one after the other, so that all three see the machine in about
  # the same state; each keeps its fastest run.
  T_WALL=() T_USER=() T_SYS=() T_OTHER=() T_RSS=() T_FLAGGED=()
  RETRY_LEFT=([zstd]=$RETRIES [w1]=$RETRIES [wn]=$RETRIES)
  PAIRED=""
  for ((round = 1; round <= REPEAT; round++)); do
    log "${SIZE} MB, round $round of $REPEAT: zstd -3 -T1 (core $CORE); refinery --workers 1 (core $CORE); refinery --workers $WORKERS"
    PRE_RUN='sync; cat "${FILES[@]}" >/dev/null'
    STDIN_CAT=1 measure zstd "$RUNS/zstd" -- taskset -c "$CORE" zstd -3 -T1 -c
    zstd_wall=$LAST_WALL
    PRE_RUN='rm -rf "$RUNS/w1/dataset"; sync; cat "${FILES[@]}" >/dev/null'
    DATASET="$RUNS/w1/dataset" measure w1 "$RUNS/w1" -- \
      taskset -c "$CORE" "$BIN" run "$RUNS/w1/spec.yaml" --workers 1 --force
    # The ratio of this round's pair: refinery MB/s / zstd MB/s = zstd seconds / refinery seconds.
    PAIRED="$PAIRED $(awk -v z="$zstd_wall" -v r="$LAST_WALL" 'BEGIN { printf "%.2f", z / r }')"
    PRE_RUN='rm -rf "$RUNS/w$WORKERS/dataset"; sync; cat "${FILES[@]}" >/dev/null'
    DATASET="$RUNS/w$WORKERS/dataset" measure wn "$RUNS/w$WORKERS" -- \
      "$BIN" run "$RUNS/w$WORKERS/spec.yaml" --workers "$WORKERS" --force
  done
  detail_row zstd "$SIZE" "zstd -3 -T1 (core $CORE)"
  detail_row w1 "$SIZE" "refinery --workers 1 (core $CORE)" "$RUNS/w1"
  detail_row wn "$SIZE" "refinery --workers $WORKERS" "$RUNS/w$WORKERS"
  ZSTD_WALL=${T_WALL[zstd]} ZSTD_RSS=${T_RSS[zstd]}
  W1_WALL=${T_WALL[w1]} W1_RSS=${T_RSS[w1]}
  WN_WALL=${T_WALL[wn]} WN_RSS=${T_RSS[wn]}

  # Same shards and manifest whatever the number of workers.
  for run in w1 "w$WORKERS"; do dataset_checksums "$RUNS/$run/dataset" "$RUNS/$run/sha256.txt"; done
  if cmp -s "$RUNS/w1/sha256.txt" "$RUNS/w$WORKERS/sha256.txt"; then
    IDENTICAL="yes ($(wc -l <"$RUNS/w1/sha256.txt") files)"
    log "${SIZE} MB: 1-worker and $WORKERS-worker outputs are byte-identical ($(wc -l <"$RUNS/w1/sha256.txt") files)"
  else
    IDENTICAL="NO"
    log "${SIZE} MB: 1-worker and $WORKERS-worker outputs DIFFER:"
    diff "$RUNS/w1/sha256.txt" "$RUNS/w$WORKERS/sha256.txt" >&2 || true
  fi

  ZSTD_MBPS=$(mbps "$INPUT_BYTES" "$ZSTD_WALL")
  W1_MBPS=$(mbps "$INPUT_BYTES" "$W1_WALL")
  WN_MBPS=$(mbps "$INPUT_BYTES" "$WN_WALL")
  RATIO=$(awk -v a="$W1_MBPS" -v b="$ZSTD_MBPS" 'BEGIN { printf "%.2f", a / b }')
  # Median and range of the per-round ratios.
  PAIRED_SUMMARY=$(tr ' ' '\n' <<<"$PAIRED" | grep . | sort -n | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SIZE" "$INPUT_MB" "$ZSTD_MBPS" "$W1_MBPS" "$RATIO" "$WN_MBPS" \
    "$ZSTD_RSS" "$W1_RSS" "$WN_RSS" "$IDENTICAL" "$PAIRED_SUMMARY" >>"$ROWS"
  log "${SIZE} MB: zstd $ZSTD_MBPS MB/s, refinery 1 core $W1_MBPS MB/s (ratio $RATIO; per round:$PAIRED), $WORKERS workers $WN_MBPS MB/s"
done

# -------------------------------------------------------------------------------------------- results --
{
  echo "# Spine benchmark: read -> validate -> shard"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); built from: $BUILT"
  echo "- machine: $(machine_description); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $(zstd --version | head -1 | sed 's/^\*\*\* //; s/ \*\*\*$//'); $(swift --version 2>&1 | head -1)"
  echo "- spec: chat_jsonl + jsonl sources, validate (defaults), shard_size 64MiB, zstd_level 3, validation_fraction 0.05"
  echo "- MB = 10^6 bytes of input files; MB/s = input MB / wall-clock seconds of the whole process (spec load, input fingerprinting, run, manifest), page cache warm, fastest of $REPEAT round(s); a run disturbed by other processes is retried (up to $RETRIES times per measurement)"
  echo "- zstd: \`cat FILES | taskset -c $CORE zstd -3 -T1 -c >/dev/null\`; refinery 1 core: \`taskset -c $CORE refinery run SPEC --workers 1 --force\`; refinery $WORKERS workers: \`refinery run SPEC --workers $WORKERS --force\`, not pinned"
  echo
  echo "| input MB | zstd -3 MB/s (1 core) | refinery MB/s (1 core) | ratio refinery/zstd | ratio per round: median (range) | refinery MB/s ($WORKERS workers) | peak RSS zstd (MiB) | peak RSS refinery 1 core (MiB) | peak RSS refinery $WORKERS workers (MiB) | 1-worker = $WORKERS-worker output |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  while IFS=$'\t' read -r size input zmbps w1 ratio wn zrss w1rss wnrss same paired; do
    echo "| $input | $zmbps | $w1 | $ratio | $paired | $wn | $(mib "$zrss") | $(mib "$w1rss") | $(mib "$wnrss") | $same |"
  done <"$ROWS"
  echo
  echo "MB/s columns: fastest round of each run; ratio = their quotient. Ratio per round: refinery (1 core) against the"
  echo "zstd run just before it, which saw the machine in the same state; its median is the steadier number on a noisy machine."
  echo
  echo "Where the time goes. Seconds; user and sys of the process (all threads); MB/s per CPU-s = input MB / (user + sys);"
  echo "engine, reader and the stage columns from the dataset's stats.json: worker seconds are wall time inside each"
  echo "step summed over workers, reader seconds include waits for free batch slots; other CPU-s = CPU time other"
  echo "processes used during the run:"
  echo
  echo "| input MB | run | wall | user | sys | MB/s per CPU-s | peak RSS (MiB) | engine | reader | decode | validate | serialize+compress | other CPU-s |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r size run wall user sys cpumbps rss engine reader decode validate compress other; do
    echo "| $size | $run | $wall | $user | $sys | $cpumbps | $(mib "$rss") | $engine | $reader | $decode | $validate | $compress | $other |"
  done <"$DETAILS"
  echo
  if [ "$DISTURBED" -gt 0 ]; then
    echo "**Warning: $DISTURBED run(s) were still disturbed by other processes after the retries and were kept; the"
    echo "table above uses such a run where the other CPU-s column says (disturbed), and its MB/s is too low.**"
    echo
  fi
  echo "Targets:"
  while IFS=$'\t' read -r size input zmbps w1 ratio wn zrss w1rss wnrss same paired; do
    verdict=$(awk -v a="$w1" -v t="$TARGET_MBPS" 'BEGIN { print (a >= t) ? "PASS" : "MISS" }')
    echo "- $verdict: ${input} MB, refinery on 1 core $w1 MB/s (target >= $TARGET_MBPS MB/s; $ratio x zstd -3, per round $paired)"
  done <"$ROWS"
  if [ "$(wc -l <"$ROWS")" -ge 2 ]; then
    first=$(head -1 "$ROWS"); last=$(tail -1 "$ROWS")
    for col in 8 9; do
      a=$(cut -f"$col" <<<"$first"); b=$(cut -f"$col" <<<"$last")
      label=$([ "$col" -eq 8 ] && echo "1 core" || echo "$WORKERS workers")
      growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
      verdict=$(awk -v g="$growth" -v l="$RSS_GROWTH_LIMIT" 'BEGIN { print (g <= l) ? "PASS" : "MISS" }')
      echo "- $verdict: peak RSS ($label) $(mib "$a") MiB at $(cut -f2 <<<"$first") MB -> $(mib "$b") MiB at $(cut -f2 <<<"$last") MB, x$growth (target: no growth, <= x$RSS_GROWTH_LIMIT)"
    done
  fi
  while IFS=$'\t' read -r size input zmbps w1 ratio wn zrss w1rss wnrss same paired; do
    verdict=$([ "$same" = NO ] && echo FAIL || echo PASS)
    echo "- $verdict: ${input} MB, shards and manifest.json of 1 and $WORKERS workers byte-identical (sha256): $same"
  done <"$ROWS"
} >"$RESULTS"

echo
cat "$RESULTS"
echo
log "results written to $RESULTS; runs, logs and /usr/bin/time outputs under $BENCH_DIR/runs"
if cut -f10 "$ROWS" | grep -qx NO; then die "outputs differ between 1 and $WORKERS workers"; fi
