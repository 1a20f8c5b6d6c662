#!/usr/bin/env bash
# A/B benchmark: two `refinery` binaries (or one binary with two sets of flags) on the same corpus and spec, pinned to
# the same core, alternating A and B each round, so that the machine's noise hits both alike. Prints wall time and
# peak RSS of every run; compare the best of each. Checks that A and B wrote the same records.
#
# Usage: A_BIN=… B_BIN=… [A_FLAGS=…] [B_FLAGS=…] bash tools/bench/ab.sh
#   e.g. the cost of committing work units (binary before them against after):
#        A_BIN=/tmp/old/.build/release/refinery B_BIN=.build/release/refinery bash tools/bench/ab.sh
#   and the cost of the report: A_BIN=B_BIN=.build/release/refinery A_FLAGS=--no-report bash tools/bench/ab.sh
#
# Environment (all optional besides the binaries):
#   CORPUS   a corpus of tools/bench/gen_corpus.py (chats/ and docs/)  (default /tmp/refinery-bench/corpus/200mb,
#            which `bash tools/bench/spine.sh` generates)
#   STAGES   the spec's stages, YAML list lines                           (default "  - validate: {}")
#   ROUNDS   rounds of A then B                                           (default 3)
#   CORE     the core both are pinned to                                  (default 0)
#   WORK     work folder                                                  (default /tmp/refinery-ab)
set -euo pipefail
: "${A_BIN:?set A_BIN}" "${B_BIN:?set B_BIN}"
CORPUS=${CORPUS:-/tmp/refinery-bench/corpus/200mb}
STAGES=${STAGES:-"  - validate: {}"}
ROUNDS=${ROUNDS:-3}
CORE=${CORE:-0}
WORK=${WORK:-/tmp/refinery-ab}
[ -d "$CORPUS/chats" ] && [ -d "$CORPUS/docs" ] || { echo "ab: no corpus at $CORPUS (run tools/bench/spine.sh once)" >&2; exit 1; }
for side in a b; do
  mkdir -p "$WORK/$side"
  cat >"$WORK/$side/spec.yaml" <<SPEC
# Written by tools/bench/ab.sh.
name: ab
sources:
  - {name: chats, kind: chat_jsonl, glob: $CORPUS/chats/*.jsonl, category: chat}
  - {name: docs, kind: jsonl, glob: $CORPUS/docs/*.jsonl}
stages:
$STAGES
output: {dir: dataset, dataset: ab, shard_size: 64MiB, zstd_level: 3, validation_fraction: 0.05}
SPEC
done
for round in $(seq 1 "$ROUNDS"); do
  for side in a b; do
    if [ $side = a ]; then bin=$A_BIN; flags=${A_FLAGS:-}; else bin=$B_BIN; flags=${B_FLAGS:-}; fi
    rm -rf "$WORK/$side/dataset" "$WORK/$side"/catalog.sqlite* "$WORK/$side/.locks" "$WORK/$side/dedup-index"
    sync
    sleep 2
    # shellcheck disable=SC2086  # flags are words
    /usr/bin/time -f "$side round $round: %e s wall, %U s user, %S s sys, %M KiB peak" \
      taskset -c "$CORE" "$bin" run "$WORK/$side/spec.yaml" --workers 1 --force $flags 2>&1 >/dev/null | grep -E "round|error" || true
  done
done
if cmp -s <(zstd -dc "$WORK"/a/dataset/train-* "$WORK"/a/dataset/validation-*) <(zstd -dc "$WORK"/b/dataset/train-* "$WORK"/b/dataset/validation-*); then
  echo "ab: A and B wrote the same records"
else
  echo "ab: A and B wrote different records" >&2
  exit 1
fi
