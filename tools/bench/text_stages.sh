#!/usr/bin/env bash
# Text-stage benchmark: how fast the `lang`, `pii`, `quality` and `toxicity` stages are on one core, alone and all
# four together, on a large mixed corpus (documents and chats in 19 languages, with PII and garbage), and, for
# scale, datatrove's equivalent filters on a sample of the same corpus. See tools/bench/README.md.
#
# Usage: bash tools/bench/text_stages.sh [--with-datatrove]
#
# Environment (all optional):
#   REFINERY_BENCH_TEXT_MB        corpus size in decimal MB                                  (default 200)
#   REFINERY_BENCH_TEXT_STAGES    the stages, in the order of the all-together run (default "lang pii quality toxicity")
#   REFINERY_BENCH_DATATROVE      1: also time datatrove's filters (as --with-datatrove)     (default 0)
#   REFINERY_BENCH_DATATROVE_MB   MB of corpus lines datatrove is timed on (evenly spaced; 0: all) (default 10)
#   REFINERY_BENCH_TEXT_RESULTS   the JSON results; the markdown goes beside it as .md (default $REFINERY_BENCH_DIR/text_stages.json)
#   REFINERY_BENCH_DIR            work folder: corpus (corpus/text-<N>mb), specs, datasets (runs/text-<N>mb) (default /tmp/refinery-bench)
#   REFINERY_BENCH_SEED           corpus seed                                                (default 20261122)
#   REFINERY_BENCH_CORE           the core every run is pinned to                            (default 0)
#   REFINERY_BENCH_REPEAT         rounds of the refinery runs; each stage keeps its fastest  (default 3)
#   REFINERY_BENCH_IDLE_WAIT      seconds to wait for an idle core before each run           (default 15)
#   REFINERY_BENCH_RETRIES        extra runs allowed per spec when other processes disturbed one (default 1)
#   REFINERY_BENCH_LONG_RUN       a spec whose run takes longer (s) is not run again in later rounds (default 60)
#   REFINERY_BENCH_SCRATCH        SwiftPM scratch path of the release build                  (default .build-bench)
#
# Refinery: `taskset -c CORE refinery run SPEC --workers 1 --force` on specs with `validate` only (the baseline),
# `validate` + each stage, and `validate, lang, pii, quality, toxicity`; a stage's speed is the text it received
# (its `bytes_in` in manifest.json: UTF-8 bytes of text or message contents) over its worker seconds in stats.json,
# fastest of the rounds. Only the pinned core is watched for other processes: the run waits for it to be idle and is
# run again when something else used it meanwhile (then kept, and flagged). A stage `refinery` does not know is skipped and shown as such. datatrove (PyPI 0.10.1, in
# the venv .build/bench-venv) is timed by tools/bench/datatrove_filters.py, pinned to the same core.
#
# Exits non-zero when a run fails. Missing a target is reported in the table, not an error.
set -euo pipefail

BENCH_NAME=text-stages
BENCH_DEFAULT_IDLE_WAIT=15
BENCH_DEFAULT_RETRIES=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_settings
BUSY_CPU="cpu$CORE"         # every run is pinned: only other work on that core disturbs it
MB="${REFINERY_BENCH_TEXT_MB:-200}"
LONG_RUN="${REFINERY_BENCH_LONG_RUN:-60}"
WITH_DATATROVE="${REFINERY_BENCH_DATATROVE:-0}"
DATATROVE_MB="${REFINERY_BENCH_DATATROVE_MB:-10}"
RESULTS_JSON="${REFINERY_BENCH_TEXT_RESULTS:-$BENCH_DIR/text_stages.json}"
RESULTS_MD="${RESULTS_JSON%.json}.md"
VENV="$DATATROVE_VENV"       # with DATATROVE_PACKAGES, installed by datatrove_install (common.sh)
read -r -a STAGES <<<"${REFINERY_BENCH_TEXT_STAGES:-lang pii quality toxicity}"   # in the all-four run's order (DESIGN.md)
STAGE_TARGET=50                       # MB/s per core, each stage
ALL_TARGET=20                         # MB/s per core, all four together

