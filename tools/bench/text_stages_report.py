#!/usr/bin/env python3
"""Turns the runs of tools/bench/text_stages.sh into its table (stdout and a .md file) and a JSON file.

Refinery: RUNS/<config>/rounds.jsonl (one line per round: stats.json, the manifest's stage counters, wall/user/sys)
for the configurations `base` (validate only), one per known stage (validate + it) and `all` (validate + every known
stage). A stage's MB/s is the text it received (its manifest `bytes_in`) over its `worker_seconds` in the fastest
round; all four together is the text entering the first of them over the sum of their worker seconds in the `all`
run's fastest round. datatrove: the JSON of tools/bench/datatrove_filters.py, when it ran.
"""
import argparse
import json
import os
import statistics
import sys
import time

# datatrove's filters that do the work of each stage.
EQUIVALENTS = {
    "lang": ["LanguageFilter"],
    "pii": ["PIIFormatter"],
    "quality": ["GopherQualityFilter", "GopherRepetitionFilter", "C4QualityFilter", "FineWebQualityFilter"],
    "toxicity": ["C4BadWordsFilter"],
}
SHORT = {"GopherQualityFilter": "Gopher quality", "GopherRepetitionFilter": "Gopher repetition",
         "C4QualityFilter": "C4 quality", "FineWebQualityFilter": "FineWeb quality", "PIIFormatter": "PIIFormatter",
         "LanguageFilter": "LanguageFilter (fasttext lid.176)", "C4BadWordsFilter": "C4BadWordsFilter"}


