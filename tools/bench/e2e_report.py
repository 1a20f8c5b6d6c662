#!/usr/bin/env python3
"""Turns the runs of tools/bench/e2e.sh into its results: OUT.md (the tables, also printed by e2e.sh), OUT.json
(every number, every round) and OUT.html (the tables and three inline SVG charts; self-contained). Standard library
only.

Input: e2e.sh's measurements.jsonl, one line per measured run: kind (`size`: Refinery at a corpus size with N workers;
`size_w1`: the same with 1 worker, at the smallest size; `compare_refinery` and `compare_datatrove`: the comparison
corpus), round, the corpus folder, wall, user, sys, the largest single process's peak RSS (/usr/bin/time), the process
tree's peak memory (PSS and RSS summed over its processes, sampled every 0.2 s), and the dataset's stats.json and
manifest stage counters (Refinery) or tools/bench/datatrove_e2e.py's result, or why it failed (datatrove).

Sizes: each keeps its fastest round. Comparison: each round is Refinery, datatrove, Refinery; the wall-time ratio is,
per round, datatrove's wall over the mean of the two Refinery walls around it, and the table shows its median over the
rounds; the other numbers of the table are medians over the runs (peak memory: the largest).

Throughput, both tools: the whole run's input MB / wall seconds / workers ("MB/s per core"); a stage's input MB (the
UTF-8 text entering it; for reading, the input files) / its seconds summed over workers or tasks (Refinery's
worker_seconds in stats.json, datatrove's per-step time in its stats.json), i.e. MB per core-second.
"""
import argparse
import html
import json
import math
import os
import re
import sys
import time

MIB = 1 << 20

# Refinery's rows: (stage, key in stats.json worker_seconds, what datatrove does there).
STAGES = [
    ("read", "decode", "JsonlReader"),
    ("validate", "validate", None),
    ("lang", "lang", "LanguageFilter"),
    ("pii", "pii", "PIIFormatter"),
    ("quality", "quality", "GopherQualityFilter + GopherRepetitionFilter + C4QualityFilter"),
    ("toxicity", "toxicity", None),
    ("dedup", "dedup", "MinHash: signature, buckets, cluster, filter"),
    ("balance", "balance", None),
    ("write", "serialize_compress", "JsonlWriter (zstd)"),
]
NO_EQUIVALENT = {
    "validate": "no step (the reader skips lines that do not parse or carry no text)",
    "toxicity": "no equivalent in this pipeline",
    "balance": "no equivalent in datatrove",
}
# datatrove's dedup row in parts: (key in datatrove_e2e.py's result, row label, step).
DEDUP_PARTS = [("1_signature", "1 signature", "MinhashDedupSignature"),
               ("2_buckets", "2 buckets", "MinhashDedupBuckets"),
               ("3_cluster", "3 cluster", "MinhashDedupCluster"),
               ("4_filter", "4 filter", "MinhashDedupFilter"),
               ("spill_write", "filtered docs out", "JsonlWriter (uncompressed), for stage 4 to read"),
               ("spill_read", "filtered docs in", "JsonlReader of them, before stage 4")]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def fastest(runs):
    """The fastest of some runs, with the largest peak RSS among them."""
    if not runs:
        return None
    best = dict(min(runs, key=lambda r: r["wall"]))
    best["rss_kib"] = max(r["rss_kib"] for r in runs)
    best["rounds"] = len(runs)
    return best


def median(values):
    """The median of the values that are not None (None when there are none)."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def peak_kib(run):
    """A run's peak memory: the peak of its process tree's PSS summed over the processes, as sampled, or the largest
    process's peak RSS (/usr/bin/time) if that is more, since a sample can miss a short peak and getrusage cannot (for
    Refinery's one process it is the exact peak); None without a sample."""
    return max(run["tree_pss_kib"], run["rss_kib"] or 0) if run and run.get("tree_pss_kib") else None


def peak_mib(run):
    """peak_kib() of a typical() run, in MiB."""
    kib = run.get("peak_kib") if run else None
    return kib / 1024 if kib else None


def typical(runs):
    """One run standing for several of the same kind: the median of each time (wall, user, sys; Refinery's worker
    seconds per stage; datatrove's seconds per stage and part), the largest peak memory, disturbed when any was; the
    counters of the first (every run of the same input has the same)."""
    if not runs:
        return None
    out = json.loads(json.dumps(runs[0]))
    for key in ("wall", "user", "sys"):
        out[key] = median(r[key] for r in runs)
    out["rss_kib"] = max(r["rss_kib"] for r in runs)
    for key, of in (("peak_kib", peak_kib), ("tree_pss_kib", None), ("tree_rss_kib", None), ("tree_processes", None)):
        sampled = [v for v in ((of(r) if of else r.get(key)) for r in runs) if v]
        out[key] = max(sampled) if sampled else None
    out["flagged"] = any(r["flagged"] for r in runs)
    out["runs"] = len(runs)
    if "stats" in out:
        out["stats"]["worker_seconds"] = {key: median(r["stats"].get("worker_seconds", {}).get(key) for r in runs)
                                          for key in out["stats"].get("worker_seconds", {})}
    if "datatrove" in out:
        for name, stage in out["datatrove"]["stages"].items():
            if "seconds" in stage:
                stage["seconds"] = median(r["datatrove"]["stages"][name].get("seconds") for r in runs)
            for part in stage.get("parts", {}):
                stage["parts"][part] = median(r["datatrove"]["stages"][name]["parts"].get(part) for r in runs)
    return out