for arg in "$@"; do
  case "$arg" in
    --with-datatrove) WITH_DATATROVE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "text-stages: unknown argument '$arg' (use --with-datatrove)" >&2; exit 64 ;;
  esac
done

# ---------------------------------------------------------------------------------------------- tools --
bench_install_deps
bench_require swift python3 taskset awk
bench_check_core "$CORE"
bench_build refinery
log "measuring $BIN built from $BUILT"

# --------------------------------------------------------------------------------------------- corpus --
CORPUS="$BENCH_DIR/corpus/text-${MB}mb"
CORPUS_OPTIONS=(--langs multilingual --pii-rate 0.05 --junk-rate 0.03 --punctuate)
CORPUS_KEYS="langs=multilingual pii_rate=0.05 junk_rate=0.03 punctuate=true" ensure_corpus "$CORPUS" "$MB" "${CORPUS_OPTIONS[@]}"
mapfile -t FILES < <(find "$CORPUS/chats" "$CORPUS/docs" -name '*.jsonl' | sort)

RUNS="$BENCH_DIR/runs/text-${MB}mb"
rm -rf "$RUNS"
mkdir -p "$RUNS" "$(dirname "$RESULTS_JSON")"

# write_spec FOLDER STAGE...: a spec over the corpus with `validate` and the given stages, output in FOLDER/dataset.
write_spec() {
  local folder=$1 stage; shift
  mkdir -p "$folder"
  {
    echo "# Written by tools/bench/text_stages.sh."
    echo "name: text-stages-bench"
    echo "sources:"
    echo "  - {name: chats, kind: chat_jsonl, glob: $CORPUS/chats/*.jsonl, category: chat}"
    echo "  - {name: docs, kind: jsonl, glob: $CORPUS/docs/*.jsonl}"
    echo "stages:"
    echo "  - validate: {}"
    for stage in "$@"; do echo "  - $stage: {}"; done
    echo "output: {dir: dataset, dataset: text-stages-bench, zstd_level: 1}"
  } >"$folder/spec.yaml"
}

# ------------------------------------------------------------------------------- which stages exist --
# A dry run of a spec over a one-line input: a stage this build does not know fails it with "unknown stage".
PROBE="$RUNS/probe"
mkdir -p "$PROBE"
echo '{"text": "A short probe document, in English, for the dry run."}' >"$PROBE/probe.jsonl"
KNOWN=() SKIPPED=()
: >"$RUNS/skipped.tsv"
for stage in "${STAGES[@]}"; do
  printf 'name: probe\nsources:\n  - {name: probe, kind: jsonl, glob: probe.jsonl}\nstages:\n  - validate: {}\n  - %s: {}\noutput: {dir: out}\n' \
    "$stage" >"$PROBE/$stage.yaml"
  if (cd "$PROBE" && "$BIN" run "$stage.yaml" --dry-run >/dev/null 2>"$stage.log"); then
    KNOWN+=("$stage")
  elif grep -q "unknown stage" "$PROBE/$stage.log"; then
    log "skipping '$stage': this refinery does not know the stage ($(grep -o "unknown stage[^;]*; known stages: .*" "$PROBE/$stage.log" | head -1))"
    SKIPPED+=("$stage")
    printf '%s\t%s\n' "$stage" "refinery (built from $BUILT) does not know this stage yet" >>"$RUNS/skipped.tsv"
  else
    cat "$PROBE/$stage.log" >&2
    die "a dry run with the '$stage' stage failed (log: $PROBE/$stage.log)"
  fi
done
[ "${#KNOWN[@]}" -gt 0 ] || die "refinery knows none of the stages ${STAGES[*]}"

# ------------------------------------------------------------------------------------------ refinery --
CONFIGS=(base "${KNOWN[@]}" all)
write_spec "$RUNS/base"
for stage in "${KNOWN[@]}"; do write_spec "$RUNS/$stage" "$stage"; done
write_spec "$RUNS/all" "${KNOWN[@]}"

