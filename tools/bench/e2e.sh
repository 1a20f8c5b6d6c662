#!/usr/bin/env bash
# End-to-end benchmark (issue 10): the full seven-stage Refinery pipeline on a mixed corpus at one or more sizes,
# how its wall time, memory and stage costs grow with size, and datatrove's closest pipeline beside it on a smaller
# comparison corpus, measured in the same session. See tools/bench/README.md, "End-to-end benchmark".
#
# Usage: bash tools/bench/e2e.sh          (or `make bench`)
#
# Environment (all optional):
#   REFINERY_BENCH_SIZES        corpus sizes in decimal MB for the Refinery runs          (default "1000"; "100 1000 5000")
#   REFINERY_BENCH_COMPARE_MB   size of the comparison corpus Refinery and datatrove both run on (default 50); 0: no
#                               comparison, and no datatrove installed (otherwise the first run pip-installs datatrove
#                               0.10.1 and spaCy into .build/bench-venv)
#   REFINERY_BENCH_COMPARE_FILE_MB  largest file of the comparison corpus, MiB: datatrove splits work by file (default 2)
#   REFINERY_BENCH_WORKERS      Refinery's --workers; datatrove's workers (at most one per task) and tasks (default 2)
#   REFINERY_BENCH_LID_MODEL    a local lid.176.bin for datatrove's LanguageFilter (without it, and offline, it is skipped)
#   REFINERY_BENCH_REPEAT       rounds; each size keeps its fastest, the comparison its medians (default 1)
#   REFINERY_BENCH_IDLE_WAIT    seconds to wait for an idle machine before each run      (default 60)
#   REFINERY_BENCH_RETRIES      extra Refinery runs allowed when other processes disturbed one (default 1; datatrove: 0)
#   REFINERY_BENCH_DIR          work folder; this benchmark uses $REFINERY_BENCH_DIR/e2e  (default /tmp/refinery-bench)
#   REFINERY_BENCH_SEED, REFINERY_BENCH_SCRATCH   as for the other benchmarks (common.sh)
#
# Per size: `refinery run SPEC --workers N --force` under /usr/bin/time -v (wall, user + sys, the largest process's
# peak RSS) and the dataset's stats.json (worker seconds per stage) and manifest.json (bytes into each stage); each
# round runs every size in turn (100, 1000, 5000, then again), so that the machine's drift meets every size.
# Comparison: per round, Refinery, then datatrove (tools/bench/datatrove_e2e.py), then Refinery again, all on the
# comparison corpus, so that both tools see the machine in the same state; the ratio is taken from these runs (per
# round, datatrove's wall over the mean of the two Refinery walls). Then Refinery once more with `--workers 1`, and the
# shards and manifests of the 1-worker and N-worker runs are compared byte for byte (on the smallest size instead when
# there is no comparison; not at all with 1 worker).
# Every run's peak memory is also sampled every 0.2 s as the PSS summed over its whole process tree (datatrove's
# parent, Manager and workers; Refinery's one process); the report compares that peak (or the largest process's peak
# RSS, if more) between the tools.
#
# Writes $REFINERY_BENCH_DIR/e2e/results.{md,json,html} (tools/bench/e2e_report.py) and prints the markdown.
# Exits non-zero when a run fails or the 1-worker and N-worker outputs differ; when datatrove fails, only after the
# report, which shows its error.
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

e2e_corpus_settings   # CORPUS_OPTIONS and CORPUS_KEYS_E2E (common.sh)

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
  seven_stage_spec "$2" e2e-bench dataset 64MiB tools/bench/e2e.sh >"$1/spec.yaml"
}

