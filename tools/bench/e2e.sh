#!/usr/bin/env bash
# End-to-end benchmark (issue 10): the full seven-stage Refinery pipeline on a mixed corpus at one or more sizes,
# how its wall time, memory and stage costs grow with size, and datatrove's closest pipeline beside it on a smaller
# comparison corpus, measured in the same session. See tools/bench/README.md, "End-to-end benchmark".
#
# Usage: bash tools/bench/e2e.sh          (or `make bench`)
#
# Environment (all optional):
#   REFINERY_BENCH_SIZES        corpus sizes in decimal MB for the Refinery runs          (default "1000"; "100 1000 5000")
#   REFINERY_BENCH_COMPARE_MB   size of the comparison corpus Refinery and datatrove both run on; 0: no datatrove (default 50)
#   REFINERY_BENCH_COMPARE_FILE_MB  largest file of the comparison corpus, MiB: datatrove splits work by file (default 2)
#   REFINERY_BENCH_WORKERS      Refinery's --workers and datatrove's workers and tasks   (default 2)
#   REFINERY_BENCH_LID_MODEL    a local lid.176.bin for datatrove's LanguageFilter (without it, and offline, it is skipped)
#   REFINERY_BENCH_REPEAT       rounds; each run keeps its fastest                       (default 1)
#   REFINERY_BENCH_IDLE_WAIT    seconds to wait for an idle machine before each run      (default 60)
#   REFINERY_BENCH_RETRIES      extra Refinery runs allowed when other processes disturbed one (default 1; datatrove: 0)
#   REFINERY_BENCH_DIR          work folder; this benchmark uses $REFINERY_BENCH_DIR/e2e  (default /tmp/refinery-bench)
#   REFINERY_BENCH_SEED, REFINERY_BENCH_SCRATCH   as for the other benchmarks (common.sh)
#
# Per size: `refinery run SPEC --workers N --force` under /usr/bin/time -v (wall, user + sys, peak RSS) and the
# dataset's stats.json (worker seconds per stage) and manifest.json (bytes into each stage).
# Comparison: per round, Refinery, then datatrove (tools/bench/datatrove_e2e.py), then Refinery again, all on the
# comparison corpus, so that both tools see the machine in the same state; the ratio is taken from these runs. Then
# Refinery once more with `--workers 1`, and the shards and manifests of the 1-worker and N-worker runs are compared
# byte for byte (on the smallest size instead when there is no comparison).
#
# Writes $REFINERY_BENCH_DIR/e2e/results.{md,json,html} (tools/bench/e2e_report.py) and prints the markdown.
# Exits non-zero when a run fails or the 1-worker and N-worker outputs differ.
set -euo pipefail

BENCH_NAME=e2e
BENCH_DEFAULT_REPEAT=1
BENCH_DEFAULT_IDLE_WAIT=60
BENCH_DEFAULT_RETRIES=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_settings
SIZES="${REFINERY_BENCH_SIZES:-1000}"
COMPARE_MB="${REFINERY_BENCH_COMPARE_MB:-50}"
COMPARE_FILE_MB="${REFINERY_BENCH_COMPARE_FILE_MB:-2}"
WORKERS="${REFINERY_BENCH_WORKERS:-2}"
LID_MODEL="${REFINERY_BENCH_LID_MODEL:-}"
OUT="$BENCH_DIR/e2e"
RUNS="$OUT/runs"
MEASUREMENTS="$RUNS/measurements.jsonl"

# The bench corpus: documents, chats and subtitle windows in 19 languages, with planted duplicates, PII, toxic and
# garbage records, and a skewed category mix (gen_corpus.py's docstring; the rates are in the README).
CORPUS_OPTIONS=(--langs multilingual --pii-rate 0.05 --junk-rate 0.03 --punctuate --subtitle-share 0.15
                --dup-rate 0.08 --toxic-rate 0.02 --skew-categories)