# record_round CONFIG ROUND: appends the run just kept (its stats.json, manifest stage counters and times) to
# RUNS/CONFIG/rounds.jsonl.
record_round() {
  python3 - "$RUNS/$1" "$2" "$LAST_WALL" "$LAST_USER" "$LAST_SYS" "$LAST_OTHER" "$LAST_FLAGGED" <<'EOF'
import json, os, sys
folder, round_, wall, user, sys_, other, flagged = sys.argv[1:]
dataset = os.path.join(folder, "dataset")
stats = json.load(open(os.path.join(dataset, "stats.json")))
manifest = json.load(open(os.path.join(dataset, "manifest.json")))
line = {"round": int(round_), "wall": float(wall), "user": float(user), "sys": float(sys_), "other": float(other),
        "flagged": flagged == "1", "stats": stats,
        "stages": {s["name"]: {k: s[k] for k in ("records_in", "records_out", "bytes_in", "bytes_out", "dropped")}
                   for s in manifest["stages"]}}
with open(os.path.join(folder, "rounds.jsonl"), "a") as f:
    f.write(json.dumps(line) + "\n")
EOF
}

RETRY_LEFT=()
for config in "${CONFIGS[@]}"; do RETRY_LEFT[$config]=$RETRIES; done
started=$(now)
for ((round = 1; round <= REPEAT; round++)); do
  log "round $round of $REPEAT: refinery --workers 1 on core $CORE, ${#CONFIGS[@]} specs (${CONFIGS[*]})"
  for config in "${CONFIGS[@]}"; do
    # A spec that takes minutes (a stage far from its target) is long enough to be steady: once is enough.
    if [ -n "${T_WALL[$config]:-}" ] && awk -v w="${T_WALL[$config]}" -v l="$LONG_RUN" 'BEGIN { exit !(w > l) }'; then
      log "  $config: not run again (its run took ${T_WALL[$config]}s, over REFINERY_BENCH_LONG_RUN=${LONG_RUN}s)"
      continue
    fi
    # Input in the page cache, no dirty pages of an earlier run left to write back.
    PRE_RUN='rm -rf "$RUNS/$config/dataset"; sync; cat "${FILES[@]}" >/dev/null'
    DATASET="$RUNS/$config/dataset" measure "$config" "$RUNS/$config" -- \
      taskset -c "$CORE" "$BIN" run "$RUNS/$config/spec.yaml" --workers 1 --force
    record_round "$config" "$round"
  done
done
log "refinery runs took $(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"

# ----------------------------------------------------------------------------------------- datatrove --
DATATROVE_JSON="$RUNS/datatrove.json"
DATATROVE_SKIPPED=""
if [ "$WITH_DATATROVE" = 1 ]; then
  if datatrove_install "$RUNS/pip.log"; then
    log "datatrove: timing its filters on ${DATATROVE_MB} MB of the corpus, pinned to core $CORE"
    wait_idle
    started=$(now)
    taskset -c "$CORE" "$VENV/bin/python" "$ROOT/tools/bench/datatrove_filters.py" "$CORPUS" --mb "$DATATROVE_MB" \
      --out "$DATATROVE_JSON" --badwords-dir "$ROOT/.build/toxicity-data/ldnoobw"
    log "datatrove took $(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
  fi
else
  DATATROVE_SKIPPED="not run: pass --with-datatrove (or REFINERY_BENCH_DATATROVE=1) to time datatrove's filters"
  log "datatrove skipped ($DATATROVE_SKIPPED)"
fi

# ------------------------------------------------------------------------------------------- results --
MACHINE="$(machine_description)"
python3 "$ROOT/tools/bench/text_stages_report.py" \
  --runs "$RUNS" --corpus "$CORPUS" --stages "${STAGES[*]}" --known "${KNOWN[*]}" \
  --stage-target "$STAGE_TARGET" --all-target "$ALL_TARGET" --repeat "$REPEAT" --core "$CORE" \
  --datatrove "$DATATROVE_JSON" --datatrove-skipped "$DATATROVE_SKIPPED" --datatrove-mb "$DATATROVE_MB" \
  --built "$BUILT" --machine "$MACHINE" --disturbed "$DISTURBED" \
  --json "$RESULTS_JSON" --markdown "$RESULTS_MD"
log "results written to $RESULTS_JSON and $RESULTS_MD; specs, datasets and logs under $RUNS"