# record KIND ROUND SIZE FOLDER CORPUS RESULT: appends the run just measured (times, peak RSS, the process tree's
# sampled peak memory from LAST_MEMORY, the corpus folder, and the dataset's stats.json, per-stage counters and category
# mix; or, when RESULT is a file, datatrove's result; or, when RESULT is "failed:WHY", why datatrove failed) to
# MEASUREMENTS.
record() {
  python3 - "$MEASUREMENTS" "$@" "$LAST_WALL" "$LAST_USER" "$LAST_SYS" "$LAST_OTHER" "$LAST_FLAGGED" "$LAST_RSS" \
    "$LAST_MEMORY" <<'EOF'
import json, os, sys
out, kind, round_, size, folder, corpus, result = sys.argv[1:8]
wall, user, sys_, other, flagged, rss, memory = sys.argv[8:]
number = lambda value, kind: kind(value) if value else None
line = {"kind": kind, "round": int(round_), "size_mb": float(size), "folder": folder, "corpus": corpus,
        "wall": number(wall, float), "user": number(user, float), "sys": number(sys_, float),
        "other": number(other, float), "flagged": flagged == "1", "rss_kib": number(rss, int)}
# The sampler's last line is the run measure() kept (a disturbed run measured again came before it).
samples = [json.loads(l) for l in open(memory) if l.strip()] if os.path.exists(memory) else []
if samples:
    line.update({key: samples[-1][key] for key in ("tree_pss_kib", "tree_rss_kib", "tree_processes", "tree_samples")})
if result.startswith("failed:"):
    line["failed"] = result[len("failed:"):]
elif result:
    line["datatrove"] = json.load(open(result))
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

# memory_start FILE: starts, in the background, a sampler of the memory of what measure() runs: every 0.2 s it sums
# the PSS and RSS (from /proc) of every process under each /usr/bin/time this script starts, that is the measured
# command and all its children (datatrove's Manager and workers). PSS splits a page shared by several processes (a
# forked worker shares its parent's) among them, so its sum is the tree's memory; summed RSS counts such a page once
# per process. memory_stop ends it; it then writes to FILE one JSON line per /usr/bin/time it saw, in order, with the
# peaks: tree_pss_kib, tree_rss_kib, tree_processes, tree_samples. measure() counts the sampler's CPU time as other
# processes' time; reading PSS walks a process's page tables (10-20 ms per GiB resident here), so the sampler waits 100
# times as long as a sample took, at least 0.2 s, and stays under 1 % of a core, well below what flags a run.
MEMORY_SAMPLER=""
memory_start() {
  python3 -B - "$$" "$1" <<'EOF' &
import json, os, signal, sys, time
root, out = int(sys.argv[1]), sys.argv[2]
page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
peaks = {}  # pid of a /usr/bin/time -> its tree's peaks, in the order first seen


def read(path):
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.read(fd, 4096).decode(errors="replace")
        finally:
            os.close(fd)
    except OSError:
        return ""


def pss_kib(pid):
    for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def sample():
    parent, name, rss = {}, {}, {}
    for entry in os.listdir("/proc"):
        stat = read(f"/proc/{entry}/stat") if entry.isdigit() else ""
        if stat:  # pid (comm) state ppid ... rss is the 24th field; comm may hold spaces and parentheses
            close = stat.rfind(")")
            fields = stat[close + 2:].split()
            pid = int(entry)
            name[pid], parent[pid], rss[pid] = stat[stat.find("(") + 1:close], int(fields[1]), int(fields[21]) * page_kib

    def under(pid, top):
        while pid in parent and pid > 1:
            pid = parent[pid]
            if pid == top:
                return True
        return False

    for timer in (pid for pid in name if name[pid] == "time" and under(pid, root)):
        tree = [pid for pid in name if under(pid, timer)]
        peak = peaks.setdefault(timer, {"tree_pss_kib": 0, "tree_rss_kib": 0, "tree_processes": 0, "tree_samples": 0})
        peak["tree_pss_kib"] = max(peak["tree_pss_kib"], sum(pss_kib(pid) for pid in tree))
        peak["tree_rss_kib"] = max(peak["tree_rss_kib"], sum(rss[pid] for pid in tree))
        peak["tree_processes"] = max(peak["tree_processes"], len(tree))
        peak["tree_samples"] += 1


while not stop:
    began = time.perf_counter()
    sample()
    took = time.perf_counter() - began
    time.sleep(max(0.2, 100 * took) - took)
with open(out, "w") as f:
    for peak in peaks.values():
        f.write(json.dumps(peak) + "\n")
EOF
  MEMORY_SAMPLER=$!
  LAST_MEMORY=$1
}
memory_stop() {
  kill "$MEMORY_SAMPLER" 2>/dev/null || true
  wait "$MEMORY_SAMPLER" || true
  MEMORY_SAMPLER=""
}
trap '[ -z "$MEMORY_SAMPLER" ] || kill "$MEMORY_SAMPLER" 2>/dev/null || true' EXIT

# refinery_run KEY KIND ROUND SIZE FOLDER WORKERS CORPUS: one measured `refinery run`, from a clean folder (no dataset,
# no catalog or dedup index of an earlier round), input in the page cache.
refinery_run() {
  local key=$1 kind=$2 round=$3 size=$4 folder=$5 workers=$6 corpus=$7
  PRE_RUN="rm -rf \"$folder/dataset\" \"$folder/catalog.sqlite\"* \"$folder/dedup-index\" \"$folder/.locks\"; sync; cat \"\${FILES[@]}\" >/dev/null"
  memory_start "$folder/memory.jsonl"
  DATASET="$folder/dataset" measure "$key" "$folder" -- "$BIN" run "$folder/spec.yaml" --workers "$workers" --force
  memory_stop
  LAST_RSS=$(time_field "$folder/run.time" "Maximum resident set size")
  record "$kind" "$round" "$size" "$folder" "$corpus" ""
}

# datatrove_run ROUND FOLDER CORPUS: one measured run of tools/bench/datatrove_e2e.py. When it fails, the failure is
# recorded (the report shows it) and DATATROVE_FAILED says why, instead of the benchmark ending here: measure() exits on
# a failed run, so it runs in a subshell, which hands back what it measured.
DATATROVE_FAILED=""
datatrove_run() {
  local round=$1 folder=$2 corpus=$3 why
  local out="$folder/result-$round.json"
  PRE_RUN="sync; cat \"\${FILES[@]}\" >/dev/null"
  memory_start "$folder/memory-$round.jsonl"
  rm -f "$out" "$folder/measured.sh"
  if ( DATASET="" measure datatrove "$folder" -- "$DATATROVE_VENV/bin/python" "$ROOT/tools/bench/datatrove_e2e.py" \
         "$corpus" --work "$folder/work" --workers "$WORKERS" --out "$out" ${LID_MODEL:+--lid-model "$LID_MODEL"} \
       && printf '%s=%q\n' LAST_WALL "$LAST_WALL" LAST_USER "$LAST_USER" LAST_SYS "$LAST_SYS" LAST_OTHER "$LAST_OTHER" \
            LAST_FLAGGED "$LAST_FLAGGED" DISTURBED "$DISTURBED" >"$folder/measured.sh" ); then
    memory_stop
    source "$folder/measured.sh"
    LAST_RSS=$(time_field "$folder/run.time" "Maximum resident set size")
    record compare_datatrove "$round" "$COMPARE_MB" "$folder" "$corpus" "$out"
  else
    memory_stop
    why="$(grep -m1 '^Command ' "$folder/run.time" 2>/dev/null || echo "no /usr/bin/time output")"
    why="$why: $(grep -v '^\s*$' "$folder/run.log" 2>/dev/null | tail -1 | cut -c1-300)"
    DATATROVE_FAILED="round $round: $why (log: $folder/run.log)"
    log "datatrove failed in round $round, recorded: $why"
    LAST_WALL="" LAST_USER=$(time_field "$folder/run.time" "User time") LAST_SYS=$(time_field "$folder/run.time" "System time")
    LAST_OTHER="" LAST_FLAGGED=0 LAST_RSS=$(time_field "$folder/run.time" "Maximum resident set size")
    record compare_datatrove "$round" "$COMPARE_MB" "$folder" "$corpus" "failed:$why"
  fi
}

# corpus_files CORPUS: FILES, the corpus's input files (for the page-cache warm-up).
corpus_files() { mapfile -t FILES < <(find "$1/chats" "$1/docs" "$1/subtitles" -name '*.jsonl' | sort); }

# same_output MB WHICH DIR_A DIR_B: compares the shards and manifest.json of two datasets byte for byte
# (dataset_checksums), and notes the verdict in DETERMINISM.
DETERMINISM="$RUNS/determinism.tsv"
: >"$DETERMINISM"
same_output() {
  local label=$1 which=$2 a=$3 b=$4 files
  for dir in "$a" "$b"; do dataset_checksums "$dir/dataset" "$dir/sha256.txt"; done
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
# Whether there is a comparison, and where the 1-worker run for that check goes: the comparison corpus (small, and
# split into many files), or without one the smallest size; with 1 worker, nowhere.
COMPARE=no
if awk -v m="$COMPARE_MB" 'BEGIN { exit !(m > 0) }'; then COMPARE=yes; fi
CHECK_SIZE=none
if [ "$WORKERS" != 1 ] && [ "$COMPARE" = no ]; then CHECK_SIZE=$(tr ' ' '\n' <<<"$SIZES" | grep . | sort -g | head -1); fi
if [ "$WORKERS" = 1 ]; then log "REFINERY_BENCH_WORKERS=1: no determinism check (it compares 1 worker with more)"; fi

# ---------------------------------------------------------------------------------------------- sizes --
# Every corpus and spec first; then the rounds, each over every size, so that the VM's drift (a quarter within one
# benchmark on 2026-11-24) falls on all sizes alike instead of on one size's rounds, which bends the fits.
T_WALL=() T_USER=() T_SYS=() T_OTHER=() T_RSS=() T_FLAGGED=()
RETRY_LEFT=()
for SIZE in $SIZES; do
  CORPUS="$BENCH_DIR/corpus/e2e-${SIZE}mb"
  CORPUS_KEYS="$CORPUS_KEYS_E2E" ensure_corpus "$CORPUS" "$SIZE" "${CORPUS_OPTIONS[@]}"
  FOLDER="$RUNS/${SIZE}mb"
  rm -rf "$FOLDER"
  write_spec "$FOLDER/w$WORKERS" "$CORPUS"
  RETRY_LEFT[main-$SIZE]=$RETRIES RETRY_LEFT[w1-$SIZE]=$RETRIES
done
for ((round = 1; round <= REPEAT; round++)); do
  for SIZE in $SIZES; do
    CORPUS="$BENCH_DIR/corpus/e2e-${SIZE}mb"
    corpus_files "$CORPUS"
    log "${SIZE} MB, round $round of $REPEAT: refinery run --workers $WORKERS"
    refinery_run "main-$SIZE" size "$round" "$SIZE" "$RUNS/${SIZE}mb/w$WORKERS" "$WORKERS" "$CORPUS"
  done
done
if [ "$CHECK_SIZE" != none ]; then
  CORPUS="$BENCH_DIR/corpus/e2e-${CHECK_SIZE}mb"
  FOLDER="$RUNS/${CHECK_SIZE}mb"
  corpus_files "$CORPUS"
  log "${CHECK_SIZE} MB: refinery run --workers 1, for the determinism check"
  write_spec "$FOLDER/w1" "$CORPUS"
  refinery_run "w1-$CHECK_SIZE" size_w1 1 "$CHECK_SIZE" "$FOLDER/w1" 1 "$CORPUS"
  same_output "$CHECK_SIZE" "corpus" "$FOLDER/w1" "$FOLDER/w$WORKERS"
fi

# ----------------------------------------------------------------------------------------- comparison --
DATATROVE_SKIPPED=""
if [ "$COMPARE" = yes ]; then
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
    refinery_run refinery compare_refinery "$round" "$COMPARE_MB" "$FOLDER/refinery" "$WORKERS" "$CORPUS"
    if [ -z "$DATATROVE_SKIPPED" ]; then
      datatrove_run "$round" "$FOLDER/datatrove" "$CORPUS"
      refinery_run refinery compare_refinery "$round" "$COMPARE_MB" "$FOLDER/refinery" "$WORKERS" "$CORPUS"
    fi
  done
  if [ "$WORKERS" != 1 ]; then
    log "comparison, ${COMPARE_MB} MB: refinery run --workers 1, for the determinism check"
    write_spec "$FOLDER/w1" "$CORPUS"
    refinery_run w1 compare_w1 1 "$COMPARE_MB" "$FOLDER/w1" 1 "$CORPUS"
    same_output "$COMPARE_MB" "comparison corpus" "$FOLDER/w1" "$FOLDER/refinery"
  fi
else
  DATATROVE_SKIPPED="REFINERY_BENCH_COMPARE_MB=0: no comparison"
fi

# ------------------------------------------------------------------------------------------- results --
MACHINE="$(machine_description)"
python3 "$ROOT/tools/bench/e2e_report.py" --measurements "$MEASUREMENTS" --determinism "$DETERMINISM" \
  --sizes "$SIZES" --compare-mb "$COMPARE_MB" --workers "$WORKERS" --repeat "$REPEAT" \
  --built "$BUILT" --machine "$MACHINE" --disturbed "$DISTURBED" --datatrove-skipped "$DATATROVE_SKIPPED" \
  --elapsed "$(awk -v a="$started_all" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')" \
  --out "$OUT/results"
echo
cat "$OUT/results.md"
echo
log "results: $OUT/results.md, $OUT/results.json, $OUT/results.html; runs, specs and logs under $RUNS"
failed=0
if cut -f2 "$DETERMINISM" | grep -qx NO; then log "error: outputs differ between 1 and $WORKERS workers"; failed=1; fi
if [ -n "$DATATROVE_FAILED" ]; then log "error: datatrove failed ($DATATROVE_FAILED)"; failed=1; fi
exit "$failed"