def round_ratios(ref_runs, dt_runs):
    """Per round with a datatrove run: its wall over the mean wall of the Refinery runs around it."""
    rounds = []
    for dt in dt_runs:
        walls = [r["wall"] for r in ref_runs if r["round"] == dt["round"]]
        if walls:
            mean = sum(walls) / len(walls)
            rounds.append({"round": dt["round"], "datatrove_wall": dt["wall"], "refinery_walls": walls,
                           "refinery_mean_wall": mean, "ratio": dt["wall"] / mean,
                           "datatrove_disturbed": dt["flagged"],
                           "refinery_disturbed": any(r["flagged"] for r in ref_runs if r["round"] == dt["round"])})
    return rounds


def corpus_of(run):
    """The corpus folder a run read: recorded by e2e.sh, or (measurements of an older e2e.sh) the run's spec.yaml."""
    if not run:
        return None
    if run.get("corpus"):
        return run["corpus"]
    if run.get("datatrove", {}).get("corpus"):
        return run["datatrove"]["corpus"]
    try:
        with open(os.path.join(run["folder"], "spec.yaml")) as f:
            found = re.search(r"glob: '?(.+?)/chats/\*\.jsonl", f.read())
        return found.group(1) if found else None
    except OSError:
        return None


def per_core(mb, seconds, cores=1):
    return mb / seconds / cores if seconds and seconds > 0 and mb is not None else None


def refinery_stages(run):
    """stage -> {seconds, mb_in, mb_per_s} of a Refinery run."""
    stats, stages = run["stats"], run["stages"]
    out = {}
    for name, key, _ in STAGES:
        seconds = stats.get("worker_seconds", {}).get(key)
        if name == "read":
            size = stats.get("input_bytes")
        elif name == "write":
            last = [s for s in stages if s != "read"][-1] if stages else None
            size = stages[last]["bytes_out"] if last else None
        else:
            size = stages.get(name, {}).get("bytes_in")
        mb = size / 1e6 if size is not None else None
        out[name] = {"seconds": seconds, "mb_in": mb, "mb_per_s": per_core(mb, seconds)}
    return out


