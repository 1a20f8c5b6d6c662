#!/usr/bin/env bash
# The scale-out test on a real Slurm: a one-node cluster on this machine (tools/slurm/cluster.sh: Debian's munge and
# slurm-wlm, installed when missing), then
#   1. the demo pipeline with `--executor slurm --tasks 4` (4 map tasks, 4 dedup tasks sharing the LSH bands, the
#      resolve, 4 finalize tasks sharing the units, the reduce), compared byte for byte with the local executor's
#      dataset;
#   2. a generated corpus (REFINERY_SLURM_MB, default 12 MB, in 0.5 MiB files; the seven stages), the same comparison,
#      after killing one map task mid-run: every map task freezes after its first committed unit
#      (REFINERY_STOP_AT=unit:1), task 1 is killed with SIGKILL, the others go on; the reduce never starts
#      (its dependency fails), `refinery status` says so, and submitting again runs task 1 alone (resuming after
#      its committed unit), cancels the dedup, resolve, finalize and reduce jobs that can never start, and submits
#      new ones; the dataset must equal the local one.
# The daemons it started are stopped (by PID) however it ends.
#
# Usage: bash tools/slurm/test.sh     (make test-slurm; as root, or with slurm-wlm and munge installed)
# Environment: REFINERY_BIN (default .build/release/refinery), REFINERY_SLURM_DIR (default /tmp/refinery-slurm-test),
#              REFINERY_SLURM_MB (default 12), REFINERY_SLURM_TIMEOUT seconds per submission (default 600).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${REFINERY_BIN:-$ROOT/.build/release/refinery}
WORK=${REFINERY_SLURM_DIR:-/tmp/refinery-slurm-test}
MB=${REFINERY_SLURM_MB:-12}
TIMEOUT=${REFINERY_SLURM_TIMEOUT:-600}
TASKS=4
START=$SECONDS
[ -x "$BIN" ] || { echo "slurm test: no refinery binary at $BIN (make build, or set REFINERY_BIN)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# shellcheck source=cluster.sh
source "$ROOT/tools/slurm/cluster.sh"
source "$ROOT/tools/bench/common.sh"   # dataset_checksums, seven_stage_spec

log() { echo "slurm test [$((SECONDS - START)) s]: $*" >&2; }
fail() { echo "slurm test: FAILED: $*" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
trap slurm_cluster_stop EXIT
log "starting a one-node cluster under $WORK/cluster"
slurm_cluster_start "$WORK/cluster"

# wait_written SUBMISSION CATALOG: polls `refinery status` until the dataset is written; fails when the reduce
# failed or the time runs out.
wait_written() {
  local deadline=$((SECONDS + TIMEOUT)) status
  while true; do
    status=$("$BIN" status "$1" --catalog "$2") || fail "refinery status $1 failed"
    if grep -q '^dataset: written' <<<"$status"; then echo "$status"; return 0; fi
    if grep -Eq '^reduce: (FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY)' <<<"$status"; then echo "$status" >&2; fail "the reduce job failed"; fi
    [ "$SECONDS" -lt "$deadline" ] || { echo "$status" >&2; fail "submission $1 did not finish in $TIMEOUT s"; }
    sleep 1
  done
}

# same_dataset LOCAL SLURM WHAT: the two datasets' manifest and shards are byte-identical.
same_dataset() {
  dataset_checksums "$1" "$WORK/local.sha256"
  dataset_checksums "$2" "$WORK/slurm.sha256"
  if ! diff "$WORK/local.sha256" "$WORK/slurm.sha256" >&2; then
    fail "$3: the slurm dataset differs from the local one"
  fi
  log "$3: slurm and local datasets are byte-identical ($(wc -l <"$WORK/local.sha256") files: manifest and shards)"
  # The reduce resolved duplicates over the dedup array's band files (one per task), not the band hashes itself.
  grep -Eq '"dedup_band_files" *: *4\b' "$2/stats.json" || fail "$3: the reduce did not use the 4 dedup tasks' band files"
  # ... and appended the finalize tasks' shard pieces instead of finalizing the units itself.
  grep -Eq '"finalized_units" *: *[1-9]' "$2/stats.json" || fail "$3: the reduce did not use the finalize tasks' pieces"
}

# ------------------------------------------------------------------------------------------------ 1. demo --
DEMO=$WORK/demo
mkdir -p "$DEMO"
sed -e "s#\.\./fixtures#$ROOT/fixtures#" -e "s#dir: \.\./out/demo#dir: $DEMO/out/demo#" "$ROOT/pipelines/demo.yaml" >"$DEMO/demo.yaml"
log "demo: local executor"
"$BIN" run "$DEMO/demo.yaml" --workers 2 --no-report 2>"$DEMO/local.log" || { cat "$DEMO/local.log" >&2; fail "local demo run"; }
mv "$DEMO/out" "$DEMO/local"
log "demo: --executor slurm --tasks $TASKS"
ID=$("$BIN" run "$DEMO/demo.yaml" --executor slurm --tasks $TASKS --no-report 2>"$DEMO/submit.log") || { cat "$DEMO/submit.log" >&2; fail "demo submission"; }
cat "$DEMO/submit.log" >&2
wait_written "$ID" "$DEMO/out/catalog.sqlite" >&2
same_dataset "$DEMO/local/demo" "$DEMO/out/demo" "demo"

# ------------------------------------------------------------------------- 2. a larger corpus, one task killed --
BIG=$WORK/corpus
log "corpus: generating $MB MB"
python3 "$ROOT/tools/bench/gen_corpus.py" --mb "$MB" --file-mb 0.5 --seed 20261123 --langs multilingual --pii-rate 0.05 \
  --junk-rate 0.03 --punctuate --subtitle-share 0.3 --dup-rate 0.05 --toxic-rate 0.02 "$BIG/data" >/dev/null
seven_stage_spec "$BIG/data" slurm-test out/dataset 4MiB tools/slurm/test.sh >"$BIG/spec.yaml"
log "corpus: local executor"
"$BIN" run "$BIG/spec.yaml" --workers 2 --no-report 2>"$BIG/local.log" || { cat "$BIG/local.log" >&2; fail "local corpus run"; }
mv "$BIG/out" "$BIG/local"

log "corpus: --executor slurm --tasks $TASKS, every map task frozen after its first unit (REFINERY_STOP_AT=unit:1)"
ID=$(REFINERY_STOP_AT=unit:1 "$BIN" run "$BIG/spec.yaml" --executor slurm --tasks $TASKS --no-report 2>"$BIG/submit.log") \
  || { cat "$BIG/submit.log" >&2; fail "corpus submission"; }
cat "$BIG/submit.log" >&2
MAP_JOB=$(sed -n 's/^submitted map job \([0-9]*\).*/\1/p' "$BIG/submit.log")
[ -n "$MAP_JOB" ] || fail "no map job in the submission's output"
# Two cores run two tasks at a time: a frozen task is killed (task 1) or let go (the others) as it freezes, so
# that the queued ones get their turn.
KILL_TASK=1 killed="" deadline=$((SECONDS + TIMEOUT))
while squeue -h -j "$MAP_JOB" 2>/dev/null | grep -q .; do
  # This corpus's map tasks only (the spec's path is in their command line).
  for pid in $(pgrep -f -- "$BIG/spec.yaml --phase map --task-index" || true); do
    state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ "$state" = "T" ] || continue
    task=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 's/.*--task-index \([0-9]*\).*/\1/p' || true)
    if [ "$task" = "$KILL_TASK" ] && [ -z "$killed" ]; then
      log "corpus: killing map task $task (pid $pid) with SIGKILL after its first committed unit"
      kill -9 "$pid" || fail "could not kill map task $task (pid $pid)"
      killed=$pid
    else
      kill -CONT "$pid" 2>/dev/null || true
    fi
  done
  [ "$SECONDS" -lt "$deadline" ] || fail "the map tasks did not finish in $TIMEOUT s"
  sleep 0.5
