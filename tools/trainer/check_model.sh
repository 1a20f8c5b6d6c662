#!/usr/bin/env bash
# End-to-end check of the trainer against independent implementations:
#   1. trains pipelines/training/demo.yaml on the demo dataset (make demo first writes out/demo);
#   2. exports the checkpoint as a Hugging Face GPT-2 folder;
#   3. dumps a packed batch (several documents per row) with Refinery's logits and loss (`refinery eval --dump`);
#   4. tools/trainer/reference.py (NumPy, float64, its own safetensors reader) recomputes them: logits within 1e-4
#      relative, loss likewise;
#   5. tools/trainer/check_transformers.py loads the folder with GPT2LMHeadModel.from_pretrained and compares.
# Usage: bash tools/trainer/check_model.sh        (REFINERY_BIN to use another binary)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${REFINERY_BIN:-.build/release/refinery}"
if [ -z "${REFINERY_BIN:-}" ]; then swift build -c release --product refinery >&2; fi
[ -f out/demo/manifest.json ] || make demo >&2
VENV=.build/trainer-venv
[ -x "$VENV/bin/python" ] || bash tools/trainer/setup_venv.sh >&2
WORK="${TMPDIR:-/tmp}/refinery-check-model"
rm -rf "$WORK" out/train-demo
"$BIN" train pipelines/training/demo.yaml --every 20
"$BIN" export out/train-demo --out "$WORK/hf"
"$BIN" eval out/train-demo out/demo --split train --dump "$WORK/dump" >/dev/null
echo "== NumPy reference on a packed batch"
"$VENV/bin/python" tools/trainer/reference.py check "$WORK/hf" "$WORK/dump/batch.json" "$WORK/dump/logits.bin" "$(cat "$WORK/dump/loss.txt")"
echo "== transformers.GPT2LMHeadModel.from_pretrained"
"$VENV/bin/python" tools/trainer/check_transformers.py "$WORK/hf"