def fit(xs, ys):
    """Least-squares slope of log(y) on log(x): the exponent of y ∝ x^k (None with fewer than two sizes)."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y and x > 0 and y > 0]
    if len({p[0] for p in points}) < 2:
        return None
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def num(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10 or digits == 0:
        return f"{value:.{min(digits, 1)}f}"
    if abs(value) < 0.1 and value != 0:
        return f"{value:.3f}"
    return f"{value:.{max(digits, 2)}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def times(value):
    if value is None:
        return "–"
    return f"×{value:,.0f}" if value >= 10 else f"×{value:.2f}" if value < 1 else f"×{value:.1f}"


def mib(kib):
    return kib / 1024 if kib is not None else None


# ------------------------------------------------------------------------------------------------ tables

def comparison_rows(ref, dt, rounds, workers, compare_mb, skipped):
    """The one table: whole run (wall, CPU, peak memory) and per stage, both tools, and their ratio. ref and dt are
    typical() runs; rounds, round_ratios() (the wall row's numbers are their medians); skipped, why datatrove has no
    numbers (not run, or failed)."""
    rows = []
    input_mb = ref["stats"].get("input_bytes", 0) / 1e6 if ref else compare_mb
    dtr = dt["datatrove"] if dt else None
    dt_disturbed = bool(dt and dt["flagged"])
    ref_wall = median(r["refinery_mean_wall"] for r in rounds) if rounds else ref and ref["wall"]
    dt_wall = median(r["datatrove_wall"] for r in rounds) if rounds else None
    ref_mbps = per_core(input_mb, ref_wall, workers) if ref else None
    dt_mbps = per_core(input_mb, dt_wall, workers) if dt else None
    dt_what = (f"4 LocalPipelineExecutor runs: {workers} workers (MinHash cluster: 1 task, so 1 worker)" if dt
               else skipped or "not run")
    rows.append({"stage": "whole run: wall", "refinery_s": ref_wall, "refinery_mbps": ref_mbps,
                 "datatrove": dt_what, "datatrove_s": dt_wall, "datatrove_mbps": dt_mbps,
                 "ratio": median(r["ratio"] for r in rounds) if rounds and dt else None, "unit": "s, MB/s per core",
                 "refinery_disturbed": bool(ref and ref["flagged"]), "datatrove_disturbed": dt_disturbed})
    ref_cpu = ref and ref["user"] + ref["sys"]
    dt_cpu = dt and dt["user"] + dt["sys"]
    rows.append({"stage": "whole run: CPU (user + sys)", "refinery_s": ref_cpu,
                 "refinery_mbps": per_core(input_mb, ref_cpu), "datatrove": "all processes" if dt else "",
                 "datatrove_s": dt_cpu, "datatrove_mbps": per_core(input_mb, dt_cpu),
                 "ratio": ratio(per_core(input_mb, ref_cpu), per_core(input_mb, dt_cpu)), "unit": "CPU-s, MB per CPU-s"})
    processes = f"all {dt['tree_processes']} processes" if dt and dt.get("tree_processes") else "all processes"
    rows.append({"stage": "whole run: peak memory (MiB)", "refinery_s": peak_mib(ref), "refinery_mbps": None,
                 "datatrove": (f"{processes} (parent, Manager, workers), as for Refinery: PSS summed, sampled "
                               "(see the notes)" if peak_mib(dt) else "no sample of its processes: no ratio")
                 if dt else "",
                 "datatrove_s": peak_mib(dt), "datatrove_mbps": None, "ratio": ratio(peak_mib(ref), peak_mib(dt)),
                 "unit": "MiB", "ratio_is_memory": True})
    rows.append({"stage": "whole run: largest process, peak RSS (MiB)", "refinery_s": ref and mib(ref["rss_kib"]),
                 "refinery_mbps": None,
                 "datatrove": "`/usr/bin/time -v`: one of its processes, so no ratio" if dt else "",
                 "datatrove_s": dt and mib(dt["rss_kib"]), "datatrove_mbps": None, "ratio": None, "unit": "MiB"})
    ref_stages = refinery_stages(ref) if ref else {}
    for name, _, what in STAGES:
        r = ref_stages.get(name, {})
        row = {"stage": name, "refinery_s": r.get("seconds"), "refinery_mbps": r.get("mb_per_s"),
               "refinery_mb_in": r.get("mb_in"), "datatrove": what or NO_EQUIVALENT[name],
               "datatrove_s": None, "datatrove_mbps": None, "ratio": None}
        if dtr and what:
            d = dtr["stages"].get(name, {})
            if "skipped" in d:
                row["datatrove"] = f"{what}: skipped (no model offline; see the notes)"
            else:
                mb = d["bytes_in"] / 1e6
                row.update(datatrove_s=d["seconds"], datatrove_mbps=per_core(mb, d["seconds"]), datatrove_mb_in=mb,
                           datatrove_disturbed=dt_disturbed)
                row["ratio"] = ratio(row["refinery_mbps"], row["datatrove_mbps"])
        elif not dtr and what:
            row["datatrove"] = f"{what} (not run)"
        rows.append(row)
        if name == "dedup" and dtr:
            d = dtr["stages"]["dedup"]
            for part, label, step in DEDUP_PARTS:
                rows.append({"stage": f"↳ dedup: {label}", "sub": True, "refinery_s": None, "refinery_mbps": None,
                             "datatrove": step, "datatrove_s": d["parts"].get(part), "datatrove_mbps": None,
                             "ratio": None, "datatrove_disturbed": dt_disturbed})
    return rows


def datatrove_quality_note(dtr):
    """What datatrove's quality filters did to the records, subtitle windows above all: GopherQualityFilter's
    50-word minimum (gopher_short_doc) removes nearly all of them before GopherRepetitionFilter and C4QualityFilter."""
    quality = dtr["stages"].get("quality", {})
    dropped = quality.get("dropped")
    if dropped is None:  # an older datatrove_e2e.py: the drop counters of run 1's steps
        n_lang = 0 if dtr.get("lang_skipped") else 1
        steps = dtr["executors"]["filter"]["steps"][1 + n_lang:4 + n_lang]
        dropped = {f"{name}.{key[len('dropped_'):]}": value
                   for name, step in zip(("GopherQualityFilter", "GopherRepetitionFilter", "C4QualityFilter"), steps)
                   for key, value in step["stats"].items() if key.startswith("dropped_")}
    by_filter = lambda name: sum(v for k, v in dropped.items() if k.startswith(name + "."))
    short = dropped.get("GopherQualityFilter.gopher_short_doc", 0)
    entering = quality.get("docs_in", 0)
    subtitles_in = (quality.get("categories_in") or dtr.get("categories_read", {})).get("subtitles", 0)
    text = (f"Of the {entering:,} documents entering datatrove's quality filters, GopherQualityFilter drops "
            f"{by_filter('GopherQualityFilter'):,}, {short:,} of them for having fewer than 50 words "
            f"(`gopher_short_doc`), GopherRepetitionFilter {by_filter('GopherRepetitionFilter'):,} and "
            f"C4QualityFilter {by_filter('C4QualityFilter'):,}")
    after_gopher = quality.get("categories_after_gopher_quality")
    if after_gopher is not None and subtitles_in:
        text += (f". A subtitle window is one to six short lines, so GopherQualityFilter's 50-word minimum removes "
                 f"nearly all of them: {after_gopher.get('subtitles', 0):,} of {subtitles_in:,} get past it, and "
                 f"{(quality.get('categories_out') or {}).get('subtitles', 0):,} past all three filters")
    elif subtitles_in:
        text += (f". A subtitle window is one to six short lines, so GopherQualityFilter's 50-word minimum removes "
                 f"nearly all of the {subtitles_in:,} read before C4QualityFilter sees them")
    return text + "; datatrove's later stages see fewer, longer records."


def kinds(categories):
    """Records per kind (chats, subtitle windows, documents of any other category), as text."""
    chats = categories.get("chat", 0)
    subtitles = categories.get("subtitles", 0)
    docs = sum(categories.values()) - chats - subtitles
    return f"{chats:,} chats, {subtitles:,} subtitle windows, {docs:,} documents"


def comparison_markdown(rows):
    out = ["| stage | Refinery: s | Refinery: MB/s per core | datatrove equivalent | datatrove: s | "
           "datatrove: MB/s per core | Refinery / datatrove |", "|---|---:|---:|---|---:|---:|---:|"]
    for row in rows:
        stage = row["stage"]
        if row.get("ratio_is_memory"):
            rt = f"{row['ratio']:.2f} (memory)" if row["ratio"] is not None else "–"
        else:
            rt = times(row["ratio"])
        label = f"**{stage}**" if stage.startswith("whole run") else stage
        ref_s = num(row["refinery_s"]) + (" (disturbed)" if row.get("refinery_disturbed") else "")
        dt_s = num(row["datatrove_s"]) + (" (disturbed)" if row.get("datatrove_disturbed") and
                                          row["datatrove_s"] is not None else "")
        out.append(f"| {label} | {ref_s} | {num(row['refinery_mbps'])} | {row['datatrove']} | "
                   f"{dt_s} | {num(row['datatrove_mbps'])} | {rt} |")
    return out


MIN_STAGE_SHARE = 0.05  # of the worker seconds at the largest size, for a stage to be named the fastest-growing


def scaling(sizes_runs, workers):
    """Per size: the fastest run's numbers; and the exponents of the fits."""
    points = []
    for run in sizes_runs:
        stats, stages = run["stats"], run["stages"]
        dedup_records = stages.get("dedup", {}).get("records_in") or 0
        index = stats.get("dedup_index_bytes_per_record", 0) * dedup_records
        # Everything dedup's resolver holds per record (LSH tables, sketches, exact table, groups); older builds
        # reported the LSH tables only.
        state = stats.get("dedup_state_bytes_per_record", stats.get("dedup_index_bytes_per_record", 0)) * dedup_records
        points.append({
            "size_mb": run["size_mb"], "input_mb": stats.get("input_bytes", 0) / 1e6, "wall": run["wall"],
            "cpu": run["user"] + run["sys"], "rss_mib": mib(run["rss_kib"]), "dedup_index_mib": index / MIB,
            "dedup_state_mib": state / MIB,
            "mb_per_s_per_core": per_core(stats.get("input_bytes", 0) / 1e6, run["wall"], workers),
            "worker_seconds": {name: stats.get("worker_seconds", {}).get(key) for name, key, _ in STAGES},
            "records_read": stages.get("read", {}).get("records_in"),
            "records_written": run.get("written", {}).get("written"),
            "flagged": run["flagged"], "rounds": run["rounds"],
        })
    xs = [p["input_mb"] for p in points]
    fits = {"wall": fit(xs, [p["wall"] for p in points]), "cpu": fit(xs, [p["cpu"] for p in points]),
            "rss": fit(xs, [p["rss_mib"] for p in points]),
            "rss_without_dedup_index": fit(xs, [p["rss_mib"] - p["dedup_index_mib"] for p in points]),
            "dedup_index": fit(xs, [p["dedup_index_mib"] for p in points]),
            "rss_without_dedup_state": fit(xs, [p["rss_mib"] - p["dedup_state_mib"] for p in points]),
            "stages": {name: fit(xs, [p["worker_seconds"][name] for p in points]) for name, _, _ in STAGES}}
    # Shares of the worker seconds at the largest size: a stage of a few per cent (balance) is timer noise, so the
    # fastest-growing cost is named among the others only.
    largest = max(points, key=lambda p: p["input_mb"])["worker_seconds"] if points else {}
    total = sum(v for v in largest.values() if v)
    fits["stage_shares_at_largest"] = {name: (v / total if v is not None and total else None)
                                       for name, v in largest.items()}
    growing = [(k, v) for k, v in fits["stages"].items()
               if v is not None and (fits["stage_shares_at_largest"].get(k) or 0) >= MIN_STAGE_SHARE]
    fits["fastest_growing_stage"] = max(growing, key=lambda kv: kv[1])[0] if growing else None
    return points, fits


def scaling_markdown(points, fits, workers):
    names = [name for name, _, _ in STAGES]
    out = [f"| input MB | wall s | CPU s | MB/s per core | peak RSS MiB (`/usr/bin/time`) | dedup index MiB | "
           "dedup state MiB | peak RSS − dedup state MiB | records read → written | "
           + " | ".join(f"{n} s" for n in names) + " |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(names)]
    for p in points:
        flag = " (disturbed)" if p["flagged"] else ""
        out.append(f"| {p['input_mb']:.0f} | {num(p['wall'])}{flag} | {num(p['cpu'])} | {num(p['mb_per_s_per_core'])} | "
                   f"{p['rss_mib']:.0f} | {num(p['dedup_index_mib'])} | {num(p['dedup_state_mib'])} | "
                   f"{p['rss_mib'] - p['dedup_state_mib']:.0f} | {p['records_read']:,} → {p['records_written']:,} | "
                   + " | ".join(num(p["worker_seconds"][n]) for n in names) + " |")
    out.append("")
    if fits["wall"] is None:
        out.append("One size only: no fit (`REFINERY_BENCH_SIZES=\"100 1000 5000\"` measures how cost grows).")
        return out
    k = len(points)
    out.append(f"Least-squares fits of log(y) on log(input MB) over {k} sizes (exponent 1 = linear):")
    out.append("")
    out.append(f"- wall time ∝ size^{fits['wall']:.2f}; CPU time ∝ size^{fits['cpu']:.2f}")
    out.append(f"- peak RSS ∝ size^{fits['rss']:.2f}; the dedup index (stats.json's bytes per record × records into "
               f"dedup) ∝ size^{num(fits['dedup_index'])}; peak RSS minus the index ∝ size^"
               f"{num(fits['rss_without_dedup_index'])}; minus dedup's whole state (the index, sketches, exact-hash "
               f"table and groups: stats.json's `dedup_state_bytes_per_record`) ∝ size^"
               f"{num(fits['rss_without_dedup_state'])}")
    shares = fits["stage_shares_at_largest"]
    largest = max(p["input_mb"] for p in points)
    stage_fits = ", ".join(f"{n} {fits['stages'][n]:.2f} ({shares[n] * 100:.0f} %)" for n in names
                           if fits["stages"][n] is not None and shares.get(n) is not None)
    out.append(f"- worker seconds per stage, exponent (share of all stages' worker seconds at {largest:.0f} MB): "
               f"{stage_fits}")
    if fits["fastest_growing_stage"]:
        name = fits["fastest_growing_stage"]
        out.append(f"- fastest-growing cost among the stages with at least {MIN_STAGE_SHARE * 100:.0f} % of the worker "
                   f"seconds: **{name}** (worker seconds ∝ size^{fits['stages'][name]:.2f}, "
                   f"{shares[name] * 100:.0f} % at {largest:.0f} MB)")
    if points[0]["input_mb"] < 500:
        out.append("- runs of a few seconds carry fixed costs (loading the language and toxicity models, starting "
                   "workers) and the machine's noise in full; fits over sizes under a few hundred MB say little")
    if any(p["flagged"] for p in points):
        out.append("- a run marked (disturbed) shared the CPU with other processes: its wall time, and the fits "
                   "through it, are too high")
    return out


def truth_markdown(corpus, run):
    """What the corpus holds against what Refinery took out (a sanity check of the pipeline on the bench corpus)."""
    truth = corpus.get("truth")
    if not truth or not run:
        return []
    stages = run["stages"]
    dropped = lambda stage: sum((stages.get(stage, {}).get("dropped") or {}).values())
    redacted = (stages.get("pii", {}).get("events") or {}).get("pii_redacted")
    copies = truth["dup_members"] - truth["dup_groups"]
    return [
        "| planted in the corpus | count | what Refinery removed or marked | count |",
        "|---|---:|---|---:|",
        f"| bad lines (cut JSON, wrong shapes, empty) | {truth['bad_lines']:,} | read + validate drops | "
        f"{dropped('read') + dropped('validate'):,} |",
        f"| garbage documents | {truth['junk_records']:,} | quality drops (every reason, ordinary records too) | {dropped('quality'):,} |",
        f"| records with PII | {truth['pii_records']:,} | records redacted (pii_redacted) | "
        f"{f'{redacted:,}' if redacted is not None else '–'} |",
        f"| toxic records | {truth['toxic_records']:,} | toxicity drops (after quality) | {dropped('toxicity'):,} |",
        f"| duplicate copies ({truth['dup_groups']:,} groups, {truth['dup_members']:,} members) | {copies:,} | "
        f"dedup drops (exact + near) | {dropped('dedup'):,} |",
    ]


# ------------------------------------------------------------------------------------------------- charts

COLORS = {"Refinery": "#1f77b4", "datatrove": "#ff7f0e", "fit": "#888888", "index": "#2ca02c"}


def svg_text(x, y, text, anchor="start", size=12, color="#222", weight="normal"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{color}" '
            f'font-weight="{weight}">{html.escape(text)}</text>')


def bars_svg(rows):
    """Horizontal bars, log scale: MB/s per core of each stage, Refinery and datatrove."""
    data = [(r["stage"], r["refinery_mbps"], r["datatrove_mbps"], "skipped" if "skipped" in r["datatrove"]
             else "not run" if "not run" in r["datatrove"] else "no equivalent") for r in rows
            if not r.get("sub") and (r["stage"] == "whole run: wall" or not r["stage"].startswith("whole run"))]
    data = [(("whole run" if s.startswith("whole run") else s), a, b, why) for s, a, b, why in data]
    values = [v for _, a, b, _ in data for v in (a, b) if v]
    if not values:
        return ""
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    if hi <= lo:
        hi = lo * 10
    left, width, row_h, top = 110, 560, 36, 30
    height = top + row_h * len(data) + 40
    x = lambda v: left + width * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
             f'role="img" aria-label="throughput per stage">',
             svg_text(left, 16, "MB/s per core (log scale)", size=13, weight="bold")]
    decade = lo
    while decade <= hi * 1.0001:
        parts.append(f'<line x1="{x(decade):.1f}" y1="{top - 4}" x2="{x(decade):.1f}" y2="{height - 34}" '
                     f'stroke="#ddd"/>')
        parts.append(svg_text(x(decade), height - 20, f"{decade:g}", anchor="middle", size=11, color="#555"))
        decade *= 10
    for i, (stage, a, b, why) in enumerate(data):
        y = top + i * row_h
        parts.append(svg_text(left - 8, y + 20, stage, anchor="end"))
        for j, (tool, value) in enumerate((("Refinery", a), ("datatrove", b))):
            yy = y + 4 + j * 14
            if value:
                parts.append(f'<rect x="{left}" y="{yy}" width="{max(1.0, x(value) - left):.1f}" height="12" '
                             f'fill="{COLORS[tool]}"><title>{tool} {stage}: {num(value)} MB/s per core</title></rect>')
                parts.append(svg_text(x(value) + 4, yy + 10, num(value), size=10, color="#333"))
            else:
                parts.append(svg_text(left + 4, yy + 10, f"{tool}: {why}", size=10, color="#999"))
    parts.append(f'<rect x="{left + width - 150}" y="{top - 26}" width="10" height="10" fill="{COLORS["Refinery"]}"/>')
    parts.append(svg_text(left + width - 136, top - 17, "Refinery", size=11))
    parts.append(f'<rect x="{left + width - 70}" y="{top - 26}" width="10" height="10" fill="{COLORS["datatrove"]}"/>')
    parts.append(svg_text(left + width - 56, top - 17, "datatrove", size=11))
    parts.append("</svg>")
    return "\n".join(parts)


def nice_ticks(lo, hi):
    """Tick values for a log axis between lo and hi: 1, 2, 5 times powers of ten."""
    ticks = []
    decade = 10 ** math.floor(math.log10(lo))
    while decade <= hi * 10:
        for m in (1, 2, 5):
            v = m * decade
            if lo <= v <= hi:
                ticks.append(v)
        decade *= 10
    return ticks or [lo, hi]


def line_svg(title, points, series, unit, exponent_text):
    """y against input MB on log-log axes; series: [(label, color, [y per point])]."""
    xs = [p["input_mb"] for p in points]
    ys = [v for _, _, vals in series for v in vals if v and v > 0]
    if not xs or not ys:
        return ""
    xlo, xhi = min(xs) / 1.5, max(xs) * 1.5
    ylo, yhi = min(ys) / 1.5, max(ys) * 1.5
    left, top, w, h = 60, 30, 300, 200
    fx = lambda v: left + w * (math.log(v) - math.log(xlo)) / (math.log(xhi) - math.log(xlo))
    fy = lambda v: top + h - h * (math.log(v) - math.log(ylo)) / (math.log(yhi) - math.log(ylo))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + w + 150}" height="{top + h + 60}" role="img" '
             f'aria-label="{html.escape(title)}">', svg_text(left, 16, title, size=13, weight="bold"),
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
    for v in nice_ticks(ylo, yhi):
        parts.append(f'<line x1="{left}" y1="{fy(v):.1f}" x2="{left + w}" y2="{fy(v):.1f}" stroke="#eee"/>')
        parts.append(svg_text(left - 6, fy(v) + 4, f"{v:g}", anchor="end", size=10, color="#555"))
    for v in xs:
        parts.append(svg_text(fx(v), top + h + 16, f"{v:.0f}" if v >= 10 else f"{v:.2g}", anchor="middle", size=10,
                              color="#555"))
    parts.append(svg_text(left + w / 2, top + h + 34, "input MB (log)", anchor="middle", size=11, color="#555"))
    parts.append(svg_text(left + w / 2, top + h + 50, exponent_text, anchor="middle", size=11, color="#333"))
    for i, (label, color, vals) in enumerate(series):
        pts = [(fx(x), fy(y)) for x, y in zip(xs, vals) if y and y > 0]
        if len(pts) > 1:
            parts.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="none" '
                         f'stroke="{color}" stroke-width="2"/>')
        for (a, b), x, y in zip(pts, xs, [v for v in vals if v and v > 0]):
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{color}"><title>{label}: {y:.3g} {unit} '
                         f'at {x:g} MB</title></circle>')
        parts.append(f'<rect x="{left + w + 12}" y="{top + 8 + i * 18}" width="10" height="10" fill="{color}"/>')
        parts.append(svg_text(left + w + 26, top + 17 + i * 18, label, size=11))
    parts.append("</svg>")
    return "\n".join(parts)