done
[ -n "$killed" ] || fail "map task $KILL_TASK never froze, so it was not killed"
STATUS=$("$BIN" status "$ID" --catalog "$BIG/out/catalog.sqlite")
echo "$STATUS" >&2
grep -Eq "^ *$KILL_TASK +[0-9]+ +1 +FAILED" <<<"$STATUS" || fail "status does not show task $KILL_TASK failed with one unit committed"
grep -q "^dataset: not written yet" <<<"$STATUS" || fail "status claims a dataset"
grep -q "submits map task(s) $KILL_TASK alone" <<<"$STATUS" || fail "status does not say how to resubmit"

log "corpus: submitting again (no freezing)"
ID2=$("$BIN" run "$BIG/spec.yaml" --executor slurm --tasks $TASKS --no-report 2>"$BIG/resubmit.log") \
  || { cat "$BIG/resubmit.log" >&2; fail "resubmission"; }
cat "$BIG/resubmit.log" >&2
grep -q "array tasks $KILL_TASK of $TASKS" "$BIG/resubmit.log" || fail "the resubmission did not run task $KILL_TASK alone"
grep -q "cancelled reduce job" "$BIG/resubmit.log" || fail "the earlier reduce, which could never start, was not cancelled"
for phase in dedup resolve finalize; do
  grep -q "cancelled $phase job" "$BIG/resubmit.log" || fail "the earlier $phase job, which could never start, was not cancelled"
done
wait_written "$ID2" "$BIG/out/catalog.sqlite" >&2
LOG=$(ls "$WORK"/corpus/out/slurm/*/*/logs/map-"$ID2"-"$KILL_TASK".out)
grep -q ", 1 committed before" "$LOG" || { cat "$LOG" >&2; fail "the resubmitted task did not resume after its committed unit"; }
same_dataset "$BIG/local/dataset" "$BIG/out/dataset" "corpus ($MB MB, task $KILL_TASK killed and resubmitted)"

log "passed in $((SECONDS - START)) s"
