#!/usr/bin/env python3
"""The datatrove pipeline closest to Refinery's seven stages, for the end-to-end benchmark (tools/bench/e2e.sh).

Run by e2e.sh under /usr/bin/time -v, inside the venv .build/bench-venv (datatrove 0.10.1); by hand:

    .build/bench-venv/bin/python tools/bench/datatrove_e2e.py CORPUS_DIR --work WORK_DIR --workers 2 --out result.json

CORPUS_DIR is a tools/bench/gen_corpus.py corpus: chats/, docs/ and subtitles/ of JSON lines. Four
LocalPipelineExecutor runs, one after the other, each with --workers processes (start method "fork", so that the
worker processes are children of this one and /usr/bin/time counts their CPU time and sees their memory):

1. filter, --tasks tasks: JsonlReader (a chat becomes its turns' contents joined by blank lines, a document or
   subtitle window its text; lines that do not parse or carry no text are skipped, as the reader does)
   -> LanguageFilter (only when its fasttext model lid.176.bin is on this machine: datatrove downloads it on first
   use, and this machine is offline; --lid-model puts a copy where datatrove looks)
   -> GopherQualityFilter -> GopherRepetitionFilter -> C4QualityFilter -> PIIFormatter (e-mails and IPs)
   -> JsonlWriter (the filtered documents, uncompressed: MinHash's stage 4 filters a dataset on disk)
   -> MinhashDedupSignature (MinHash stage 1: 14 buckets x 8 hashes over word 5-grams, datatrove's defaults)
2. buckets, 14 tasks (one per bucket, as MinhashDedupBuckets requires): MinHash stage 2, duplicate pairs
3. cluster, 1 task (as MinhashDedupCluster requires): MinHash stage 3, union-find, the documents to remove
4. dedup filter, --tasks tasks: JsonlReader of step 1's output -> MinhashDedupFilter (MinHash stage 4)
   -> JsonlWriter (zstd, as Refinery's shards)

Every filter and formatter has datatrove's defaults. Between the steps of run 1, small pass-through steps count the
documents (per category) and UTF-8 bytes of text that reach each stage, and what GopherQualityFilter lets through
(their time is in the runs' wall time, not in any step's).

Output (--out): {"executors": {run: {"wall_seconds", "tasks", "workers", "steps": [{"name", "seconds", "stats"}]}},
"stages": {stage: {"seconds", "bytes_in", "docs_in", "docs_out", "steps"}}, "lang_skipped": reason or null, ...};
the quality stage also has the documents per category entering it, left after GopherQualityFilter and leaving it, and
the three filters' drops by reason ("dropped": {"GopherQualityFilter.gopher_short_doc": n, ...}).
A step's seconds are datatrove's own (time_stats.total in the run's stats.json, summed over tasks). MinHash stage 1
times its whole loop, so its seconds include every step upstream of it in run 1; those are subtracted.

Stages, as e2e.sh maps them to Refinery's: read (run 1's reader), lang, quality (the two Gopher filters and C4), pii,
dedup (the four MinHash stages, with run 1's writer and run 4's reader, which exist only for stage 4), write (run 4's
writer).
"""
import argparse
import json
import os
import resource
import shutil
import sys
import time

from datatrove_filters import record_text

BUCKETS = 14  # MinhashConfig's default num_buckets; MinhashDedupBuckets needs a multiple of it as its task count
QUALITY_STEPS = ["GopherQualityFilter", "GopherRepetitionFilter", "C4QualityFilter"]  # run 1's quality steps, in order


def log(message):
    print(f"datatrove-e2e: {message}", file=sys.stderr, flush=True)


def adapter(self, data, path, id_in_file):
    """A corpus line as a datatrove document: a chat's turn contents joined by blank lines, else its text. Shapes
    that carry no text (messages not a list, content not a string) give an empty text, which the reader skips."""
    category = data.get("category")
    return {"text": record_text(data) or "", "id": f"{path}/{id_in_file}",
            "metadata": {"category": category if isinstance(category, str) else "chat"}}