def inline(text):
    """Markdown's `code` and **bold** in one line, as HTML."""
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


def cells(line):
    return [cell.strip() for cell in line.strip()[1:-1].split("|")]


def markdown_to_html_table(lines):
    """A markdown table written here, as HTML."""
    rows = [cells(line) for line in lines]
    if len(rows) < 2:
        return ""
    aligns = ["right" if cell.endswith(":") else "left" for cell in rows[1]]
    out = ["<table>", "<tr>" + "".join(f"<th>{inline(c)}</th>" for c in rows[0]) + "</tr>"]
    for row in rows[2:]:
        out.append("<tr>" + "".join(f'<td style="text-align:{align}">{inline(cell)}</td>'
                                    for cell, align in zip(row, aligns)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def markdown_to_html(md, charts_after_table):
    """The markdown written here as an HTML body: headings, paragraphs, lists, tables; charts_after_table[i] goes
    after the first table of the i-th `##` section."""
    out, table, items, section, placed = [], [], None, 0, set()

    def close():
        nonlocal table, items
        if table:
            out.append(markdown_to_html_table(table))
            if section not in placed and charts_after_table.get(section):
                out.append('<div class="charts">' + "\n".join(charts_after_table[section]) + "</div>")
                placed.add(section)
            table = []
        if items:
            out.append(f"<{items[0]}>" + "".join(f"<li>{inline(i)}</li>" for i in items[1]) + f"</{items[0]}>")
            items = None

    for line in md + [""]:
        numbered = re.match(r"\d+\. ", line)
        if line.startswith("|"):
            if items:
                close()
            table.append(line)
            continue
        if line.startswith("- ") or numbered:
            kind = "ol" if numbered else "ul"
            if table or (items and items[0] != kind):
                close()
            items = items or (kind, [])
            items[1].append(line[numbered.end():] if numbered else line[2:])
            continue
        close()
        if line.startswith("# "):
            out.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.startswith("## "):
            section += 1
            out.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    return out


# --------------------------------------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--measurements", required=True)
    p.add_argument("--determinism", required=True)
    p.add_argument("--sizes", required=True)
    p.add_argument("--compare-mb", type=float, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--built", default="")
    p.add_argument("--machine", default="")
    p.add_argument("--disturbed", type=int, default=0)
    p.add_argument("--datatrove-skipped", default="")
    p.add_argument("--elapsed", type=float, default=0)
    p.add_argument("--out", required=True, help="path without extension: OUT.md, OUT.json, OUT.html")
    args = p.parse_args()

    runs = load(args.measurements)
    by_kind = lambda kind: [r for r in runs if r["kind"] == kind]
    sizes = [float(s) for s in args.sizes.split()]
    size_runs = [fastest([r for r in by_kind("size") if r["size_mb"] == s]) for s in sizes]
    size_runs = [r for r in size_runs if r]
    ref_runs = by_kind("compare_refinery")
    dt_runs = [r for r in by_kind("compare_datatrove") if not r.get("failed")]
    dt_failed = [r for r in by_kind("compare_datatrove") if r.get("failed")]
    compare_ref, compare_dt = typical(ref_runs), typical(dt_runs)
    rounds = round_ratios(ref_runs, dt_runs)
    datatrove_missing = args.datatrove_skipped
    if dt_failed and not dt_runs:
        datatrove_missing = f"failed: {dt_failed[0]['failed']}"
    determinism = []
    with open(args.determinism) as f:
        for line in f:
            if line.strip():
                size, same, files, which = line.rstrip("\n").split("\t")
                determinism.append({"size_mb": float(size), "corpus": which, "identical": same == "yes",
                                    "files": int(files)})

    def corpus_info(run):
        folder = corpus_of(run)
        try:
            with open(os.path.join(folder, "corpus.json")) as f:
                return dict(json.load(f), folder=folder)
        except (OSError, TypeError):
            return {}

    compare_corpus = corpus_info(ref_runs[0] if ref_runs else None)
    largest_corpus = corpus_info(size_runs[-1] if size_runs else None)

    md = ["# End-to-end benchmark: Refinery's seven stages and datatrove's closest pipeline", ""]
    md.append(f"- date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; Refinery built from: {args.built}")
    md.append(f"- machine: {args.machine}; benchmark took {args.elapsed / 60:.1f} min")
    md.append(f"- both tools: {args.workers} workers (Refinery `--workers {args.workers}`; datatrove "
              f"`LocalPipelineExecutor(workers=min({args.workers}, tasks))`: {args.workers} tasks for the reading runs, "
              f"14 for MinHash's buckets, 1, so 1 worker, for its cluster step); {args.repeat} round(s): each size "
              "keeps its fastest, the comparison takes medians; peak memory, both tools: the process tree's PSS "
              "(RSS with shared pages split among the processes sharing them), summed and sampled every 0.2 s or, "
              "for large trees, less often, or the largest process's peak RSS if that is more")
    md.append("- corpus: tools/bench/gen_corpus.py `--langs multilingual --pii-rate 0.05 --junk-rate 0.03 --punctuate "
              "--subtitle-share 0.15 --dup-rate 0.08 --toxic-rate 0.02 --skew-categories` (chats, documents and "
              "subtitle windows as JSON lines in 19 languages)")
    md.append("- Refinery: validate, lang, pii, quality, toxicity, dedup, balance (temperature 0.5), zstd level 3 "
              "shards, all with their defaults otherwise")
    if args.disturbed:
        md.append(f"- **{args.disturbed} run(s) were disturbed by other processes and kept after the retries; "
                  "their numbers are too slow**")
    md.append("")

    result = {"settings": {"sizes_mb": sizes, "compare_mb": args.compare_mb, "workers": args.workers,
                           "repeat": args.repeat, "built": args.built, "machine": args.machine,
                           "disturbed_runs": args.disturbed, "elapsed_seconds": args.elapsed},
              "runs": runs, "determinism": determinism}

    # The comparison.
    md.append(f"## Refinery and datatrove on the same {args.compare_mb:g} MB corpus, same session" if compare_ref
              else "## Refinery and datatrove: not compared")
    md.append("")
    if compare_ref:
        rows = comparison_rows(compare_ref, compare_dt, rounds, args.workers, args.compare_mb, datatrove_missing)
        result["comparison"] = {"rows": rows, "corpus": compare_corpus, "rounds": rounds,
                                "datatrove_failed": [{"round": r["round"], "error": r["failed"]} for r in dt_failed]}
        md.append(f"datatrove's Gopher and C4 filters run at well under 1 MB/s per core (spaCy's tokenizer), so the "
                  f"comparison uses a {args.compare_mb:g} MB corpus (`REFINERY_BENCH_COMPARE_MB`): the same generator, "
                  f"seed and options as the large corpora, hence a prefix of each of their sources, in files of "
                  f"{compare_corpus.get('file_mb', '?')} MiB so that datatrove's tasks can share them. Each round runs "
                  "Refinery, datatrove, and Refinery again on it, so the ratio compares the same input in the same "
                  "minutes.")
        md.append("")
        md.extend(comparison_markdown(rows))
        md.append("")
        notes = ["Whole-run MB/s per core = input MB / wall seconds / workers. A stage's seconds are summed over "
                 "workers (Refinery's `worker_seconds` in stats.json; datatrove's per-step time in the stats.json of "
                 "its logging folder, summed over tasks), so its MB/s (UTF-8 text entering the stage; for read, the "
                 "input files) is per core. Refinery's read row is its decode step; write is serialize + compress. "
                 "Refinery's numbers are the medians of its runs (with one round, the means of the two), "
                 "datatrove's the medians of its rounds."]
        if compare_dt:
            dtr = compare_dt["datatrove"]
            notes.append("Wall-time ratio per round, datatrove's wall / the mean of the two Refinery runs around it "
                         "(the table shows the median over the rounds): "
                         + "; ".join(f"round {r['round']}: {num(r['datatrove_wall'])} s"
                                     f"{' (disturbed)' if r['datatrove_disturbed'] else ''} / mean("
                                     + ", ".join(f"{num(w)} s" for w in r["refinery_walls"])
                                     + f"){' (disturbed)' if r['refinery_disturbed'] else ''} = {times(r['ratio'])}"
                                     for r in rounds) + ".")
            if compare_dt["flagged"]:
                notes.append("**datatrove's run was disturbed**: other processes took CPU time during it (datatrove "
                             "is not run again, it takes too long), so its wall time and per-stage seconds, and the "
                             "ratios through them, are too high; its CPU time is much less affected.")
            ref_kinds = kinds({c: v.get("records_after", 0) for c, v in compare_ref.get("categories", {}).items()})
            dt_kinds = kinds(dtr.get("categories_written", {}))
            notes.append(f"Records: Refinery read {compare_ref['stages']['read']['records_in']:,} lines and wrote "
                         f"{compare_ref['written'].get('written', 0):,} ({ref_kinds}; balance, temperature 0.5, thins "
                         f"the largest categories); datatrove read {dtr['stages']['read']['docs_out']:,} documents and wrote "
                         f"{dtr['docs_written']:,} ({dt_kinds}). {datatrove_quality_note(dtr)}")
            notes.append("datatrove's dedup row holds its four MinHash runs and the writing and re-reading of the "
                         "filtered documents that MinHash's stage 4 needs; stage 1 times its whole loop, so the time "
                         "of the steps before it is subtracted. Its runs' start-up (processes, spaCy) is in the wall "
                         "time only.")
            if dtr.get("lang_skipped"):
                notes.append(f"datatrove's LanguageFilter was skipped: {dtr['lang_skipped']}. Refinery's lang stage "
                             "ran (its model is part of the package).")
        elif dt_failed:
            notes.append("datatrove failed: " + "; ".join(f"round {r['round']}: {r['failed']} (log: "
                                                         f"{r['folder']}/run.log)" for r in dt_failed) + ".")
        else:
            notes.append(f"datatrove was not run: {args.datatrove_skipped or 'no comparison'}.")
        if compare_dt and dt_failed:
            notes.append("datatrove failed in " + "; ".join(f"round {r['round']}: {r['failed']}" for r in dt_failed)
                         + "; the table uses the other rounds.")
        if compare_dt and peak_mib(compare_dt):
            notes.append("Peak memory: Refinery is one process; datatrove is a parent, multiprocessing's Manager and "
                         "a pool of workers forked from the parent, which share the parent's pages until they write "
                         "them. PSS counts a shared page once in all, split among the processes sharing it, so the "
                         "sum is the tree's memory; summed RSS would count it once per process: "
                         f"{num(mib(compare_dt.get('tree_rss_kib')))} MiB for datatrove, "
                         f"{num(mib(compare_ref.get('tree_rss_kib')))} MiB for Refinery. The sampler reads /proc every "
                         "0.2 s, less often when reading PSS takes long (it walks the page tables; it keeps itself "
                         "under 1 % of a core), so it can miss a short peak; each tool's figure is therefore the "
                         "sampled peak or, when that is less, the largest process's peak RSS from `/usr/bin/time` "
                         "(for Refinery's one process, the exact peak: "
                         f"{num(mib(compare_ref.get('tree_pss_kib')))} MiB sampled, {num(mib(compare_ref['rss_kib']))} MiB "
                         "from `/usr/bin/time`).")
        notes.append("toxicity and balance have no datatrove counterpart here (C4BadWordsFilter downloads its list on "
                     "first use; datatrove has no category balancing); validate has none either.")
        md.extend(f"{i}. {n}" for i, n in enumerate(notes, 1))
        md.append("")
    else:
        md.append("No comparison run (`REFINERY_BENCH_COMPARE_MB=0`).")
        md.append("")

    # Scaling.
    md.append(f"## Refinery at {', '.join(f'{s:g}' for s in sizes)} MB: how cost grows with size")
    md.append("")
    points, fits = scaling(size_runs, args.workers)
    result["scaling"] = {"points": points, "fits": fits}
    md.extend(scaling_markdown(points, fits, args.workers))
    md.append("")
    if determinism:
        md.append(f"## Same output with 1 and {args.workers} workers")
        md.append("")
        for d in determinism:
            verdict = "PASS" if d["identical"] else "FAIL"
            md.append(f"- {verdict}: the {d['size_mb']:g} MB {d['corpus']}, shards and manifest.json of "
                      f"`--workers 1` and `--workers {args.workers}` byte-identical (sha256 of {d['files']} files): "
                      f"{'yes' if d['identical'] else 'NO'}")
        md.append("")

    # The corpus against what came out.
    truth_run = size_runs[-1] if size_runs else compare_ref
    truth_corpus = largest_corpus if size_runs else compare_corpus
    lines = truth_markdown(truth_corpus, truth_run)
    if lines:
        md.append(f"## What the {truth_run['size_mb']:g} MB corpus holds, and what Refinery took out")
        md.append("")
        md.extend(lines)
        md.append("")
        md.append("Stages run in order, so a planted toxic or duplicate record that an earlier stage already dropped "
                  "(garbage, a bad line) is not counted again; near copies that only change case or spacing are "
                  "caught as exact duplicates after normalisation.")
        md.append("")
        result["truth"] = {"corpus": truth_corpus.get("truth"), "size_mb": truth_run["size_mb"]}

    with open(args.out + ".md", "w") as f:
        f.write("\n".join(md))
    with open(args.out + ".json", "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    # The page: the markdown as HTML, the bar chart after the comparison table, the size charts after the scaling one.
    charts = []
    if compare_ref:
        charts.append(bars_svg(result["comparison"]["rows"]))
    if points:
        exp = lambda key: f"exponent {fits[key]:.2f}" if fits.get(key) is not None else "one size: no fit"
        charts.append(line_svg("Refinery wall time (s)", points, [("wall", COLORS["Refinery"], [p["wall"] for p in points]),
                                                                  ("CPU", COLORS["fit"], [p["cpu"] for p in points])],
                               "s", f"wall ∝ size^k, {exp('wall')}"))
        charts.append(line_svg("Refinery peak memory (MiB)", points,
                               [("peak RSS", COLORS["Refinery"], [p["rss_mib"] for p in points]),
                                ("dedup index", COLORS["index"], [p["dedup_index_mib"] for p in points])],
                               "MiB", f"peak RSS ∝ size^k, {exp('rss')}"))
    page = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            "<title>Refinery end-to-end benchmark</title>",
            "<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px}"
            "th{background:#f4f4f4}code{background:#f4f4f4;padding:0 3px}"
            ".charts{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}</style></head><body>"]
    page.extend(markdown_to_html(md, {1: charts[:1], 2: charts[1:]} if compare_ref else {2: charts}))
    page.append("</body></html>")
    with open(args.out + ".html", "w") as f:
        f.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
