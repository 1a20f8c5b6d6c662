#!/usr/bin/env python3
"""Precision and recall of the dedup stage against exact Jaccard similarities, beside datasketch's MinHashLSH and
datatrove's MinHash deduplication on the same input, with their speeds as ratios to Refinery's.

Two corpora, each written as a `{"id", "text"}` JSON-lines file and read as a `kind: jsonl` source:

- generated: real prose from the English man pages Debian installs (/usr/share/man/man[1-8]/*.gz, roff markup
  stripped, no-fill blocks, tables and synopses left out), cut into base documents of 40-600 words (log-uniform) of
  consecutive paragraphs. A candidate base document sharing over 10 % of its word 5-grams with those already taken
  is skipped, so the groups do not overlap by accident. 10 % of base documents carry one or two boilerplate lines
  themselves (cookie notices, navigation, share links), so that unrelated documents share some text. 55 % of base
  documents get near-duplicate variants (1, 2, 3, 5 or 10 of them), each made from the base or, one time in five,
  from an earlier variant of its group: an exact copy (8 %); the same words with other case, line breaks and
  punctuation (7 %); word edits (40 %: substitutions from the corpus vocabulary, deletions, insertions and swaps of
  a uniform 1-15 % of the words); reordering (15 %: one to three sentences moved, or two paragraphs swapped);
  one to four inserted boilerplate lines at the start, the end or between paragraphs (15 %); or edits of 1-8 %
  with boilerplate or reordering (15 %). All records are then shuffled. Deterministic from --seed for a given set
  of installed man pages.
- real: every stanza (blank-line-separated block of at least 20 words) of Debian's /usr/share/doc/*/copyright
  files, byte-identical files read once (packages built from one source ship the same file). Machine-readable
  copyright files repeat the same licence texts with different holders, years, file lists and wording variants
  (GPL-2+ and GPL-3+ notices, BSD-2/3-clause, MIT/X11, Apache headers): natural duplicates at every similarity,
  written by people and not by this script.

Ground truth: the exact Jaccard similarity of word 5-gram sets, words as Refinery's dedup stage makes them
(TextView's words - letters, marks and digits with inner ' - U+2019 U+2010, one word per Han/kana/Thai
character - lower-cased, the apostrophes and hyphens inside words removed, digits kept; a text of fewer than 5
words is one shingle). Every pair with J >= 0.5 is found exactly (an all-pairs join with prefix filtering over
the distinct shingle sets, rarest shingles first, then set intersections), so nothing is sampled.

Scoring, per record in input order: its best earlier match is the highest J with any earlier record. A record is a
true duplicate at 0.8 when that is >= 0.8 (so the first of a group is never one); recall@0.8 = the share of true
duplicates a tool removed. A removed record is justified when it has J >= 0.8 with some other record that is
earlier or that the tool kept; precision@0.8 = justified / removed (a tool that keeps a later member of a group,
as datatrove may, is not penalised). The band: records whose best earlier match is in [0.5, 0.8), and the share of
them removed (neither right nor wrong at a 0.8 target; shown so that a tool's effective threshold can be read). A
false removal: a removed record with J < 0.5 to every record earlier or kept.

Tools, each one process on one core (`--workers 1`; datatrove `workers=1`), timed from start to exit: wall and CPU
seconds from wait4, peak RSS from /usr/bin/time; MB/s = input file MB / CPU seconds, which other load on the machine
disturbs less than wall time. The last column is a tool's CPU time over Refinery's on the same input in the same run.
- Refinery: release build (scratch .build-eval; REFINERY_BIN=path uses that binary instead), spec with the jsonl
  source and `- dedup: {}` (defaults: 14 bands x 8 rows, verification at estimated J >= 0.8, keep first) and
  `validation_fraction: 0`; removed = the dedup rejects (`zstd -dc rejects/dedup-*.jsonl.zst`). The whole run is
  timed (reading, fingerprinting inputs, shards and manifest included); the dedup stage's own worker seconds from
  stats.json are printed below the table.
- datasketch 2.0.0: MinHash(num_perm=128) of the same 5-gram shingles (same words), MinHashLSH(threshold=0.8,
  num_perm=128), which picks 9 bands x 13 rows; records in input order, query then insert the kept ones; removed
  when the query returns anything. A second row verifies the candidates first (MinHash.jaccard >= 0.8), as
  Refinery does.
- datatrove 0.10.1: MinhashDedupSignature -> MinhashDedupBuckets (14 tasks, one per bucket) ->
  MinhashDedupCluster -> MinhashDedupFilter with the default MinhashConfig (14 x 8, xxhash-64, 5-grams of its own
  normalisation: lower case, numbers to 0, punctuation removed, spaCy's English word tokenizer) and
  LocalPipelineExecutor(workers=1), JsonlReader/JsonlWriter; removed = its exclusion writer's documents. It does
  not verify candidates; the survivor of a cluster is its union-find root, not always the first record.
datasketch and datatrove (and spaCy, tokenizers, orjson, xxhash, regex) are pinned in the venv .build/eval-venv;
this script re-runs itself in it.

Output, per corpus: the main table; the share removed by the J of the best earlier match (the tools' S-curves);
Refinery again with other `threshold`/`bands`/`rows`; then why Refinery errs, from `Replica`, a Python replica of
the stage's hashing, LSH and resolver (checked against the binary record by record, and printed with that count):
its candidates and estimates for each miss and each unjustified removal, the estimator's error on every candidate
pair, and the same candidates verified on full 32-bit signatures and on the exact Jaccard instead of the 1-byte
sketches. Generated corpus: recall by variant kind. WORK/<corpus>/refinery_misses.tsv lists every true duplicate
Refinery kept (with its candidates, estimates and true J) and every unjustified removal.

Usage: python3 tools/eval/dedup_eval.py [--base-docs 3000] [--seed 20261122] [--work /tmp/dedup-eval-work]
       (REFINERY_BIN=path skips the build and uses that binary)
"""
import argparse
import glob
import gzip
import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".build", "eval-venv")
# datatrove.pipeline.dedup imports `tokenizers` on load, JsonlReader needs orjson, and datatrove's `processing`
# extra asks for xxhash < 4.
PACKAGES = ["datasketch==2.0.0", "datatrove==0.10.1", "spacy==3.8.18", "tokenizers==0.23.3", "orjson==3.13.0",
            "xxhash==3.8.2", "regex==2026.11.15", "numpy==2.4.6"]