def rounds_of(runs, config):
    with open(os.path.join(runs, config, "rounds.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def fmt(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def ratio_text(value, lower_bound):
    if value is None:
        return "–"
    text = f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return f"{'≥ ' if lower_bound else ''}×{text}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("runs", "corpus", "stages", "known", "datatrove", "datatrove-skipped", "built", "machine", "json",
                 "markdown"):
        p.add_argument(f"--{name}", default="")
    for name in ("stage-target", "all-target", "datatrove-mb"):
        p.add_argument(f"--{name}", type=float, required=True)
    for name in ("repeat", "core", "disturbed"):
        p.add_argument(f"--{name}", type=int, default=0)
    args = p.parse_args()

    stages, known = args.stages.split(), args.known.split()
    skipped = {}
    with open(os.path.join(args.runs, "skipped.tsv")) as f:
        for line in f:
            if line.strip():
                stage, why = line.rstrip("\n").split("\t", 1)
                skipped[stage] = why
    corpus = json.load(open(os.path.join(args.corpus, "corpus.json")))
    base = rounds_of(args.runs, "base")
    input_bytes = base[0]["stats"]["input_bytes"]

    # ------------------------------------------------------------------------------------------ refinery --
    refinery = {}
    for stage in known:
        rows = rounds_of(args.runs, stage)
        seconds = [r["stats"]["worker_seconds"][stage] for r in rows]
        best = min(range(len(rows)), key=lambda i: seconds[i])
        text = rows[best]["stages"][stage]["bytes_in"]
        cpu = [r["user"] + r["sys"] for r in rows]
        base_cpu = [r["user"] + r["sys"] for r in base]
        marginal = statistics.median(a - b for a, b in zip(cpu, base_cpu))
        refinery[stage] = {
            "spec_stages": ["validate", stage], "seconds": seconds[best], "median_seconds": statistics.median(seconds),
            "seconds_per_round": seconds, "text_bytes_in": text,
            "records_in": rows[best]["stages"][stage]["records_in"],
            "records_out": rows[best]["stages"][stage]["records_out"],
            "dropped": rows[best]["stages"][stage]["dropped"],
            "mb_per_s": text / 1e6 / seconds[best], "input_file_mb_per_s": input_bytes / 1e6 / seconds[best],
            "marginal_cpu_seconds_median": marginal, "whole_run_wall_best": min(r["wall"] for r in rows),
            "disturbed_rounds": sum(r["flagged"] for r in rows), "rounds": len(rows),
        }
    rows = rounds_of(args.runs, "all")
    sums = [sum(r["stats"]["worker_seconds"][s] for s in known) for r in rows]
    best = min(range(len(rows)), key=lambda i: sums[i])
    text = rows[best]["stages"][known[0]]["bytes_in"]
    refinery["all"] = {
        "spec_stages": ["validate"] + known, "seconds": sums[best], "median_seconds": statistics.median(sums),
        "seconds_per_round": sums, "text_bytes_in": text,
        "per_stage_seconds": {s: rows[best]["stats"]["worker_seconds"][s] for s in known},
        "per_stage": {s: rows[best]["stages"][s] for s in known},
        "mb_per_s": text / 1e6 / sums[best], "input_file_mb_per_s": input_bytes / 1e6 / sums[best],
        "whole_run_wall_best": min(r["wall"] for r in rows), "disturbed_rounds": sum(r["flagged"] for r in rows),
        "rounds": len(rows),
    }
    refinery["base"] = {"validate_seconds": min(r["stats"]["worker_seconds"]["validate"] for r in base),
                        "rounds": len(base),
                        "whole_run_wall_best": min(r["wall"] for r in base),
                        "validate_text_bytes_in": base[0]["stages"]["validate"]["bytes_in"]}

    # ----------------------------------------------------------------------------------------- datatrove --
    datatrove = None
    if not args.datatrove_skipped and os.path.exists(args.datatrove):
        datatrove = json.load(open(args.datatrove))

    def datatrove_rate(names):
        """MB/s of the named filters run one after the other on every text, and the names that were skipped."""
        if datatrove is None:
            return None, []
        filters = datatrove["filters"]
        ran = [n for n in names if "seconds" in filters.get(n, {})]
        missing = [n for n in names if n not in ran]
        if not ran:
            return None, missing
        return datatrove["sample"]["text_bytes"] / 1e6 / sum(filters[n]["seconds"] for n in ran), missing

    # ------------------------------------------------------------------------------------------------ rows --
    notes = []

    def note(text):
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    table = []
    for stage in stages + ["all"]:
        names = EQUIVALENTS.get(stage, []) if stage != "all" else [n for s in known for n in EQUIVALENTS.get(s, [])]
        label = stage if stage != "all" else f"all {len(known)} together ({', '.join(known)})" if len(known) < len(
            stages) else "all four together"
        target = args.all_target if stage == "all" else args.stage_target
        row = {"stage": stage, "target_mb_per_s": target, "datatrove_filters": names}
        if stage in refinery:
            row["refinery_mb_per_s"] = round(refinery[stage]["mb_per_s"], 2)
            row["met"] = refinery[stage]["mb_per_s"] >= target
            ours = f"{refinery[stage]['mb_per_s']:.1f}"
            met = "yes" if row["met"] else "**no**"
            if stage == "all" and skipped:
                met += " " + note(f"'all' ran without {', '.join(skipped)}, which this refinery does not know; "
                                  "the target is for all four.")
        else:
            row["refinery_skipped"] = skipped.get(stage, "not run")
            reason = row["refinery_skipped"]
            ours = f"skipped {note(f'{stage}: {reason}.')}"
            met = "–"
        rate, missing = datatrove_rate(names)
        if not names:
            theirs = "–"
        elif datatrove is None:
            theirs = f"not run {note('datatrove: ' + (args.datatrove_skipped or 'no result') + '.')}"
        elif rate is None:
            reasons = "; ".join(f"{n}: {datatrove['filters'][n]['skipped']}" for n in missing
                                if "skipped" in datatrove["filters"].get(n, {}))
            theirs = f"skipped {note(reasons)}"
        else:
            theirs = f"{rate:.2f}"
            if missing:
                theirs += " " + note(f"without {', '.join(missing)} (skipped), so datatrove's time is too short and "
                                     "the ratio is a lower bound.")
        row["datatrove_mb_per_s"] = round(rate, 3) if rate is not None else None
        row["datatrove_missing"] = missing
        ratio = refinery[stage]["mb_per_s"] / rate if stage in refinery and rate else None
        row["ratio"] = round(ratio, 1) if ratio is not None else None
        equivalent = (" + ".join(SHORT[n] for n in names) or "none") if stage != "all" else "all of the above"
        table.append(row)
        row["line"] = (f"| {label} | {ours} | ≥ {target:g} | {met} | {equivalent} | {theirs} | "
                       f"{ratio_text(ratio, bool(missing))} |")

    # --------------------------------------------------------------------------------------------- output --
    chats, docs = corpus["chats"], corpus["docs"]
    out = []
    out.append("# Text stages: lang, pii, quality, toxicity — MB/s per core")
    out.append("")
    out.append(f"- date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; built from: {args.built}")
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    langs = corpus.get("langs", "en:0.7,fr:0.1,de:0.1,ru:0.1")
    langs = "19 languages in 9 scripts (`--langs multilingual`)" if langs == "multilingual" else f"`{langs}`"
    out.append(f"- machine: {args.machine}; load average at the end: {load}")
    out.append(f"- corpus: {args.corpus}, {corpus['bytes'] / 1e6:.0f} MB of JSONL: {chats['lines']} chats and "
               f"{docs['lines']} documents in {langs}, PII in "
               f"{corpus.get('pii_rate', 0):.0%} of records and look-alikes in {3 * corpus.get('pii_rate', 0):.0%}, "
               f"{corpus.get('junk_rate', 0):.0%} garbage documents, {corpus['bad_rate']:.0%} bad lines "
               f"(tools/bench/gen_corpus.py, seed {corpus['seed']})")
    out.append(f"- Refinery: `taskset -c {args.core} refinery run SPEC --workers 1 --force`, fastest of {args.repeat} "
               "round(s) (once for a spec whose run takes over a minute); MB/s = MB of text the stage received (manifest `bytes_in`: UTF-8 of text or message "
               "contents) / the stage's `worker_seconds` (stats.json); all together = text entering the first stage "
               "/ the sum of the stages' worker seconds in one run of `validate, " + ", ".join(known) + "`")
    if datatrove is not None:
        s = datatrove["sample"]
        out.append(f"- datatrove {s['datatrove']}: `taskset -c {args.core}`, one process, every "
                   f"{s['every_kth_line']}th line of the same corpus ({s['texts']} texts, {s['text_bytes'] / 1e6:.1f} "
                   "MB of text; chats as their turns joined by blank lines); CPU seconds of each filter's own "
                   "`filter()` / `format()` calls (reading excluded), default settings; a composite is its filters "
                   "one after the other, each on every text")
    out.append("")
    out.append("| stage | Refinery MB/s per core | target | met? | datatrove equivalent | datatrove MB/s per core | "
               "Refinery / datatrove |")
    out.append("|---|---:|---:|---|---|---:|---:|")
    out += [row["line"] for row in table]
    out.append("")
    for i, text in enumerate(notes, 1):
        out.append(f"[{i}] {text}")
    if notes:
        out.append("")
    if args.disturbed:
        out.append(f"**Warning: {args.disturbed} run(s) were still disturbed by other processes after the retries "
                   "and were kept; their stage times may be too long.**")
        out.append("")

    out.append("Where the time goes (Refinery, fastest round of each spec; worker seconds are wall time inside the "
               "stage on the pinned core, so other work on that core lengthens them; marginal CPU-s = the run's "
               "user+sys minus the validate-only run's, median over rounds: CPU time, which such work does not "
               "lengthen, but which includes writing the extra scores):")
    out.append("")
    out.append("| spec | stage | rounds | text MB in | records in → out | worker s (median) | MB/s of text | MB/s of "
               "input file | marginal CPU-s | MB/s by marginal CPU-s | whole run s |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    b = refinery["base"]
    out.append(f"| validate | validate | {b['rounds']} | {b['validate_text_bytes_in'] / 1e6:.1f} | | "
               f"{b['validate_seconds']:.2f} | {b['validate_text_bytes_in'] / 1e6 / b['validate_seconds']:.1f} | | | | "
               f"{b['whole_run_wall_best']:.1f} |")
    for stage in known:
        r = refinery[stage]
        marginal = r["marginal_cpu_seconds_median"]
        by_cpu = f"{r['text_bytes_in'] / 1e6 / marginal:.1f}" if marginal > 0 else "–"
        out.append(f"| validate + {stage} | {stage} | {r['rounds']} | {r['text_bytes_in'] / 1e6:.1f} | "
                   f"{r['records_in']} → {r['records_out']} | {r['seconds']:.2f} ({r['median_seconds']:.2f}) | "
                   f"{r['mb_per_s']:.1f} | {r['input_file_mb_per_s']:.1f} | {marginal:.2f} | {by_cpu} | "
                   f"{r['whole_run_wall_best']:.1f} |")
    a = refinery["all"]
    for stage in known:
        c = a["per_stage"][stage]
        sec = a["per_stage_seconds"][stage]
        out.append(f"| all | {stage} | {a['rounds']} | {c['bytes_in'] / 1e6:.1f} | {c['records_in']} → "
                   f"{c['records_out']} | {sec:.2f} | {c['bytes_in'] / 1e6 / sec:.1f} | | | | |")
    out.append(f"| all | sum | {a['rounds']} | {a['text_bytes_in'] / 1e6:.1f} | | {a['seconds']:.2f} "
               f"({a['median_seconds']:.2f}) | {a['mb_per_s']:.1f} | {a['input_file_mb_per_s']:.1f} | | | "
               f"{a['whole_run_wall_best']:.1f} |")
    out.append("")
    if datatrove is not None:
        out.append("datatrove's filters one by one:")
        out.append("")
        out.append("| filter | stands in for | CPU s | MB/s per core | kept |")
        out.append("|---|---|---:|---:|---:|")
        for stage, names in EQUIVALENTS.items():
            for name in names:
                f = datatrove["filters"].get(name, {"skipped": "not run"})
                if "seconds" in f:
                    out.append(f"| {name} | {stage} | {f['seconds']:.1f} | {f['mb_per_s']:.2f} | "
                               f"{f['kept']} of {f['docs']} |")
                else:
                    out.append(f"| {name} | {stage} | | skipped: {f['skipped']} | |")
        out.append("")
    markdown = "\n".join(out)
    print(markdown)
    with open(args.markdown, "w") as f:
        f.write(markdown + "\n")

    result = {
        "date": time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), "built_from": args.built, "machine": args.machine,
        "corpus": dict(corpus, path=args.corpus),
        "method": {"core": args.core, "rounds": args.repeat, "workers": 1, "datatrove_sample_mb": args.datatrove_mb,
                   "refinery_mb": "text bytes the stage received (manifest bytes_in) / 1e6 / worker_seconds",
                   "datatrove_mb": "text bytes of the sample / 1e6 / CPU seconds of the filter calls"},
        "targets": {"each_stage": args.stage_target, "all_together": args.all_target},
        "table": [{k: v for k, v in row.items() if k != "line"} for row in table],
        "notes": notes, "refinery": refinery, "refinery_skipped": skipped,
        "datatrove": datatrove, "datatrove_skipped": args.datatrove_skipped or None,
        "disturbed_runs": args.disturbed,
    }
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