class Counter:
    """A pass-through pipeline step that counts the documents (in all and per category) and UTF-8 bytes of text
    going past it and writes them, when its input ends, to COUNTS/<name>-<rank>.json."""

    def __init__(self, folder, name):
        self.folder, self.name = folder, name

    def __call__(self, data, rank=0, world_size=1):
        docs = size = 0
        categories = {}
        for doc in data:
            docs += 1
            size += len(doc.text.encode("utf-8", "surrogatepass"))
            category = doc.metadata.get("category", "")
            categories[category] = categories.get(category, 0) + 1
            yield doc
        with open(os.path.join(self.folder, f"{self.name}-{rank:05d}.json"), "w") as f:
            json.dump({"docs": docs, "bytes": size, "categories": categories}, f)


class Memory:
    """The last step of a run: drains what comes before it and records this process's peak RSS (KiB) in
    COUNTS/rss-<run>-<rank>.json."""

    def __init__(self, folder, run):
        self.folder, self.run = folder, run

    def __call__(self, data, rank=0, world_size=1):
        if data is not None:
            for _ in data:
                pass
        with open(os.path.join(self.folder, f"rss-{self.run}-{rank:05d}.json"), "w") as f:
            json.dump({"max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, f)


def counted(folder, name):
    total = {"docs": 0, "bytes": 0, "categories": {}}
    for file in os.listdir(folder):
        if file.startswith(name + "-") and file.endswith(".json"):
            with open(os.path.join(folder, file)) as f:
                part = json.load(f)
            total["docs"] += part["docs"]
            total["bytes"] += part["bytes"]
            for category, n in part["categories"].items():
                total["categories"][category] = total["categories"].get(category, 0) + n
    return total


def step_seconds(step):
    """A step's seconds in a run's stats.json: its time_stats' total, or time_stats itself where datatrove wrote a
    bare number (0 for a step that never timed anything)."""
    time_stats = step.get("time_stats") or 0
    return float(time_stats.get("total", 0) if isinstance(time_stats, dict) else time_stats)


def lid_model(given):
    """Where LanguageFilter's model is (copying --lid-model there first), or (None, why it is skipped)."""
    from huggingface_hub import cached_assets_path
    from datatrove.io import strip_protocol
    from datatrove.utils.lid import FT176LID
    folder = cached_assets_path(library_name="datatrove", namespace="lid", subfolder=FT176LID.MODEL_SUBFOLDER)
    path = os.path.join(folder, strip_protocol(FT176LID.MODEL_URL).replace("/", "_"))
    if given and not os.path.exists(path):
        shutil.copyfile(given, path)
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return path, None
    return None, (f"its fasttext model lid.176.bin is not on this machine (datatrove downloads it from "
                  f"{FT176LID.MODEL_URL} on first use; this machine is offline); put it at {path} or pass --lid-model")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", help="a tools/bench/gen_corpus.py output folder")
    parser.add_argument("--work", required=True, help="folder for the runs' outputs and logs (emptied first)")
    parser.add_argument("--workers", type=int, default=2, help="processes per run (default 2)")
    parser.add_argument("--tasks", type=int, default=0, help="tasks of runs 1 and 4 (default: --workers)")
    parser.add_argument("--out", required=True, help="where the JSON result goes")
    parser.add_argument("--lid-model", help="a local copy of fasttext's lid.176.bin for LanguageFilter")
    args = parser.parse_args()
    tasks = args.tasks or args.workers

    from importlib.metadata import version
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.filters import (C4QualityFilter, GopherQualityFilter, GopherRepetitionFilter,
                                            LanguageFilter)
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    counts = os.path.join(work, "counts")
    os.makedirs(counts)
    folders = {name: os.path.join(work, name) for name in ("filtered", "signatures", "buckets", "remove", "output")}
    model, lang_skipped = lid_model(args.lid_model)
    if lang_skipped:
        log(f"LanguageFilter skipped: {lang_skipped}")

    config = MinhashConfig()
    assert config.num_buckets == BUCKETS
    reader = JsonlReader(args.corpus, glob_pattern="*/*.jsonl", adapter=adapter, compression=None)
    lang = [LanguageFilter()] if model else []
    quality = [GopherQualityFilter(), Counter(counts, "gopher_quality_out"), GopherRepetitionFilter(), C4QualityFilter()]
    pii = PIIFormatter()
    spill = JsonlWriter(folders["filtered"], compression=None)
    signature = MinhashDedupSignature(output_folder=folders["signatures"], config=config)
    runs = {
        "filter": ([reader, Counter(counts, "read_out")] + lang + [Counter(counts, "quality_in")] + quality
                   + [Counter(counts, "pii_in"), pii, Counter(counts, "dedup_in"), spill, signature,
                      Memory(counts, "filter")], tasks),
        "buckets": ([MinhashDedupBuckets(input_folder=folders["signatures"], output_folder=folders["buckets"],
                                         config=config), Memory(counts, "buckets")], BUCKETS),
        "cluster": ([MinhashDedupCluster(input_folder=folders["buckets"], output_folder=folders["remove"],
                                         config=config), Memory(counts, "cluster")], 1),
        "dedup_filter": ([JsonlReader(folders["filtered"], compression=None), MinhashDedupFilter(folders["remove"]),
                          Counter(counts, "write_in"), JsonlWriter(folders["output"], compression="zstd"),
                          Memory(counts, "dedup_filter")], tasks),
    }

    result = {"datatrove": version("datatrove"), "corpus": os.path.abspath(args.corpus), "workers": args.workers,
              "tasks": tasks, "lang_skipped": lang_skipped, "executors": {}}
    started = time.perf_counter()
    for name, (pipeline, run_tasks) in runs.items():
        if name == "dedup_filter":
            # MinHash stage 4 matches documents by their index in the file each task of run 1 wrote, so task r
            # must read exactly file r: every task's file must exist, even when none of its documents survived.
            for rank in range(tasks):
                path = os.path.join(folders["filtered"], f"{rank:05d}.jsonl")
                if not os.path.exists(path):
                    open(path, "wb").close()
        executor = LocalPipelineExecutor(pipeline=pipeline, tasks=run_tasks, workers=min(args.workers, run_tasks),
                                         logging_dir=os.path.join(work, "logs", name), skip_completed=False,
                                         start_method="fork")
        began = time.perf_counter()
        executor.run()
        wall = time.perf_counter() - began
        with open(os.path.join(work, "logs", name, "stats.json")) as f:
            stats = json.load(f)
        steps = [{"name": step["name"], "seconds": step_seconds(step),
                  "stats": {key: value.get("total", value) if isinstance(value, dict) else value
                            for key, value in (step.get("stats") or {}).items()}} for step in stats]
        rss = [json.load(open(os.path.join(counts, file)))["max_rss_kib"]
               for file in os.listdir(counts) if file.startswith(f"rss-{name}-")]
        result["executors"][name] = {"wall_seconds": round(wall, 3), "tasks": run_tasks,
                                     "workers": min(args.workers, run_tasks), "steps": steps,
                                     "max_task_rss_kib": max(rss, default=0)}
        log(f"{name}: {wall:.1f} s wall, {run_tasks} task(s) on {min(args.workers, run_tasks)} worker(s)")
    result["wall_seconds"] = round(time.perf_counter() - started, 3)

    # Stages. Run 1's steps in order: reader, [lang], gopher quality, gopher repetition, c4, pii, writer, signature.
    filter_steps = result["executors"]["filter"]["steps"]
    seconds = [step["seconds"] for step in filter_steps]
    n_lang = len(lang)
    read_s = seconds[0]
    lang_s = seconds[1] if n_lang else None
    quality_s = sum(seconds[1 + n_lang:4 + n_lang])
    pii_s, spill_s, signature_total = seconds[4 + n_lang], seconds[5 + n_lang], seconds[6 + n_lang]
    signature_s = max(0.0, signature_total - sum(seconds[:6 + n_lang]))
    buckets_s = result["executors"]["buckets"]["steps"][0]["seconds"]
    cluster_s = result["executors"]["cluster"]["steps"][0]["seconds"]
    reread_s, dedup_filter_s, write_s = (step["seconds"] for step in result["executors"]["dedup_filter"]["steps"])
    read_out, quality_in = counted(counts, "read_out"), counted(counts, "quality_in")
    gopher_quality_out = counted(counts, "gopher_quality_out")
    pii_in, dedup_in, write_in = counted(counts, "pii_in"), counted(counts, "dedup_in"), counted(counts, "write_in")
    corpus_bytes = sum(os.path.getsize(os.path.join(root, file))
                       for root, _, files in os.walk(args.corpus) for file in files if file.endswith(".jsonl"))
    result["stages"] = {
        "read": {"seconds": read_s, "bytes_in": corpus_bytes, "docs_out": read_out["docs"], "steps": ["JsonlReader"]},
        "lang": ({"seconds": lang_s, "bytes_in": read_out["bytes"], "docs_in": read_out["docs"],
                  "docs_out": quality_in["docs"], "steps": ["LanguageFilter"]} if n_lang else
                 {"skipped": lang_skipped, "steps": ["LanguageFilter"]}),
        "quality": {"seconds": quality_s, "bytes_in": quality_in["bytes"], "docs_in": quality_in["docs"],
                    "docs_out": pii_in["docs"], "categories_in": quality_in["categories"],
                    "categories_after_gopher_quality": gopher_quality_out["categories"],
                    "categories_out": pii_in["categories"],
                    "dropped": {f"{name}.{key[len('dropped_'):]}": value
                                for name, step in zip(QUALITY_STEPS, filter_steps[1 + n_lang:4 + n_lang])
                                for key, value in step["stats"].items() if key.startswith("dropped_")},
                    "steps": QUALITY_STEPS,
                    "parts": {name: s for name, s in zip(("gopher_quality", "gopher_repetition", "c4_quality"),
                                                          seconds[1 + n_lang:4 + n_lang])}},
        "pii": {"seconds": pii_s, "bytes_in": pii_in["bytes"], "docs_in": pii_in["docs"], "docs_out": dedup_in["docs"],
                "steps": ["PIIFormatter"]},
        "dedup": {"seconds": signature_s + buckets_s + cluster_s + spill_s + reread_s + dedup_filter_s,
                  "bytes_in": dedup_in["bytes"], "docs_in": dedup_in["docs"], "docs_out": write_in["docs"],
                  "steps": ["MinhashDedupSignature", "MinhashDedupBuckets", "MinhashDedupCluster", "MinhashDedupFilter"],
                  "parts": {"1_signature": signature_s, "2_buckets": buckets_s, "3_cluster": cluster_s,
                            "4_filter": dedup_filter_s, "spill_write": spill_s, "spill_read": reread_s}},
        "write": {"seconds": write_s, "bytes_in": write_in["bytes"], "docs_in": write_in["docs"],
                  "steps": ["JsonlWriter (zstd)"]},
    }
    result["docs_written"] = write_in["docs"]
    result["categories_read"] = read_out["categories"]
    result["categories_written"] = write_in["categories"]
    result["output_bytes"] = sum(os.path.getsize(os.path.join(folders["output"], f)) for f in os.listdir(folders["output"]))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    log(f"done in {result['wall_seconds']:.1f} s: {read_out['docs']} documents read, {write_in['docs']} written")


if __name__ == "__main__":
    main()
