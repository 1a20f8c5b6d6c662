#!/usr/bin/env bash
# Trainer speed: Refinery's GPT training step against PyTorch on CPU, same architecture, batch and machine, with
# model FLOPs utilisation against this machine's measured sgemm peak.
#
#   bash tools/bench/trainer.sh            # 6 layers × 384, 6 heads, context 256, vocabulary 4096, 8 rows a step
#
# Runs, in alternating rounds so that both tools see the same machine: `sgemm-bench` (OpenBLAS, every core: the MFU
# denominator), `train-bench` (tools/bench/TrainBench) and tools/bench/train_torch.py (PyTorch, F.scaled_dot_product_attention).
# Each keeps its fastest round. Needs tools/trainer/setup_venv.sh for torch (run here when the venv is missing).
# Settings: REFINERY_BENCH_REPEAT (rounds, default 3), TRAIN_BENCH_STEPS (timed steps, default 6),
# TRAIN_BENCH_ARGS (extra model arguments for both tools, e.g. "--layers 2").
set -euo pipefail
BENCH_NAME=trainer
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_settings
bench_build train-bench sgemm-bench
VENV="$ROOT/.build/trainer-venv"
[ -x "$VENV/bin/python" ] || bash "$ROOT/tools/trainer/setup_venv.sh" >&2
STEPS="${TRAIN_BENCH_STEPS:-6}"
ARGS="${TRAIN_BENCH_ARGS:-}"
cores=$(nproc)
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }'; }
peak="" ours="" theirs="" ours_json="" theirs_json=""
for round in $(seq 1 "$REPEAT"); do
  wait_idle
  p=$("$BIN_DIR/sgemm-bench" --threads "$cores" --rounds 3 2048 | awk '/^peak/ { print $2 }')
  peak=$(best "$peak" "$p")
  j=$("$BIN_DIR/train-bench" --steps "$STEPS" --warmup 2 $ARGS)
  t=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])')
  if [ "$(best "$ours" "$t")" = "$t" ]; then ours=$t; ours_json=$j; fi
  j=$("$VENV/bin/python" "$ROOT/tools/bench/train_torch.py" --steps $((STEPS + 2)) --warmup 2 --threads "$cores" $ARGS)
  t=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])')
  if [ "$(best "$theirs" "$t")" = "$t" ]; then theirs=$t; theirs_json=$j; fi
  log "round $round: sgemm peak $p GFLOP/s, refinery $ours tokens/s, torch $theirs tokens/s (best so far)"
done
python3 - "$peak" "$ours_json" "$theirs_json" "$BUILT" <<'PY'
import json, sys
peak = float(sys.argv[1]); ours = json.loads(sys.argv[2]); theirs = json.loads(sys.argv[3])
flops = ours["flops_per_token"]
print(f"trainer benchmark (built from {sys.argv[4]}); model FLOPs per token {flops:,} (PaLM: 6N + 12·L·C·T)")
print(f"sgemm peak (OpenBLAS, 2048², every core): {peak:.1f} GFLOP/s")
print("| tool | tokens/s | ms/step | GFLOP/s | MFU |")
print("|---|---:|---:|---:|---:|")
for name, r in (("Refinery", ours), (f"PyTorch {theirs['torch']}", theirs)):
    g = r["tokens_per_s"] * flops / 1e9
    print(f"| {name} | {r['tokens_per_s']:.0f} | {r['ms_per_step']:.0f} | {g:.1f} | {100 * g / peak:.0f} % |")
print(f"Refinery / PyTorch tokens/s: {ours['tokens_per_s'] / theirs['tokens_per_s']:.2f}×")
PY
