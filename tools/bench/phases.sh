#!/usr/bin/env bash
# Scale-out phases benchmark (issue 11): the time and memory of each phase of a phased run (map, dedup, resolve,
# finalize, reduce) on the end-to-end corpus, beside the reduce that does everything after the map itself, and a byte
# comparison of the two datasets. See tools/bench/README.md, "Scale-out phases".
#
# Usage: bash tools/bench/phases.sh
#
# Environment (all optional):
#   REFINERY_BENCH_PHASES_MB     corpus size in decimal MB (the e2e corpus, reused when there)   (default 1000)
#   REFINERY_BENCH_PHASES_TASKS  dedup and finalize tasks, run one after the other              (default 2)
#   REFINERY_BENCH_WORKERS       --workers of the map, the finalize tasks' 1, and the reduces    (default 2)
#   REFINERY_BENCH_DIR, _SEED, _SCRATCH   as for the other benchmarks (common.sh)
#
# The map runs once (one task); its `.work/` is copied. Then, from that copy each time: the reduce alone, and the
# phases one after the other, each under /usr/bin/time (wall, user + sys, peak RSS). Prints a markdown table and
# writes it, with the raw figures, to $REFINERY_BENCH_DIR/phases/results.{md,json}. Exits non-zero when a run fails
# or the two datasets differ.
set -euo pipefail

BENCH_NAME=phases
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_settings
MB="${REFINERY_BENCH_PHASES_MB:-1000}"
TASKS="${REFINERY_BENCH_PHASES_TASKS:-2}"
WORKERS="${REFINERY_BENCH_WORKERS:-2}"
OUT="$BENCH_DIR/phases"
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "phases: unknown argument '$1' (settings are environment variables; see --help)" >&2; exit 64 ;;
esac

bench_install_deps
bench_require swift python3
bench_build refinery
log "measuring $BIN built from $BUILT"

e2e_corpus_settings
CORPUS="$BENCH_DIR/corpus/e2e-${MB}mb"
CORPUS_KEYS="$CORPUS_KEYS_E2E" ensure_corpus "$CORPUS" "$MB" "${CORPUS_OPTIONS[@]}"

rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"
seven_stage_spec "$CORPUS" phases-bench "$OUT/out/dataset" 100000000 tools/bench/phases.sh >spec.yaml
DATASET="$OUT/out/dataset"
: >measurements.tsv

# time_phase NAME COMMAND...: runs COMMAND under /usr/bin/time (once; not common.sh's measure, which waits for an idle
# machine and keeps the fastest of retries), appends "name wall cpu rss_kib" to measurements.tsv.
time_phase() {
  local name=$1; shift
  log "$name: $*"
  if ! /usr/bin/time -f "%e %U %S %M" -o time.txt "$@" >"$name.log" 2>&1; then
    cat "$name.log" >&2
    die "$name failed (log: $OUT/$name.log)"
  fi
  read -r wall user sys rss <time.txt
  printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$rss" >>measurements.tsv
}

# from_map: the dataset folder as the map left it (only .work/, from the copy), with no catalog or index.
from_map() {
  rm -rf out
  mkdir -p "$DATASET"
  cp -a work.map "$DATASET/.work"
}

time_phase map "$BIN" run spec.yaml --phase map --task-index 0 --task-count 1 --workers "$WORKERS"
mv "$DATASET/.work" work.map
rm -rf out

from_map
time_phase reduce_alone "$BIN" run spec.yaml --phase reduce --workers "$WORKERS" --no-report
dataset_checksums "$DATASET" alone.sha256

from_map
for task in $(seq 0 $((TASKS - 1))); do
  time_phase "dedup_$task" "$BIN" run spec.yaml --phase dedup --task-index "$task" --task-count "$TASKS"
done
time_phase resolve "$BIN" run spec.yaml --phase resolve
for task in $(seq 0 $((TASKS - 1))); do
  time_phase "finalize_$task" "$BIN" run spec.yaml --phase finalize --task-index "$task" --task-count "$TASKS" --workers 1
done
time_phase reduce "$BIN" run spec.yaml --phase reduce --workers "$WORKERS" --no-report
dataset_checksums "$DATASET" phased.sha256
grep -Eq '"finalized_units" *: *[1-9]' "$DATASET/stats.json" || die "the reduce did not use the finalize tasks' pieces"
diff alone.sha256 phased.sha256 >&2 || die "the phased dataset differs from the reduce alone's"

python3 - "$OUT" "$MB" "$TASKS" "$BUILT" <<'PYEOF'
import json, sys
out, mb, tasks, built = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = [line.rstrip("\n").split("\t") for line in open(f"{out}/measurements.tsv")]
data = [{"phase": n, "wall_s": float(w), "cpu_s": float(c), "peak_rss_mib": int(r) / 1024} for n, w, c, r in rows]
stats = json.load(open(f"{out}/out/dataset/stats.json"))
by = {d["phase"]: d for d in data}
phased = [d for d in data if d["phase"] not in ("map", "reduce_alone")]
largest = max(d["peak_rss_mib"] for d in phased)
lines = [f"Scale-out phases on the {mb} MB e2e corpus, {tasks} dedup and finalize tasks one after the other (built from {built}):", "",
         "| phase | wall s | CPU s | peak RSS MiB |", "|---|---:|---:|---:|"]
lines += [f"| {d['phase']} | {d['wall_s']:.1f} | {d['cpu_s']:.1f} | {d['peak_rss_mib']:,.0f} |" for d in data]
lines += ["", f"The datasets are byte-identical. Largest process of the phased run: {largest:,.0f} MiB, against "
          f"{by['reduce_alone']['peak_rss_mib']:,.0f} MiB for the reduce alone (x{largest / by['reduce_alone']['peak_rss_mib']:.2f}); "
          f"LSH index {stats.get('dedup_index_bytes_per_record')} bytes per record over {stats.get('dedup_band_files')} band files."]
text = "\n".join(lines) + "\n"
open(f"{out}/results.md", "w").write(text)
json.dump({"mb": float(mb), "tasks": int(tasks), "built": built, "phases": data,
           "dedup_index_bytes_per_record": stats.get("dedup_index_bytes_per_record")}, open(f"{out}/results.json", "w"), indent=2)
print(text)
PYEOF
