#!/usr/bin/env python3
"""Checks that a Refinery dataset folder loads with the tools trainers use: Hugging Face `datasets`
(through the folder's README.md dataset card) and pandas (`read_json`, which needs the `zstandard` package for .zst).

Not part of `make test` (it needs `pip install datasets pandas zstandard`, a few hundred MB); run it after
changing the record format:

    pip install datasets pandas zstandard
    python3 tools/check_readers.py out/demo
"""
import glob
import json
import os
import sys


def main(folder):
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    expected = {split: summary["records"] for split, summary in manifest["splits"].items() if summary["shards"] > 0}

    from datasets import load_dataset
    ds = load_dataset(folder)
    got = {split: ds[split].num_rows for split in ds}
    assert got == expected, f"datasets read {got}, manifest says {expected}"
    first = ds["train"][0]
    assert first["text"] is not None or first["messages"] is not None
    print(f"datasets: {got}, columns {ds['train'].column_names}")
    if manifest["rejects"]:
        # The card's `rejects` config: every stage's reject lines as one table, the keys a line lacks as null.
        rejects = load_dataset(folder, "rejects")["rejects"]
        quarantined = manifest["totals"]["quarantined"]
        assert rejects.num_rows == quarantined, f"datasets read {rejects.num_rows} rejects, manifest says {quarantined}"
        assert all(row["record"] is not None or row["raw"] is not None for row in rejects)
        print(f"datasets: {rejects.num_rows} rejects, columns {rejects.column_names}")

    import pandas as pd
    frames = [pd.read_json(path, lines=True) for path in sorted(glob.glob(os.path.join(folder, "train-*.jsonl.zst")))]
    total = sum(len(f) for f in frames)
    assert total == expected["train"], f"pandas read {total} train records, manifest says {expected['train']}"
    print(f"pandas: {total} train records in {len(frames)} shard(s)")
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