THRESHOLD = 0.8
BAND = 0.5
SHINGLE = 5


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw)


def log(message):
    print(message, file=sys.stderr, flush=True)


def ensure_venv():
    """Creates .build/eval-venv when missing and re-runs this script with its python."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(os.path.join(VENV, ".complete")):
        log("installing " + " ".join(PACKAGES) + " into " + VENV)
        sh(sys.executable, "-m", "venv", VENV)
        sh(python, "-m", "pip", "install", "--quiet", *PACKAGES)
        open(os.path.join(VENV, ".complete"), "w").close()
    os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])


# MARK: - Words and shingles, as Refinery's dedup stage makes them

_WORDS = None
_STRIP = str.maketrans("", "", "'-\u2019\u2010")


def words(text):
    """TextView's words, normalised as DedupNormalization.default does (lower case, no inner ' or -)."""
    global _WORDS
    if _WORDS is None:
        import regex
        # ScalarClassTable: one word per character in these blocks (Hiragana/Katakana, CJK, Thai).
        ideographs = "\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u0E00-\u0E7F\U00020000-\U0002FA1F"
        letter = rf"[[\p{{L}}\p{{M}}\p{{N}}]--[{ideographs}]]"
        _WORDS = regex.compile(rf"[{ideographs}]|{letter}+(?:['\-\u2019\u2010]{letter}+)*", regex.V1)
    return [w.lower().translate(_STRIP) for w in _WORDS.findall(text)]


def shingles(ws):
    """Word 5-grams as strings; a text of fewer words is one shingle of all of them, one without words has none."""
    if not ws:
        return []
    if len(ws) < SHINGLE:
        return [" ".join(ws)]
    return [" ".join(ws[i:i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1)]


# MARK: - The generated corpus

BOILERPLATE = [
    "We use cookies to improve your experience. By continuing to browse you agree to our use of cookies.",
    "Accept all cookies | Reject non-essential cookies | Cookie settings",
    "Skip to main content",
    "Home | About us | Products | Support | Blog | Contact",
    "Share this page: Facebook Twitter LinkedIn Email",
    "Subscribe to our newsletter to get the latest updates delivered to your inbox.",
    "Copyright \u00a9 2026 Example Media Group. All rights reserved.",
    "Terms of use \u00b7 Privacy policy \u00b7 Imprint \u00b7 Accessibility",
    "Sign in or create an account to leave a comment.",
    "Advertisement",
    "Related articles you might also like",
    "Click here to read more stories like this one.",
    "This page was last edited on 3 March 2026, at 14:02.",
    "Was this article helpful? Yes No",
    "Print this page | Download as PDF",
    "Follow us on social media for more tips and tutorials.",
]

_ROFF_SPECIAL = {"em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": '"', "rq": '"', "oq": "'", "cq": "'",
                 "bu": "\u2022", "co": "\u00a9", "hy": "-", "mi": "-", "ti": "~", "rs": "\\", "ha": "^",
                 "at": "@", "sh": "#", "Do": "$", "ga": "`", "ul": "_", "pl": "+", "eq": "="}
_ROFF_ESCAPES = re.compile(r"\\(\((..)|\[([^\]]*)\]|\*(?:\((..)|\[([^\]]*)\]|(.))|f(?:\(..|\[[^\]]*\]|.)|"
                           r"s(?:[+-]?\d+|\[[^\]]*\]|\(..)|[-e\\ ~0&|^)/,c%]|.)")
_ROFF_ARGS = re.compile(r'"([^"]*)"|(\S+)')
_FONT_MACROS = {"B", "I", "BR", "IR", "RB", "BI", "IB", "RI", "SM", "SB"}
_BREAK_MACROS = {"PP", "P", "LP", "IP", "TP", "SH", "SS", "sp", "HP", "RS", "RE", "TQ", "bp", "in", "ti"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")


def _roff_escape(m):
    whole = m.group(0)
    name = m.group(2) or m.group(3) or m.group(4) or m.group(5)
    if name is not None:
        return _ROFF_SPECIAL.get(name, "")
    if m.group(6) is not None or whole[1] in "fs":
        return ""
    return {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " "}.get(whole[1], "")


def man_paragraphs(path):
    """The prose paragraphs of a roff man page: markup removed, no-fill blocks, tables and SYNOPSIS left out."""
    try:
        source = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
    except (OSError, EOFError):
        return []
    paragraphs, current = [], []
    skipping, section = False, ""

    def flush():
        if current:
            text = " ".join(" ".join(current).split())
            ws = text.split()
            if 12 <= len(ws) <= 400 and sum(w[:1].isalpha() for w in ws) >= 0.8 * len(ws) and section != "SYNOPSIS":
                paragraphs.append(text)
            current.clear()

    for line in source.splitlines():
        line = line.split('\\"', 1)[0]
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            macro = parts[0] if parts else ""
            rest = parts[1] if len(parts) > 1 else ""
            if macro in ("nf", "EX", "TS", "EQ", "de"):
                flush()
                skipping = True
            elif macro in ("fi", "EE", "TE", "EN", ".."):
                skipping = False
            elif skipping:
                continue
            elif macro in ("SH", "SS"):
                flush()
                section = " ".join(a or b for a, b in _ROFF_ARGS.findall(rest)).upper()
            elif macro in _BREAK_MACROS:
                flush()
            elif macro in _FONT_MACROS:
                args = [a or b for a, b in _ROFF_ARGS.findall(rest)]
                joined = " ".join(args) if macro in ("B", "I", "SM", "SB") else "".join(args)
                current.append(_ROFF_ESCAPES.sub(_roff_escape, joined))
            continue
        if skipping:
            continue
        if not line.strip():
            flush()
            continue
        current.append(_ROFF_ESCAPES.sub(_roff_escape, line))
    flush()
    return paragraphs


def edit_words(text, rate, rng, vocabulary):
    """Edits round(rate x words) words (at least one): substitutions, deletions, insertions, adjacent swaps."""
    tokens = re.split(r"(\s+)", text)
    positions = [i for i in range(0, len(tokens), 2) if tokens[i]]
    if not positions:
        return text
    count = max(1, round(rate * len(positions)))
    for i in rng.sample(positions, min(count, len(positions))):
        op = rng.random()
        if op < 0.5:
            tokens[i] = rng.choice(vocabulary)
        elif op < 0.7:
            tokens[i] = ""
        elif op < 0.9:
            tokens[i] = rng.choice(vocabulary) + " " + tokens[i]
        else:
            later = [j for j in range(i + 2, min(i + 8, len(tokens)), 2) if tokens[j]]
            if later:
                tokens[i], tokens[later[0]] = tokens[later[0]], tokens[i]
            else:
                tokens[i] = rng.choice(vocabulary)
    text = "".join(tokens)
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def reorder(text, rng):
    """Moves one to three sentences elsewhere, or swaps two paragraphs."""
    paragraphs = text.split("\n\n")
    if len(paragraphs) >= 2 and rng.random() < 0.4:
        i, j = rng.sample(range(len(paragraphs)), 2)
        paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
        return "\n\n".join(paragraphs)
    sentences = [(p, s) for p, para in enumerate(paragraphs) for s in _SENTENCE_END.split(para)]
    if len(sentences) < 3:
        return "\n\n".join(reversed(paragraphs)) if len(paragraphs) > 1 else text
    for _ in range(rng.randint(1, 3)):
        moved = sentences.pop(rng.randrange(len(sentences)))
        at = rng.randrange(len(sentences) + 1)
        paragraph = sentences[at - 1][0] if at > 0 else sentences[0][0]
        sentences.insert(at, (paragraph, moved[1]))
    out = []
    for p, s in sentences:
        if out and out[-1][0] == p:
            out[-1][1].append(s)
        else:
            out.append((p, [s]))
    return "\n\n".join(" ".join(ss) for _, ss in out)


def add_boilerplate(text, rng, lines=None):
    """Inserts boilerplate lines at the start, the end or between paragraphs."""
    paragraphs = text.split("\n\n")
    for _ in range(lines or rng.randint(1, 4)):
        line = rng.choice(BOILERPLATE)
        where = rng.random()
        if where < 0.4:
            paragraphs.insert(0, line)
        elif where < 0.8:
            paragraphs.append(line)
        else:
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), line)
    return "\n\n".join(paragraphs)


def reformat(text, rng):
    """The same words with other case, line breaks and punctuation (equal after Refinery's normalisation)."""
    out = []
    for word in text.split():
        r = rng.random()
        if r < 0.05:
            word = word.upper()
        elif r < 0.1:
            word = word.capitalize()
        elif r < 0.15:
            word = word.rstrip(".,;:") + rng.choice([",", ";", " -", ":"])
        out.append(word)
        out.append("\n" if rng.random() < 0.08 else " ")
    return "".join(out).strip()


def generated_corpus(seed, base_docs):
    """Records (id, text) and for each its group, kind and edit rate."""
    rng = random.Random(seed)
    pages = sorted(glob.glob("/usr/share/man/man[1-8]/*.gz"))
    if not pages:
        sys.exit("dedup_eval: no man pages in /usr/share/man/man[1-8]; install some (apt-get install manpages)")
    rng.shuffle(pages)
    bases, seen, vocabulary = [], set(), []
    for page in pages:
        if len(bases) >= base_docs:
            break
        paragraphs = man_paragraphs(page)
        if not paragraphs:
            continue
        if len(vocabulary) < 200_000:
            vocabulary.extend(w.strip(".,;:()\"'") for p in paragraphs for w in p.split()
                              if w.strip(".,;:()\"'").isalpha())
        for _ in range(2):
            if len(bases) >= base_docs:
                break
            target = int(math.exp(rng.uniform(math.log(40), math.log(600))))
            start = rng.randrange(len(paragraphs))
            taken, count = [], 0
            for para in paragraphs[start:]:
                taken.append(para)
                count += len(para.split())
                if count >= target:
                    break
            if count < 30:
                continue
            text = "\n\n".join(taken)
            grams = set(shingles(words(text)))
            if len(grams & seen) > 0.1 * len(grams):
                continue
            seen |= grams
            bases.append(text)
    vocabulary = sorted(set(vocabulary))
    records = []  # (text, group, kind, rate)
    kinds = [("copy", 8), ("reformat", 7), ("edit", 40), ("reorder", 15), ("boilerplate", 15), ("mixed", 15)]
    for group, base in enumerate(bases):
        if rng.random() < 0.1:
            base = add_boilerplate(base, rng, lines=rng.randint(1, 2))
        members = [base]
        records.append((base, group, "base", 0.0))
        variants = rng.choices([0, 1, 2, 3, 5, 10], weights=[45, 25, 15, 8, 5, 2])[0]
        for _ in range(variants):
            source = members[0] if rng.random() < 0.8 else rng.choice(members)
            kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
            rate = 0.0
            if kind == "copy":
                text = source
            elif kind == "reformat":
                text = reformat(source, rng)
            elif kind == "edit":
                rate = rng.uniform(0.01, 0.15)
                text = edit_words(source, rate, rng, vocabulary)
            elif kind == "reorder":
                text = reorder(source, rng)
            elif kind == "boilerplate":
                text = add_boilerplate(source, rng)
            else:
                rate = rng.uniform(0.01, 0.08)
                text = edit_words(source, rate, rng, vocabulary)
                text = add_boilerplate(text, rng) if rng.random() < 0.5 else reorder(text, rng)
            members.append(text)
            records.append((text, group, kind, round(rate, 4)))
    rng.shuffle(records)
    return [{"id": f"gen-{i:06d}", "text": t, "group": g, "kind": k, "edit_rate": r}
            for i, (t, g, k, r) in enumerate(records)]


def real_corpus():
    """Every stanza of at least 20 words of the distinct /usr/share/doc/*/copyright files."""
    seen, records = set(), []
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        data = open(path, "rb").read()
        digest = hashlib.sha1(data).digest()
        if digest in seen:
            continue
        seen.add(digest)
        package = path.split("/")[-2]
        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        for n, stanza in enumerate(re.split(r"\n[ \t]*\n", text)):
            stanza = stanza.strip("\n")
            if len(stanza.split()) >= 20:
                records.append({"id": f"{package}/copyright#{n}", "text": stanza, "group": -1, "kind": "real",
                                "edit_rate": 0.0})
    if not records:
        sys.exit("dedup_eval: no /usr/share/doc/*/copyright files on this machine")
    return records


# MARK: - Ground truth


class Truth:
    """Exact Jaccard similarities of word 5-gram sets: every pair of records with J >= 0.5."""

    def __init__(self, word_lists):
        ids = {}
        self.sets = []
        for ws in word_lists:
            self.sets.append(frozenset(ids.setdefault(s, len(ids)) for s in shingles(ws)))
        self.n = len(self.sets)
        # Records with the same shingle set are one unit of the join (J = 1 between them).
        unit_of = {}
        self.unit = [unit_of.setdefault(s, len(unit_of)) for s in self.sets]
        units = [None] * len(unit_of)
        self.members = [[] for _ in units]
        for i, u in enumerate(self.unit):
            self.members[u].append(i)
            if units[u] is None:
                units[u] = self.sets[i]
        self.first = [m[0] for m in self.members]
        self.neighbours = self._join(units, len(ids))
        self.best_prev, self.best_prev_of = [], []
        for i, u in enumerate(self.unit):
            if self.first[u] < i:
                self.best_prev.append(1.0)
                self.best_prev_of.append(self.first[u])
                continue
            best, of = 0.0, -1
            for v, j in self.neighbours[u]:
                if self.first[v] < i and j > best:
                    best, of = j, self.first[v]
            self.best_prev.append(best)
            self.best_prev_of.append(of)

    @staticmethod
    def _join(units, vocabulary):
        """All pairs of units with J >= 0.5: prefix filtering (shingles ordered rarest first; two sets with
        J >= t share a shingle among the first |x| - ceil(t|x|) + 1 of each), then exact intersections."""
        frequency = [0] * vocabulary
        for s in units:
            for t in s:
                frequency[t] += 1
        rank = [0] * vocabulary
        for r, t in enumerate(sorted(range(vocabulary), key=lambda t: (frequency[t], t))):
            rank[t] = r
        index = {}
        neighbours = [[] for _ in units]
        for u, s in enumerate(units):
            n = len(s)
            if n == 0:
                continue
            prefix = sorted(rank[t] for t in s)[: n - (n + 1) // 2 + 1]  # ceil(0.5 n) = (n + 1) // 2
            candidates = set()
            for t in prefix:
                bucket = index.get(t)
                if bucket:
                    candidates.update(bucket)
            for c in candidates:
                other = units[c]
                m = len(other)
                if 2 * m < n or 2 * n < m:  # J <= min/max < 0.5
                    continue
                inter = len(s & other)
                j = inter / (n + m - inter)
                if j >= BAND:
                    neighbours[u].append((c, j))
                    neighbours[c].append((u, j))
            for t in prefix:
                index.setdefault(t, []).append(u)
        return neighbours

    def jaccard(self, a, b):
        x, y = self.sets[a], self.sets[b]
        if not x and not y:
            return 1.0
        inter = len(x & y)
        return inter / (len(x) + len(y) - inter)

    def justification(self, i, kept):
        """The highest J of record i with a record that is earlier or kept (the best reason to have removed it)."""
        u = self.unit[i]
        if any(s != i and (s < i or kept[s]) for s in self.members[u]):
            return 1.0
        best = 0.0
        for v, j in self.neighbours[u]:
            if j > best and (self.first[v] < i or any(kept[s] for s in self.members[v])):
                best = j
        return best

    def score(self, removed):
        kept = [i not in removed for i in range(self.n)]
        dup = [i for i in range(self.n) if self.best_prev[i] >= THRESHOLD]
        band = [i for i in range(self.n) if BAND <= self.best_prev[i] < THRESHOLD]
        just = {i: self.justification(i, kept) for i in removed}
        justified = sum(1 for j in just.values() if j >= THRESHOLD)
        return {
            "removed": len(removed),
            "precision": justified / len(removed) if removed else 1.0,
            "recall": sum(1 for i in dup if i in removed) / len(dup) if dup else 1.0,
            "band_removed": sum(1 for i in band if i in removed),
            "band": len(band),
            "false": sum(1 for j in just.values() if j < BAND),
            "weak": sum(1 for j in just.values() if BAND <= j < THRESHOLD),
            "justification": just,
        }


# MARK: - A replica of Refinery's dedup stage, to explain its decisions

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class Replica:
    """DedupStage's keys and DedupResolver's decisions re-done in Python from the Swift sources (DedupText: XXH3-64
    of each normalised word, a polynomial over 5 word hashes with MurmurHash3's finaliser, top 32 bits; MinHasher:
    `(a*h + b) mod 2^61-1` with a, b from SplitMix64, low 32 bits of each minimum, band hashes XXH3-64 of the rows
    seeded by band; DedupResolver: exact hash first, LSH buckets that keep their first record, candidates verified
    by the 1-byte sketches' corrected agreement, union-find, first record survives). It tells, for each record,
    which earlier records were candidates and what each was estimated at, which the rejects do not say; its
    decisions are compared with the binary's, so a replica that no longer matches the sources shows up."""

    def __init__(self, word_lists, bands=14, rows=8, seed=0x5EED0FDED0):
        import numpy as np
        from xxhash import xxh3_64_intdigest
        self.bands, self.rows, self.seed = bands, rows, seed
        count = bands * rows
        state, coefficients = seed, []

        def split_mix():
            nonlocal state
            state = (state + GOLDEN) & M64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            return z ^ (z >> 31)

        prime = (1 << 61) - 1
        for _ in range((count + 7) // 8 * 8):
            a = 0
            while a == 0 or a >= prime:
                a = split_mix() >> 3
            b = prime
            while b >= prime:
                b = split_mix() >> 3
            coefficients.append((a, b))
        coefficients = coefficients[:count]
        u64 = np.uint64
        a_low = np.array([a & ((1 << 31) - 1) for a, _ in coefficients], dtype=u64)
        a_high = np.array([a >> 31 for a, _ in coefficients], dtype=u64)
        b = np.array([b for _, b in coefficients], dtype=u64)
        self.exact, self.band_hashes, self.signatures = [], [], []
        for ws in word_lists:
            self.exact.append(" ".join(ws))
            if not ws:
                self.band_hashes.append(None)
                self.signatures.append(None)
                continue
            hashes = np.array([xxh3_64_intdigest(w.encode()) for w in ws], dtype=u64)
            n = min(SHINGLE, len(ws))
            shingle_count = max(1, len(ws) - SHINGLE + 1)
            h = np.zeros(shingle_count, dtype=u64)
            for j in range(n):
                h = h * u64(GOLDEN) + hashes[j:j + shingle_count]
            h ^= h >> u64(33)
            h *= u64(0xFF51AFD7ED558CCD)
            h ^= h >> u64(33)
            h *= u64(0xC4CEB9FE1A85EC53)
            h ^= h >> u64(33)
            h = (h >> u64(32))[:, None]
            high = h * a_high
            x = ((high & u64((1 << 30) - 1)) << u64(31)) + (high >> u64(30)) + h * a_low + b
            minima = ((x & u64(prime)) + (x >> u64(61))).min(axis=0)
            minima = np.where(minima >= u64(prime), minima - u64(prime), minima)
            signature = (minima & u64(0xFFFFFFFF)).astype("<u4")
            self.signatures.append(signature)
            self.band_hashes.append([
                xxh3_64_intdigest(signature[k * rows:(k + 1) * rows].tobytes(),
                                  seed=seed ^ (((k + 1) * GOLDEN) & M64))
                for k in range(bands)])

    def sketch_estimate(self, i, c):
        """DedupKeys.estimatedJaccard: agreement of the low bytes, corrected for 1/256 chance agreements."""
        share = float(((self.signatures[i] & 0xFF) == (self.signatures[c] & 0xFF)).sum()) / len(self.signatures[i])
        return max(0.0, (share - 1.0 / 256) / (1 - 1.0 / 256))

    def signature_estimate(self, i, c):
        """MinHasher.estimatedJaccard: agreement of the full 32-bit slots."""
        return float((self.signatures[i] == self.signatures[c]).sum()) / len(self.signatures[i])

    def resolve(self, similarity, threshold=THRESHOLD):
        """DedupResolver with `similarity(record, candidate)` as the verification; returns {removed: (kept,
        matched candidate or None, similarity)} and every record's candidates with their similarities."""
        first_exact, tables = {}, [{} for _ in range(self.bands)]
        smallest = list(range(len(self.exact)))

        def find(x):
            while smallest[x] != x:
                smallest[x] = smallest[smallest[x]]
                x = smallest[x]
            return x

        matched, candidates_of = {}, {}
        for i, exact in enumerate(self.exact):
            if exact in first_exact:
                a, b = find(first_exact[exact]), find(i)
                smallest[max(a, b)] = min(a, b)
                matched[i] = (None, 1.0)
                continue
            first_exact[exact] = i
            if self.band_hashes[i] is None:
                continue
            candidates = sorted({f for k, key in enumerate(self.band_hashes[i])
                                 for f in [tables[k].setdefault(key, i)] if f != i})
            scored = [(c, similarity(i, c)) for c in candidates]
            candidates_of[i] = scored
            best = None
            for c, value in scored:
                if value >= threshold and value > (best[1] if best else -1):
                    best = (c, value)
            if best:
                a, b = find(best[0]), find(i)
                smallest[max(a, b)] = min(a, b)
                matched[i] = best
        removed = {}
        for i, (candidate, value) in matched.items():
            kept = find(i)
            if kept != i:
                removed[i] = (kept, candidate, value)
        return removed, candidates_of


# MARK: - Tools


def timed(args, log_path, cwd=None):
    """Runs a process to its end; returns wall seconds, CPU seconds (user + sys, from wait4) and peak RSS in MiB.

    The peak RSS comes from /usr/bin/time (Debian's `time` package) when it is there, NaN otherwise: Linux carries
    a process's peak RSS over fork and exec, so wait4 would report this script's own (large) peak for every tool.
    """
    rss_file = log_path + ".rss"
    prefix = ["/usr/bin/time", "-f", "%M", "-o", rss_file] if os.path.exists("/usr/bin/time") else []
    with open(log_path, "w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(prefix + args, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"dedup_eval: {args[0]} exited with {process.returncode}; see {log_path}")
    rss = float("nan")
    if prefix:
        rss = int(open(rss_file).read().split()[-1]) / 1024
    return wall, usage.ru_utime + usage.ru_stime, rss


def refinery(binary, folder, tag, parameters):
    """Runs `refinery run` with one dedup stage; returns the removed records and the timings. Each run is a version
    of its own, not deduplicated against the others (`across_versions: false`)."""
    spec = os.path.join(folder, f"spec-{tag}.yaml")
    out = f"refinery-{tag}"
    shutil.rmtree(os.path.join(folder, out), ignore_errors=True)
    with open(spec, "w") as f:
        f.write(f"name: dedup-eval\nsources: [{{name: corpus, kind: jsonl, glob: in.jsonl}}]\n"
                f"stages:\n  - dedup: {{{', '.join(['across_versions: false'] + ([parameters] if parameters else []))}}}\n"
                f"output: {{dir: {out}, validation_fraction: 0}}\n")
    wall, cpu, rss = timed([binary, "run", spec, "--workers", "1", "--force", "--log-level", "error"],
                           os.path.join(folder, f"refinery-{tag}.log"))
    removed = {}
    for shard in sorted(glob.glob(os.path.join(folder, out, "rejects", "dedup-*.jsonl.zst"))):
        for line in sh("zstd", "-dc", shard).stdout.splitlines():
            reject = json.loads(line)
            index = int(reject["id"].rsplit(":", 1)[1]) - 1
            kept = int(reject["kept_id"].rsplit(":", 1)[1]) - 1
            estimate = re.search(r"Jaccard ([0-9.]+)", reject["detail"])
            removed[index] = (reject["reason"], kept, float(estimate.group(1)) if estimate else None)
    stats = json.load(open(os.path.join(folder, out, "stats.json")))
    return removed, {"wall": wall, "cpu": cpu, "rss": rss, "stage": stats["worker_seconds"].get("dedup", 0.0),
                     "records": stats.get("spill_records", -1)}


def run_datasketch(path, out, verify):
    """Worker (in the venv): MinHashLSH over the records in input order; writes the removed indexes as JSON."""
    from datasketch import MinHash, MinHashLSH
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
    kept, removed = {}, {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            m = MinHash(num_perm=128)
            m.update_batch([s.encode() for s in shingles(words(json.loads(line)["text"]))])
            hits = lsh.query(m)
            if verify:
                hits = [h for h in hits if m.jaccard(kept[h]) >= THRESHOLD]
            if hits:
                removed[i] = min(hits)
            else:
                lsh.insert(i, m)
                if verify:
                    kept[i] = m
    json.dump({"removed": removed, "b": lsh.b, "r": lsh.r}, open(out, "w"))


def run_datatrove(path, work, out):
    """Worker (in the venv): datatrove's four MinHash stages with the default MinhashConfig, one worker."""
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    config = MinhashConfig()
    folder, name = os.path.split(path)

    def reader():
        return JsonlReader(folder, glob_pattern=name, text_key="text", id_key="id", recursive=False)

    stages = [
        ([reader(), MinhashDedupSignature(output_folder=f"{work}/signatures", config=config, language="en")], 1),
        ([MinhashDedupBuckets(input_folder=f"{work}/signatures", output_folder=f"{work}/buckets", config=config)],
         config.num_buckets),
        ([MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids", config=config)], 1),
        ([reader(), MinhashDedupFilter(input_folder=f"{work}/remove_ids",
                                       exclusion_writer=JsonlWriter(f"{work}/removed", compression=None)),
          JsonlWriter(f"{work}/kept", compression=None)], 1),
    ]
    seconds = []
    for k, (pipeline, tasks) in enumerate(stages):
        start = time.perf_counter()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{work}/logs/{k}").run()
        seconds.append(time.perf_counter() - start)
    removed = [json.loads(line)["id"] for f in sorted(glob.glob(f"{work}/removed/*.jsonl")) for line in open(f)]
    kept = sum(1 for f in glob.glob(f"{work}/kept/*.jsonl") for _ in open(f))
    json.dump({"removed": removed, "kept": kept, "seconds": seconds}, open(out, "w"))


# MARK: - Report


def bins(truth):
    edges = [(0.0, 0.5, "< 0.5"), (0.5, 0.6, "0.5-0.6"), (0.6, 0.7, "0.6-0.7"), (0.7, 0.75, "0.7-0.75"),
             (0.75, 0.8, "0.75-0.8"), (0.8, 0.85, "0.8-0.85"), (0.85, 0.9, "0.85-0.9"), (0.9, 0.95, "0.9-0.95"),
             (0.95, 1.0, "0.95-1"), (1.0, 1.01, "1 (same set)")]
    out = []
    for low, high, label in edges:
        out.append((label, [i for i in range(truth.n) if low <= truth.best_prev[i] < high]))
    return out


def evaluate(name, records, binary, work, skip_datatrove):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "in.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")
    with open(os.path.join(folder, "groups.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps({k: r[k] for k in ("id", "group", "kind", "edit_rate")}) + "\n")
    mb = os.path.getsize(path) / 1e6
    log(f"[{name}] {len(records)} records, {mb:.1f} MB: exact Jaccard of every pair with J >= {BAND}")
    start = time.perf_counter()
    word_lists = [words(r["text"]) for r in records]
    truth = Truth(word_lists)
    log(f"[{name}] ground truth in {time.perf_counter() - start:.1f} s")

    rows = []  # (tool, removed, timings, short name)
    log(f"[{name}] refinery")
    ref_removed, ref_time = refinery(binary, folder, "default", "")
    rows.append(("Refinery `dedup: {}` (14 x 8, candidates verified on exact Jaccard >= 0.8)", set(ref_removed), ref_time, "Refinery"))
    if ref_time["records"] != len(records):
        sys.exit(f"dedup_eval: refinery read {ref_time['records']} of {len(records)} records into dedup")
    python = sys.executable
    for verify in (False, True):
        log(f"[{name}] datasketch{' + verification' if verify else ''}")
        out = os.path.join(folder, f"datasketch-{int(verify)}.json")
        wall, cpu, rss = timed([python, os.path.abspath(__file__), "--run-datasketch", path, out]
                               + (["--verify"] if verify else []), out + ".log")
        result = json.load(open(out))
        label = (f"datasketch MinHashLSH (128 perm, {result['b']} x {result['r']}, threshold 0.8)"
                 + (" + verify MinHash.jaccard >= 0.8" if verify else ""))
        rows.append((label, {int(k) for k in result["removed"]}, {"wall": wall, "cpu": cpu, "rss": rss},
                     "datasketch + verify" if verify else "datasketch"))
    datatrove_seconds = None
    if not skip_datatrove:
        log(f"[{name}] datatrove")
        dt_work = os.path.join(folder, "datatrove")
        shutil.rmtree(dt_work, ignore_errors=True)
        out = os.path.join(folder, "datatrove.json")
        wall, cpu, rss = timed([python, os.path.abspath(__file__), "--run-datatrove", path, dt_work, out],
                               out + ".log")
        result = json.load(open(out))
        position = {r["id"]: i for i, r in enumerate(records)}
        removed = {position[i] for i in result["removed"]}
        if result["kept"] + len(removed) != len(records):
            sys.exit(f"dedup_eval: datatrove kept {result['kept']} and removed {len(removed)} of {len(records)}")
        datatrove_seconds = result["seconds"]
        rows.append(("datatrove MinHash dedup (defaults: 14 x 8, 5-grams)", removed,
                     {"wall": wall, "cpu": cpu, "rss": rss}, "datatrove"))

    dup = sum(1 for j in truth.best_prev if j >= THRESHOLD)
    same = sum(1 for j in truth.best_prev if j >= 1.0)
    band = sum(1 for j in truth.best_prev if BAND <= j < THRESHOLD)
    print(f"\n### {name}: {len(records)} records, {mb:.1f} MB\n")
    print(f"True duplicates at J >= 0.8 (best earlier match): {dup} ({same} with an earlier record's very shingle "
          f"set); in the 0.5-0.8 band: {band}; the rest: {truth.n - dup - band}.\n")
    print("| tool | removed | precision@0.8 | recall@0.8 | band 0.5-0.8 removed | false removals (< 0.5) "
          "| wall s | CPU s | MB/s per CPU-s | peak RSS MiB | CPU time / Refinery's |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_cpu = ref_time["cpu"]
    scores = []
    for label, removed, t, _ in rows:
        s = truth.score(removed)
        scores.append(s)
        band_share = f"{s['band_removed']} ({s['band_removed'] / s['band']:.1%})" if s["band"] else "0"
        print(f"| {label} | {s['removed']} | {s['precision']:.4f} | {s['recall']:.4f} | {band_share} "
              f"| {s['false']} | {t['wall']:.1f} | {t['cpu']:.1f} | {mb / t['cpu']:.2f} | {t['rss']:.0f} "
              f"| {t['cpu'] / base_cpu:.1f}x |")
    met = [f"recall {scores[0]['recall']:.3f} {'meets' if scores[0]['recall'] >= 0.95 else 'misses'} 0.95",
           f"precision {scores[0]['precision']:.3f} {'meets' if scores[0]['precision'] >= 0.99 else 'misses'} 0.99"]
    print(f"\nTargets at J >= 0.8: Refinery's {met[0]}, its {met[1]}.")
    print(f"Refinery's dedup stage alone (stats.json worker seconds): {ref_time['stage']:.2f} s "
          f"({mb / ref_time['stage']:.0f} MB/s); the rest of its run is reading, JSON and zstd shards."
          + (f" datatrove's four stages took {', '.join(f'{s:.1f}' for s in datatrove_seconds)} s."
             if datatrove_seconds else ""))

    print("\nShare removed, by the J of the best earlier match (records in the bin):\n")
    print("| best earlier J | records | " + " | ".join(short for *_, short in rows) + " |")
    print("|---|---:|" + "---:|" * len(rows))
    for label, members in bins(truth):
        if not members:
            continue
        cells = [f"{sum(1 for i in members if i in removed) / len(members):.3f}" for _, removed, _, _ in rows]
        print(f"| {label} | {len(members)} | " + " | ".join(cells) + " |")

    # Refinery at other settings: where its recall is lost (candidates vs verification).
    print("\nRefinery at other settings (same input; `threshold` is what a candidate pair's similarity must reach):\n")
    print("| dedup parameters | removed | precision@0.8 | recall@0.8 | band removed | false removals | dedup s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for tag, parameters in [("estimate", "verify: estimate"), ("t0", "threshold: 0.0"), ("t075", "threshold: 0.75"), ("t070", "threshold: 0.7"),
                            ("b32r8", "bands: 32, rows: 8"), ("b64r8", "bands: 64, rows: 8")]:
        removed, t = refinery(binary, folder, tag, parameters)
        s = truth.score(set(removed))
        band_share = f"{s['band_removed']} ({s['band_removed'] / s['band']:.1%})" if s["band"] else "0"
        print(f"| `{parameters}` | {s['removed']} | {s['precision']:.4f} | {s['recall']:.4f} | {band_share} "
              f"| {s['false']} | {t['stage']:.2f} |")

    # Why the sketch estimate is not enough: the replica says which earlier records were candidates and what each
    # was estimated at; it is checked against the binary run with `verify: estimate`.
    ref_removed, _ = refinery(binary, folder, "estimate", "verify: estimate")
    start = time.perf_counter()
    replica = Replica(word_lists)
    rep_removed, candidates_of = replica.resolve(replica.sketch_estimate)
    same = sum(1 for i in range(truth.n) if (i in rep_removed) == (i in ref_removed)
               and (i not in rep_removed or rep_removed[i][0] == ref_removed[i][1]))
    log(f"[{name}] replica in {time.perf_counter() - start:.1f} s")
    print(f"\nWhy candidates are verified on exact Jaccard (a Python replica of the stage, `Replica` in this script, "
          f"makes the decision of `verify: estimate` - same removals, same kept_id - for {same} of {truth.n} records):\n")
    print("| same LSH candidates (14 x 8, first record per bucket), verified by | removed | precision@0.8 "
          "| recall@0.8 | band removed | false removals |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, similarity in [("1-byte sketches, corrected (`verify: estimate`)", replica.sketch_estimate),
                              ("full 32-bit signature slots", replica.signature_estimate),
                              ("exact Jaccard of the shingle sets (`verify: exact`, the default)", truth.jaccard)]:
        removed = rep_removed if similarity == replica.sketch_estimate else replica.resolve(similarity)[0]
        s = truth.score(set(removed))
        band_share = f"{s['band_removed']} ({s['band_removed'] / s['band']:.1%})" if s["band"] else "0"
        print(f"| {label} | {s['removed']} | {s['precision']:.4f} | {s['recall']:.4f} | {band_share} "
              f"| {s['false']} |")
    pairs = [(value, truth.jaccard(i, c)) for i, scored in candidates_of.items() for c, value in scored]
    if pairs:
        errors = [e - j for e, j in pairs]
        mean = sum(errors) / len(errors)
        sd = math.sqrt(sum((e - mean) ** 2 for e in errors) / len(errors))
        near = [e - j for e, j in pairs if 0.7 <= j < 0.9]
        near_sd = math.sqrt(sum(e * e for e in near) / len(near)) if near else float("nan")
        below = [e - j for e, j in pairs if 0.7 <= j < THRESHOLD]
        print(f"\nEvery candidate pair ({len(pairs)}): estimate minus true J, mean {mean:+.4f}, sd {sd:.4f}; "
              f"root mean square {near_sd:.4f} over the {len(near)} pairs with true J in [0.7, 0.9) "
              f"(binomial sd at J = 0.8 over 112 slots: {math.sqrt(0.8 * 0.2 / 112):.4f})"
              + (f"; mean {sum(below) / len(below):+.4f} over the {len(below)} in [0.7, 0.8)" if below else "") + ".")
    ref_score = truth.score(set(ref_removed))
    weak = [i for i, j in ref_score["justification"].items() if j < THRESHOLD]
    if weak:
        explained = [(rep_removed[i][2], truth.jaccard(i, rep_removed[i][1])) for i in weak
                     if i in rep_removed and rep_removed[i][1] is not None]
        if explained:
            print(f"Unjustified removals ({len(weak)}, no record earlier or kept with J >= 0.8): verified against a "
                  f"candidate of true J {sum(j for _, j in explained) / len(explained):.3f} on average "
                  f"(min {min(j for _, j in explained):.3f}) estimated at "
                  f"{sum(e for e, _ in explained) / len(explained):.3f} (min {min(e for e, _ in explained):.3f}).")
    missed = [i for i in range(truth.n) if truth.best_prev[i] >= THRESHOLD and i not in ref_removed]
    if missed:
        no_candidate = [i for i in missed if not candidates_of.get(i)]
        rejected = [i for i in missed if candidates_of.get(i)]
        best_was_candidate = sum(1 for i in rejected
                                 if any(truth.jaccard(i, c) >= THRESHOLD for c, _ in candidates_of[i]))
        top = [max(v for _, v in candidates_of[i]) for i in rejected]
        print(f"Missed true duplicates ({len(missed)}, best earlier J mean "
              f"{sum(truth.best_prev[i] for i in missed) / len(missed):.3f}): {len(no_candidate)} shared no band "
              f"with an earlier bucket's first record; {len(rejected)} had candidates but none estimated >= 0.8 "
              + (f"(highest estimate {sum(top) / len(top):.3f} on average; {best_was_candidate} of them had a "
                 f"candidate of true J >= 0.8)." if rejected else "."))
    s = ref_score
    with open(os.path.join(folder, "refinery_misses.tsv"), "w") as f:
        f.write("what\tid\tbest_J\tother_id\tkind\tedit_rate\tcandidates (id:estimate:true J)\n")
        for i in missed:
            o = truth.best_prev_of[i]
            scored = " ".join(f"{records[c]['id']}:{v:.3f}:{truth.jaccard(i, c):.3f}"
                              for c, v in candidates_of.get(i, []))
            f.write(f"missed\t{records[i]['id']}\t{truth.best_prev[i]:.4f}\t{records[o]['id']}\t"
                    f"{records[i]['kind']}\t{records[i]['edit_rate']}\t{scored}\n")
        for i in sorted(weak):
            _, kept, estimate = ref_removed[i]
            f.write(f"unjustified\t{records[i]['id']}\t{s['justification'][i]:.4f}\t{records[kept]['id']}\t"
                    f"{records[i]['kind']}\t{records[i]['edit_rate']}\t"
                    f"detail estimate {estimate}, J with kept {truth.jaccard(i, kept):.4f}\n")
    if name == "generated":
        print("\nRecall@0.8 by variant kind (records whose best earlier J >= 0.8):\n")
        print("| kind | true duplicates | " + " | ".join(short for *_, short in rows) + " |")
        print("|---|---:|" + "---:|" * len(rows))
        for kind in ("copy", "reformat", "edit", "reorder", "boilerplate", "mixed", "base"):
            members = [i for i in range(truth.n) if records[i]["kind"] == kind and truth.best_prev[i] >= THRESHOLD]
            if members:
                cells = [f"{sum(1 for i in members if i in removed) / len(members):.3f}" for _, removed, _, _ in rows]
                print(f"| {kind} | {len(members)} | " + " | ".join(cells) + " |")


def build_refinery():
    binary = os.environ.get("REFINERY_BIN")
    if binary:
        return binary
    log("building refinery (release, .build-eval)")
    sh("swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-eval", cwd=ROOT)
    return sh("swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-eval",
              "--show-bin-path", cwd=ROOT).stdout.strip() + "/refinery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261122, help="seed of the generated corpus")
    parser.add_argument("--base-docs", type=int, default=3000, help="base documents of the generated corpus")
    parser.add_argument("--work", default="/tmp/dedup-eval-work",
                        help="work folder; a corpus's files in it are overwritten")
    parser.add_argument("--corpora", default="generated,real", help="which corpora, comma-separated")
    parser.add_argument("--skip-datatrove", action="store_true", help="leave datatrove out")
    parser.add_argument("--run-datasketch", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-datatrove", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    ensure_venv()
    if args.run_datasketch:
        return run_datasketch(*args.run_datasketch, verify=args.verify)
    if args.run_datatrove:
        return run_datatrove(*args.run_datatrove)
    binary = build_refinery()
    started = time.perf_counter()
    from importlib.metadata import version
    print(f"dedup_eval: seed {args.seed}, datasketch {version('datasketch')}, datatrove {version('datatrove')}, "
          f"refinery {binary}")
    for name in args.corpora.split(","):
        if name == "generated":
            log("[generated] building the corpus from man pages")
            records = generated_corpus(args.seed, args.base_docs)
        elif name == "real":
            records = real_corpus()
        else:
            sys.exit(f"dedup_eval: unknown corpus {name!r} (generated, real)")
        evaluate(name, records, binary, args.work, args.skip_datatrove)
    log(f"done in {time.perf_counter() - started:.0f} s (work folder: {args.work})")


if __name__ == "__main__":
    main()