CORPUS_KEYS_E2E="langs=multilingual pii_rate=0.05 junk_rate=0.03 punctuate=true subtitle_share=0.15 dup_rate=0.08"
CORPUS_KEYS_E2E="$CORPUS_KEYS_E2E toxic_rate=0.02 skew_categories=true"

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "e2e: unknown argument '$1' (settings are environment variables; see --help)" >&2; exit 64 ;;
esac
for size in $SIZES $COMPARE_MB; do
  awk -v s="$size" 'BEGIN { exit !(s ~ /^[0-9]+(\.[0-9]+)?$/) }' || { echo "e2e: '$size' is not a size in MB" >&2; exit 64; }
done
started_all=$(now)

# ---------------------------------------------------------------------------------------------- tools --
bench_install_deps
bench_require swift python3 sha256sum awk
bench_build refinery
log "measuring $BIN built from $BUILT"
mkdir -p "$RUNS"
: >"$MEASUREMENTS"

# write_spec FOLDER CORPUS: the seven-stage spec over CORPUS in FOLDER/spec.yaml (output in FOLDER/dataset).
write_spec() {
  mkdir -p "$1"
  cat >"$1/spec.yaml" <<EOF
# Written by tools/bench/e2e.sh: the seven stages over $2.
name: e2e-bench
sources:
  - {name: chats, kind: chat_jsonl, glob: $2/chats/*.jsonl, category: chat}
  - {name: docs, kind: jsonl, glob: $2/docs/*.jsonl}
  - {name: subtitles, kind: jsonl, glob: $2/subtitles/*.jsonl}
stages:
  - validate: {}
  - lang: {}
  - pii: {}
  - quality: {}
  - toxicity: {}
  - dedup: {}
  - balance: {temperature: 0.5}
output: {dir: dataset, dataset: e2e-bench, shard_size: 64MiB, zstd_level: 3, validation_fraction: 0.05}
EOF
}

# record KIND ROUND SIZE FOLDER DATATROVE_JSON: appends the run just measured (times, peak RSS, and the dataset's
# stats.json, per-stage counters and category mix; or, when DATATROVE_JSON is not empty, datatrove's result) to
# MEASUREMENTS.
record() {
  python3 - "$MEASUREMENTS" "$@" "$LAST_WALL" "$LAST_USER" "$LAST_SYS" "$LAST_OTHER" "$LAST_FLAGGED" "$LAST_RSS" <<'EOF'
import json, os, sys
out, kind, round_, size, folder, datatrove = sys.argv[1:7]
wall, user, sys_, other, flagged, rss = sys.argv[7:]
line = {"kind": kind, "round": int(round_), "size_mb": float(size), "folder": folder, "wall": float(wall),
        "user": float(user), "sys": float(sys_), "other": float(other), "flagged": flagged == "1", "rss_kib": int(rss)}
if datatrove:
    line["datatrove"] = json.load(open(datatrove))
else:
    dataset = os.path.join(folder, "dataset")
    line["stats"] = json.load(open(os.path.join(dataset, "stats.json")))
    manifest = json.load(open(os.path.join(dataset, "manifest.json")))
    line["stages"] = {s["name"]: {k: s.get(k) for k in ("records_in", "records_out", "bytes_in", "bytes_out", "dropped",
                                                        "events")} for s in manifest["stages"]}
    line["written"] = manifest["totals"]
    line["categories"] = manifest.get("category_mix", {})
with open(out, "a") as f:
    f.write(json.dumps(line) + "\n")
EOF
}

# refinery_run KEY KIND ROUND SIZE FOLDER WORKERS: one measured `refinery run`, from a clean folder (no dataset, no
# catalog or dedup index of an earlier round), input in the page cache.
refinery_run() {
  local key=$1 kind=$2 round=$3 size=$4 folder=$5 workers=$6
  PRE_RUN="rm -rf \"$folder/dataset\" \"$folder/catalog.sqlite\"* \"$folder/dedup-index\" \"$folder/.locks\"; sync; cat \"\${FILES[@]}\" >/dev/null"
  DATASET="$folder/dataset" measure "$key" "$folder" -- "$BIN" run "$folder/spec.yaml" --workers "$workers" --force
  LAST_RSS=$(time_field "$folder/run.time" "Maximum resident set size")
  record "$kind" "$round" "$size" "$folder" ""
}

# corpus_files CORPUS: FILES, the corpus's input files (for the page-cache warm-up).
corpus_files() { mapfile -t FILES < <(find "$1/chats" "$1/docs" "$1/subtitles" -name '*.jsonl' | sort); }

# same_output MB WHICH DIR_A DIR_B: compares the shards and manifest.json of two datasets byte for byte (sha256), as
# spine.sh does, and notes the verdict in DETERMINISM.
DETERMINISM="$RUNS/determinism.tsv"
: >"$DETERMINISM"
same_output() {
  local label=$1 which=$2 a=$3 b=$4 files
  for dir in "$a" "$b"; do
    (cd "$dir/dataset" && find . \( -name '*.jsonl.zst' -o -name manifest.json \) -print0 | sort -z \
      | xargs -0 sha256sum) >"$dir/sha256.txt"
  done
  files=$(wc -l <"$a/sha256.txt")
  if cmp -s "$a/sha256.txt" "$b/sha256.txt"; then
    log "${label} MB: 1-worker and $WORKERS-worker outputs are byte-identical ($files files)"
    printf '%s\t%s\t%s\t%s\n' "$label" yes "$files" "$which" >>"$DETERMINISM"
  else
    log "${label} MB: 1-worker and $WORKERS-worker outputs DIFFER:"
    diff "$a/sha256.txt" "$b/sha256.txt" >&2 || true
    printf '%s\t%s\t%s\t%s\n' "$label" NO "$files" "$which" >>"$DETERMINISM"
  fi
}
# Where the 1-worker run for that check goes: the comparison corpus (small, and split into many files), or without
# one the smallest size.
if awk -v m="$COMPARE_MB" 'BEGIN { exit !(m > 0) }'; then CHECK_SIZE=""; else
  CHECK_SIZE=$(tr ' ' '\n' <<<"$SIZES" | grep . | sort -g | head -1); fi
[ "$WORKERS" != 1 ] || CHECK_SIZE=none

# ---------------------------------------------------------------------------------------------- sizes --
for SIZE in $SIZES; do
  CORPUS="$BENCH_DIR/corpus/e2e-${SIZE}mb"
  CORPUS_KEYS="$CORPUS_KEYS_E2E" ensure_corpus "$CORPUS" "$SIZE" "${CORPUS_OPTIONS[@]}"
  corpus_files "$CORPUS"
  FOLDER="$RUNS/${SIZE}mb"
  rm -rf "$FOLDER"
  write_spec "$FOLDER/w$WORKERS" "$CORPUS"
  T_WALL=() T_USER=() T_SYS=() T_OTHER=() T_RSS=() T_FLAGGED=()
  RETRY_LEFT=([main]=$RETRIES [w1]=$RETRIES)
  for ((round = 1; round <= REPEAT; round++)); do
    log "${SIZE} MB, round $round of $REPEAT: refinery run --workers $WORKERS"
    refinery_run main size "$round" "$SIZE" "$FOLDER/w$WORKERS" "$WORKERS"
  done
  if [ "$SIZE" = "$CHECK_SIZE" ]; then
    log "${SIZE} MB: refinery run --workers 1, for the determinism check"
    write_spec "$FOLDER/w1" "$CORPUS"
    refinery_run w1 size_w1 1 "$SIZE" "$FOLDER/w1" 1
    same_output "$SIZE" "corpus" "$FOLDER/w1" "$FOLDER/w$WORKERS"
  fi
done

# ----------------------------------------------------------------------------------------- comparison --
DATATROVE_SKIPPED=""
if [ -z "$CHECK_SIZE" ]; then
  # The same generator, seed and options as the corpora above, so each source is a prefix of theirs; smaller files,
  # because datatrove's tasks split the input by file.
  CORPUS="$BENCH_DIR/corpus/e2e-compare-${COMPARE_MB}mb"
  CORPUS_KEYS="$CORPUS_KEYS_E2E file_mb=$COMPARE_FILE_MB" ensure_corpus "$CORPUS" "$COMPARE_MB" "${CORPUS_OPTIONS[@]}" \
    --file-mb "$COMPARE_FILE_MB"
  corpus_files "$CORPUS"
  FOLDER="$RUNS/compare-${COMPARE_MB}mb"
  rm -rf "$FOLDER"
  write_spec "$FOLDER/refinery" "$CORPUS"
  mkdir -p "$FOLDER/datatrove"
  if ! datatrove_install "$FOLDER/pip.log"; then
    log "comparison: Refinery only ($DATATROVE_SKIPPED)"
  fi
  T_WALL=() T_USER=() T_SYS=() T_OTHER=() T_RSS=() T_FLAGGED=()
  RETRY_LEFT=([refinery]=$RETRIES [datatrove]=0 [w1]=$RETRIES)
  for ((round = 1; round <= REPEAT; round++)); do
    log "comparison, ${COMPARE_MB} MB, round $round of $REPEAT: refinery, datatrove, refinery (workers $WORKERS each)"
    refinery_run refinery compare_refinery "$round" "$COMPARE_MB" "$FOLDER/refinery" "$WORKERS"
    if [ -z "$DATATROVE_SKIPPED" ]; then
      dt_out="$FOLDER/datatrove/result-$round.json"
      PRE_RUN="sync; cat \"\${FILES[@]}\" >/dev/null"
      DATASET="" measure datatrove "$FOLDER/datatrove" -- "$DATATROVE_VENV/bin/python" "$ROOT/tools/bench/datatrove_e2e.py" \
        "$CORPUS" --work "$FOLDER/datatrove/work" --workers "$WORKERS" --out "$dt_out" ${LID_MODEL:+--lid-model "$LID_MODEL"}
      LAST_RSS=$(time_field "$FOLDER/datatrove/run.time" "Maximum resident set size")
      record compare_datatrove "$round" "$COMPARE_MB" "$FOLDER/datatrove" "$dt_out"
      refinery_run refinery compare_refinery "$round" "$COMPARE_MB" "$FOLDER/refinery" "$WORKERS"
    fi
  done
  if [ "$WORKERS" != 1 ]; then
    log "comparison, ${COMPARE_MB} MB: refinery run --workers 1, for the determinism check"
    write_spec "$FOLDER/w1" "$CORPUS"
    refinery_run w1 compare_w1 1 "$COMPARE_MB" "$FOLDER/w1" 1
    same_output "$COMPARE_MB" "comparison corpus" "$FOLDER/w1" "$FOLDER/refinery"
  fi
else
  DATATROVE_SKIPPED="REFINERY_BENCH_COMPARE_MB=0: no comparison"
fi

# ------------------------------------------------------------------------------------------- results --
MACHINE="$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) core(s), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
python3 "$ROOT/tools/bench/e2e_report.py" --measurements "$MEASUREMENTS" --determinism "$DETERMINISM" \
  --corpora "$BENCH_DIR/corpus" --sizes "$SIZES" --compare-mb "$COMPARE_MB" --workers "$WORKERS" --repeat "$REPEAT" \
  --built "$BUILT" --machine "$MACHINE" --disturbed "$DISTURBED" --datatrove-skipped "$DATATROVE_SKIPPED" \
  --elapsed "$(awk -v a="$started_all" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')" \
  --out "$OUT/results"
echo
cat "$OUT/results.md"
echo
log "results: $OUT/results.md, $OUT/results.json, $OUT/results.html; runs, specs and logs under $RUNS"
if cut -f2 "$DETERMINISM" | grep -qx NO; then die "outputs differ between 1 and $WORKERS workers"; fi
