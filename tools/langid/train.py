#!/usr/bin/env python3
"""Trains Refinery's language identifier and writes the model the `lang` stage loads.

Usage:
  bash tools/langid/fetch_corpus.sh && python3 tools/langid/extract.py   # real text from Debian packages
  python3 tools/langid/train.py [--work .build/langid] [--bits 17] [--no-baselines]

Reads  $WORK/corpus.jsonl (extract.py) and writes
  Sources/RefineryStages/Language/Resources/langid.bin     the model (format below)
  Tests/RefineryTests/Fixtures/langid-vectors.json         hashes and predictions the Swift code must reproduce
  $WORK/heldout.jsonl                                      the held-out texts, with this model's answers
  $WORK/report.md                                          the accuracy tables printed at the end

Deterministic: the split, the samples and the model depend only on the corpus and SEED.

The model
---------
Multinomial naive Bayes over hashed character 1-4-grams, with script detection first.

1. Text -> code points -> folded sequence. `fold` (below; LanguageModel+Folding.swift has the same rules) lowercases
   Latin, Greek and Cyrillic letters, and maps everything that is not a letter (ASCII digits and punctuation,
   Latin-1 symbols, general punctuation incl. zero-width and bidi controls U+2000-U+2BFF, CJK and fullwidth
   punctuation, Arabic/Devanagari digits and punctuation, U+FFFD, private use, emoji and other astral symbols)
   to one separator (U+0020). Runs of separators collapse to one; the sequence starts and ends with one.
2. Every position i gives the n-grams s[i-n+1...i] for n = 1..4 (not the unigram " "), hashed from the right:
     h = SEED; for k in 0..<n: h = (h ^ s[i-k]) * FNV_PRIME          (64-bit wrapping)
     bucket = (h * GOLDEN) >> (64 - bits)
   so one pass computes all four n-grams ending at i with four multiplications.
3. Each folded letter has a script group (Latin, Cyrillic, Greek, Hebrew, Arabic, Devanagari, Hangul, CJK = Han +
   kana, other). The group with the most letters is the text's script; each language belongs to one group, and
   only the languages of that group compete. An n-gram counts for the group of its last letter (a separator
   counts for the letter before it), and only the n-grams of the winning group are scored.
4. Within the group: log P(text | lang) = sum over n-grams of log p(bucket | lang); p is estimated with additive
   smoothing `alpha` and stored quantised, q in [-127, 127]:  log p = offset[lang] + scale[lang] * q.
   The posterior is a softmax of log P / temperature (temperature fitted on a development split so the score
   is calibrated; it does not change which language wins). Priors are uniform.
5. score = (letters of the winning script / all letters) * posterior of the top language. No letters, or a
   text of 20+ letters where one letter class (code point mod 256) is more than half of them (1 MB of one
   repeated character), or a winning script no language here uses -> `und` with score 0.

langid.bin (all little-endian):
  0   8 bytes  magic "RFLANGID"
  8   u32      version (1)
  12  u32      L, number of languages
  16  u32      bits; the table has 2^bits rows
  20  u32      row bytes R (32: one int8 per language, zero-padded)
  24  f64      temperature
  32  L x 24   per language: code (8 bytes ASCII, NUL-padded), group (u8), 7 zero bytes, offset (f32), scale (f32)
  32+24L       2^bits x R int8: row b, byte l = q of bucket b for language l

Split: held out by SOURCE. A source is a catalogue, man page, help page, Firefox/Thunderbird file or Debian
Reference chapter, named without its language; sha1(source) decides test (12 %), dev (8 %, used to pick alpha
and the temperature, then trained on) or train, the same in every language, so the test set holds documents
the model never saw in any language. Texts whose folded form occurs in the test set are also removed from
training, and texts that occur under two languages (brand names, "OK") are removed from the test set.

Evaluation: per language, up to 500 held-out texts in each length bucket (20-49, 50-149, 150+ characters),
sampled with SEED. When a language has fewer natural texts of 50+ characters, consecutive texts of the same
held-out source are joined with a space until they reach the bucket (counted as "joined" in the table).
`langid.py` (restricted to the 30 languages with set_languages) and `pycld2` (unrestricted: its answers outside
the 30 count as wrong) run on the same texts from a venv under $WORK/venv.
"""

import argparse
import collections
import hashlib
import json
import math
import os
import random
import struct
import subprocess
import sys
import time

import numpy as np

LANGS = ["en", "ru", "uk", "es", "pt", "fr", "it", "de", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk", "hu",
         "ro", "bg", "el", "tr", "ar", "he", "fa", "hi", "zh", "ja", "ko", "vi", "id"]
SEED = 20261122
SEP = 0x20
HASH_SEED = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
GOLDEN = 0x9E3779B97F4A7C15
MAX_ORDER = 4
ROW_BYTES = 32
BUCKETS = [(20, 50), (50, 150), (150, None)]
PER_CELL = 500

GROUPS = ["none", "Latn", "Cyrl", "Grek", "Hebr", "Arab", "Deva", "Hang", "CJK", "Other"]
G = {name: i for i, name in enumerate(GROUPS)}
LANG_GROUP = {lang: G["Latn"] for lang in LANGS}
LANG_GROUP.update(ru=G["Cyrl"], uk=G["Cyrl"], bg=G["Cyrl"], el=G["Grek"], he=G["Hebr"], ar=G["Arab"],
                  fa=G["Arab"], hi=G["Deva"], ko=G["Hang"], zh=G["CJK"], ja=G["CJK"])


# ------------------------------------------------------------------------------------- folding and scripts --

def fold(cp):
    """The folded code point of `cp` (SEP for non-letters). Mirrors LanguageModel+Folding.swift."""
    if cp < 0x80:
        if 0x41 <= cp <= 0x5A:
            return cp + 0x20
        return cp if 0x61 <= cp <= 0x7A else SEP
    if cp <= 0xBF or cp == 0xD7 or cp == 0xF7:
        return SEP
    if cp <= 0xDE:
        return cp + 0x20
    if cp <= 0xFF:
        return cp
    if cp <= 0x17F:
        if cp == 0x130:
            return 0x69
        if cp == 0x178:
            return 0xFF
        if cp in (0x131, 0x138, 0x149, 0x17F):
            return cp
        if 0x139 <= cp <= 0x148 or 0x179 <= cp <= 0x17E:
            return cp + 1 if cp % 2 == 1 else cp
        return cp + 1 if cp % 2 == 0 else cp
    if cp in (0x1A0, 0x1AF):
        return cp + 1
    if 0x218 <= cp <= 0x21B:
        return cp + 1 if cp % 2 == 0 else cp
    if 0x2B0 <= cp <= 0x2FF:
        return SEP
    if cp < 0x370:
        return cp
    if cp < 0x400:
        if 0x391 <= cp <= 0x3A9:
            return cp + 0x20
        if cp == 0x386:
            return 0x3AC
        if 0x388 <= cp <= 0x38A:
            return cp + 0x25
        if cp == 0x38C:
            return 0x3CC
        if cp in (0x38E, 0x38F):
            return cp + 0x3F
        if cp == 0x3C2:
            return 0x3C3
        if cp in (0x37E, 0x387):
            return SEP
        return cp
    if cp < 0x530:
        if cp <= 0x40F:
            return cp + 0x50
        if cp <= 0x42F:
            return cp + 0x20
        if 0x460 <= cp <= 0x481 or 0x48A <= cp <= 0x4BF or 0x4D0 <= cp <= 0x52F:
            return cp + 1 if cp % 2 == 0 else cp
        return cp
    if cp < 0x900:
        if cp in (0x5BE, 0x5C0, 0x5C3, 0x5C6, 0x5F3, 0x5F4, 0x6D4, 0x640):
            return SEP
        if 0x600 <= cp <= 0x60F or 0x61B <= cp <= 0x61F or 0x660 <= cp <= 0x66D or 0x6F0 <= cp <= 0x6F9:
            return SEP
        return cp
    if cp < 0x1E00:
        return SEP if 0x964 <= cp <= 0x970 else cp
    if cp < 0x1F00:
        if cp <= 0x1E95 or cp >= 0x1EA0:
            return cp + 1 if cp % 2 == 0 else cp
        return cp
    if cp < 0x2000:
        return cp
    if cp < 0x2C00 or 0x2E00 <= cp <= 0x2E7F:
        return SEP
    if 0x3000 <= cp <= 0x303F:
        return cp if 0x3005 <= cp <= 0x3007 else SEP
    if cp == 0x30FB:
        return SEP
    if 0xD800 <= cp <= 0xF8FF:
        return SEP
    if 0xFE00 <= cp <= 0xFE6F or cp == 0xFEFF:
        return SEP
    if 0xFF00 <= cp <= 0xFFFF:
        if 0xFF21 <= cp <= 0xFF3A:
            return cp - 0xFEE0 + 0x20
        if 0xFF41 <= cp <= 0xFF5A:
            return cp - 0xFEE0
        return cp if 0xFF66 <= cp <= 0xFFDC else SEP
    if cp >= 0x10000:
        return cp if 0x20000 <= cp <= 0x3FFFF else SEP
    return cp


def group(f):
    """The script group of a folded code point (0 for the separator)."""
    if f == SEP:
        return G["none"]
    if f < 0x250 or 0x1E00 <= f <= 0x1EFF:
        return G["Latn"]
    if 0x370 <= f <= 0x3FF or 0x1F00 <= f <= 0x1FFF:
        return G["Grek"]
    if 0x400 <= f <= 0x52F:
        return G["Cyrl"]
    if 0x590 <= f <= 0x5FF or 0xFB1D <= f <= 0xFB4F:
        return G["Hebr"]
    if 0x600 <= f <= 0x6FF or 0x750 <= f <= 0x77F or 0x8A0 <= f <= 0x8FF or 0xFB50 <= f <= 0xFDFF or 0xFE70 <= f <= 0xFEFE:
        return G["Arab"]
    if 0x900 <= f <= 0x97F:
        return G["Deva"]
    if 0x1100 <= f <= 0x11FF or 0x3130 <= f <= 0x318F or 0xAC00 <= f <= 0xD7AF or 0xFFA0 <= f <= 0xFFDC:
        return G["Hang"]
    if (0x3005 <= f <= 0x3007 or 0x3040 <= f <= 0x30FF or 0x31F0 <= f <= 0x31FF or 0xFF66 <= f <= 0xFF9F
            or 0x3400 <= f <= 0x4DBF or 0x4E00 <= f <= 0x9FFF or 0xF900 <= f <= 0xFAFF or 0x20000 <= f <= 0x3FFFF):
        return G["CJK"]
    return G["Other"]


FOLD_BMP = np.array([fold(cp) for cp in range(0x10000)], dtype=np.uint32)
GROUP_BMP = np.array([group(int(f)) for f in FOLD_BMP], dtype=np.uint8)


def fold_array(cps):
    bmp = cps < 0x10000
    out = np.where(bmp, FOLD_BMP[np.where(bmp, cps, 0)], np.where((cps >= 0x20000) & (cps <= 0x3FFFF), cps, SEP))
    return out.astype(np.uint32)


def group_array(folded):
    bmp = folded < 0x10000
    return np.where(bmp, GROUP_BMP[np.where(bmp, folded, 0)], np.where(folded == SEP, 0, G["CJK"])).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ n-grams --

class Batch:
    """A list of texts as one folded, collapsed sequence with per-position text ids, and their n-grams."""

    def __init__(self, texts, bits):
        pieces = [np.frombuffer(("\x00" + t + "\x00").encode("utf-32-le", "surrogatepass"), dtype=np.uint32) for t in texts]
        lengths = np.array([len(p) for p in pieces], dtype=np.int64)
        cps = np.concatenate(pieces) if pieces else np.zeros(0, np.uint32)
        tid = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        folded = fold_array(cps)
        keep = np.ones(len(folded), dtype=bool)
        keep[1:] = ~((folded[1:] == SEP) & (folded[:-1] == SEP) & (tid[1:] == tid[:-1]))
        self.seq = folded[keep]
        self.tid = tid[keep]
        self.count = len(texts)
        self.groups = group_array(self.seq)
        self.bits = bits
        n = len(self.seq)
        starts = np.zeros(len(texts), dtype=np.int64)
        if len(texts):
            starts[1:] = np.cumsum(np.bincount(self.tid, minlength=len(texts)))[:-1]
        self.starts = starts
        # The group each position's n-grams count for: its own letter's, or the last letter's before it in the
        # same text (every text starts with a separator, whose group is none).
        idx = np.where(self.groups > 0, np.arange(n), -1)
        idx[starts] = starts
        idx = np.maximum.accumulate(idx) if n else idx
        self.attributed = self.groups[idx] if n else self.groups

    def ngrams(self):
        """(position, bucket) of every n-gram, in position order then order n = 1..4."""
        n = len(self.seq)
        positions, buckets = [], []
        h = np.full(n, HASH_SEED, dtype=np.uint64)
        seq = self.seq.astype(np.uint64)
        shift = np.uint64(64 - self.bits)
        with np.errstate(over="ignore"):
            for k in range(MAX_ORDER):
                back = np.zeros(n, dtype=np.uint64)
                back[k:] = seq[:n - k] if k else seq
                valid = np.zeros(n, dtype=bool)
                valid[k:] = self.tid[k:] == self.tid[:n - k]
                h = (h ^ back) * np.uint64(FNV_PRIME)
                emit = valid & (self.seq != SEP) if k == 0 else valid
                b = (h * np.uint64(GOLDEN)) >> shift
                pos = np.nonzero(emit)[0]
                positions.append(pos * MAX_ORDER + k)
                buckets.append(b[pos])
        order = np.argsort(np.concatenate(positions), kind="stable")
        allpos = np.concatenate(positions)[order] // MAX_ORDER
        return allpos, np.concatenate(buckets)[order].astype(np.int64)


def iter_batches(texts, bits, size=20000):
    for i in range(0, len(texts), size):
        yield Batch(texts[i:i + size], bits)


# ---------------------------------------------------------------------------------------------- the model --

class Model:
    def __init__(self, bits, offsets, scales, q, temperature):
        self.bits = bits
        self.offsets = offsets.astype(np.float32).astype(np.float64)
        self.scales = scales.astype(np.float32).astype(np.float64)
        self.q = q  # (2^bits, L) int8
        self.temperature = temperature

    @staticmethod
    def train(counts, bits, alpha):
        totals = counts.sum(axis=1, keepdims=True)
        logp = np.log(counts + alpha) - np.log(totals + alpha * counts.shape[1])
        lo, hi = logp.min(axis=1), logp.max(axis=1)
        offsets = ((lo + hi) / 2).astype(np.float32)
        scales = ((hi - lo) / 254).astype(np.float32)
        q = np.clip(np.round((logp - offsets[:, None]) / scales[:, None]), -127, 127).astype(np.int8).T.copy()
        return Model(bits, offsets, scales, q, 1.0)

    def write(self, path):
        L = len(LANGS)
        header = b"RFLANGID" + struct.pack("<IIII", 1, L, self.bits, ROW_BYTES) + struct.pack("<d", self.temperature)
        for i, lang in enumerate(LANGS):
            header += lang.encode().ljust(8, b"\0") + struct.pack("<B7x", LANG_GROUP[lang])
            header += struct.pack("<ff", self.offsets[i], self.scales[i])
        table = np.zeros((1 << self.bits, ROW_BYTES), dtype=np.int8)
        table[:, :L] = self.q
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(header)
            f.write(table.tobytes())
        os.replace(path + ".tmp", path)

    def raw_scores(self, texts):
        """Per text: letters per group (n, 10), n-gram counts per group (n, 10), Q sums per group (n, 10, L), degenerate."""
        out = []
        for batch in iter_batches(texts, self.bits, 2000):
            n = batch.count
            letters = np.bincount(batch.tid * 10 + batch.groups, minlength=n * 10).reshape(n, 10)
            letters[:, 0] = 0
            hist = np.bincount(batch.tid[batch.groups > 0] * 256 + (batch.seq[batch.groups > 0] & 255),
                               minlength=n * 256).reshape(n, 256)
            total = letters.sum(axis=1)
            degenerate = (total >= 20) & (hist.max(axis=1) * 2 > total)
            pos, buckets = batch.ngrams()
            g = batch.attributed[pos].astype(np.int64)
            key = batch.tid[pos] * 10 + g
            ngram_counts = np.bincount(key, minlength=n * 10).reshape(n, 10)
            Q = np.zeros((n * 10, len(LANGS)), dtype=np.int64)
            np.add.at(Q, key, self.q[buckets].astype(np.int64))
            out.append((letters, ngram_counts, Q.reshape(n, 10, len(LANGS)), degenerate))
        if not out:
            return np.zeros((0, 10), np.int64), np.zeros((0, 10), np.int64), np.zeros((0, 10, len(LANGS)), np.int64), np.zeros(0, bool)
        return tuple(np.concatenate(parts) for parts in zip(*out))

    def loglik(self, ngram_count, Q, languages):
        return ngram_count * self.offsets[languages] + self.scales[languages] * Q

    def predict(self, texts, temperature=None):
        """[(lang, score, posteriors within the group {lang: p})] for each text; mirrors LanguageModel.swift."""
        temperature = self.temperature if temperature is None else temperature
        letters, counts, Q, degenerate = self.raw_scores(texts)
        results = []
        for i in range(len(texts)):
            total = int(letters[i].sum())
            if total == 0 or degenerate[i]:
                results.append(("und", 0.0, {}))
                continue
            g = int(np.argmax(letters[i]))
            candidates = [j for j, lang in enumerate(LANGS) if LANG_GROUP[lang] == g]
            if not candidates:
                results.append(("und", 0.0, {}))
                continue
            share = letters[i][g] / total
            if len(candidates) == 1:
                results.append((LANGS[candidates[0]], float(share), {LANGS[candidates[0]]: 1.0}))
                continue
            ll = self.loglik(counts[i][g], Q[i][g][candidates], candidates) / temperature
            ll -= ll.max()
            p = np.exp(ll)
            p /= p.sum()
            best = int(np.argmax(p))
            results.append((LANGS[candidates[best]], float(share * p[best]),
                            {LANGS[j]: float(p[k]) for k, j in enumerate(candidates)}))
        return results


# ----------------------------------------------------------------------------------------------- the data --

def split_of(source):
    h = int(hashlib.sha1(source.encode()).hexdigest()[:8], 16) % 100
    return "test" if h < 12 else "dev" if h < 20 else "train"


FOLD_TRANSLATION = {cp: int(f) for cp, f in enumerate(FOLD_BMP) if cp != f}


def folded_key(text):
    """The text as the model sees it (folded, separators collapsed): the unit of de-duplication."""
    return " ".join(text.translate(FOLD_TRANSLATION).split())


def length_bucket(n):
    for i, (lo, hi) in enumerate(BUCKETS):
        if n >= lo and (hi is None or n < hi):
            return i
    return None


def load(work):
    path = os.path.join(work, "corpus.jsonl")
    if not os.path.exists(path):
        sys.exit(f"train: no {path}; run tools/langid/fetch_corpus.sh and tools/langid/extract.py first")
    rows = {"train": collections.defaultdict(list), "dev": collections.defaultdict(list), "test": collections.defaultdict(list)}
    owners = {}
    families = collections.defaultdict(collections.Counter)
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            lang, text = r["lang"], r["text"]
            rows[split_of(r["source"])][lang].append((r["source"], text))
            families[lang][r["family"]] += 1
            key = hash(folded_key(text))
            owners[key] = owners.get(key, 0) | (1 << LANGS.index(lang))
    return rows, owners, families


def build_eval(test, owners, rng):
    """Per (lang, bucket): up to PER_CELL texts and how many of them were joined from consecutive texts."""
    cells = {}
    for lang in LANGS:
        mine = 1 << LANGS.index(lang)
        clean = [(s, t) for s, t in test[lang] if owners.get(hash(folded_key(t)), mine) == mine]
        for b, (lo, hi) in enumerate(BUCKETS):
            natural = [t for _, t in clean if length_bucket(len(t)) == b]
            rng.shuffle(natural)
            chosen = natural[:PER_CELL]
            joined = []
            if len(chosen) < PER_CELL and b > 0:
                by_source = collections.defaultdict(list)
                for s, t in clean:
                    by_source[s].append(t)
                for s in sorted(by_source):
                    current = ""
                    for t in by_source[s]:
                        current = f"{current} {t}" if current else t
                        if len(current) >= lo:
                            if hi is None or len(current) < hi:
                                joined.append(current)
                            current = ""
                rng.shuffle(joined)
                joined = joined[:PER_CELL - len(chosen)]
            cells[(lang, b)] = (chosen + joined, len(joined))
    return cells


BASELINE = r"""
import json, sys
texts_path, out_path, langs = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
texts = json.load(open(texts_path))
out = {}
try:
    import langid
    langid.set_languages(langs)
    out["langid.py"] = [langid.classify(t)[0] for t in texts]
except ImportError as e:
    print("baseline: langid.py unavailable:", e, file=sys.stderr)
try:
    import pycld2
    mapping = {"iw": "he", "no": "nb", "zh-Hant": "zh", "in": "id"}
    answers = []
    for t in texts:
        try:
            code = pycld2.detect(t)[2][0][1]
        except Exception:
            code = "un"
        answers.append(mapping.get(code, code))
    out["pycld2"] = answers
except ImportError as e:
    print("baseline: pycld2 unavailable:", e, file=sys.stderr)
json.dump(out, open(out_path, "w"))
"""


def baselines(work, texts):
    venv = os.path.join(work, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"train: creating {venv} with langid and pycld2 from PyPI", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "langid", "pycld2"], check=True)
    texts_path = os.path.join(work, "baseline-in.json")
    out_path = os.path.join(work, "baseline-out.json")
    with open(texts_path, "w") as f:
        json.dump(texts, f)
    subprocess.run([python, "-c", BASELINE, texts_path, out_path, ",".join(LANGS)], check=True)
    with open(out_path) as f:
        return json.load(f)


def ngram_vectors(bits):
    """Bucket lists for strings that exercise every folding rule, for the Swift hash test."""
    samples = ["a", "Hello, World!", "İstanbul'da ŞİŞLİ ığdır", "ΆΈΉΊΌΎΏ Ελληνικά ς", "ЁЖИК Ґанок ЇЄ", "Tiếng Việt ƠƯ",
               "Română: ȘȚ șț", "Ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３", "日本語のテキスト、です。", "한국어 텍스트", "中文文本：测试！",
               "עברית ״מבחן״", "العربية ١٢٣ فارسی‌ها ۴۵", "हिन्दी पाठ। १२३", "emoji 😀 👍🏽 ok", "zero\u200bwidth\u200d\u2066bidi\u2069\u202e",
               "tab\tnew\nline\r\n  spaces", "x\ufeffy\ufffdz", "𠀀𠀁 astral", "a1b2c3", "ÀÉÎÕÜ ÿŸ ŁĄĘ ŐŰ ČŠŽ"]
    batch = Batch(samples, bits)
    pos, buckets = batch.ngrams()
    tids = batch.tid[pos]
    return [{"text": t, "buckets": buckets[tids == i].tolist()} for i, t in enumerate(samples)]


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    parser = argparse.ArgumentParser(description="Trains the language identifier (see the module docstring).")
    parser.add_argument("--work", default=os.path.join(root, ".build", "langid"), help="work folder (fetch_corpus.sh)")
    parser.add_argument("--bits", type=int, default=16, help="log2 of the number of hash buckets (default 16: 2 MiB)")
    parser.add_argument("--alphas", default="0.003,0.01,0.03,0.1,0.3", help="smoothing values tried on the dev split")
    parser.add_argument("--no-baselines", action="store_true", help="skip langid.py and pycld2")
    parser.add_argument("--model", default=os.path.join(root, "Sources/RefineryStages/Language/Resources/langid.bin"))
    parser.add_argument("--vectors", default=os.path.join(root, "Tests/RefineryTests/Fixtures/langid-vectors.json"))
    args = parser.parse_args()
    rng = random.Random(SEED)
    t0 = time.time()

    rows, owners, families = load(args.work)
    print(f"train: loaded the corpus in {time.time() - t0:.0f} s", file=sys.stderr)
    cells = build_eval(rows["test"], owners, rng)
    test_keys = {hash(folded_key(t)) for lang in LANGS for _, t in rows["test"][lang]}

    def training_texts(split):
        return {lang: [t for _, t in rows[split][lang] if hash(folded_key(t)) not in test_keys] for lang in LANGS}

    train, dev = training_texts("train"), training_texts("dev")

    def count(sets):
        counts = np.zeros((len(LANGS), 1 << args.bits), dtype=np.float64)
        for i, lang in enumerate(LANGS):
            texts = [t for s in sets for t in s[lang]]
            for batch in iter_batches(texts, args.bits):
                _, buckets = batch.ngrams()
                counts[i] += np.bincount(buckets, minlength=1 << args.bits)
        return counts

    counts = count([train])
    print(f"train: counted n-grams in {time.time() - t0:.0f} s", file=sys.stderr)

    # Dev texts: up to 300 per language and length bucket, for alpha and the temperature.
    dev_texts, dev_labels = [], []
    for lang in LANGS:
        by_bucket = collections.defaultdict(list)
        for t in dev[lang]:
            b = length_bucket(len(t))
            if b is not None:
                by_bucket[b].append(t)
        for b in sorted(by_bucket):
            sample = sorted(by_bucket[b])
            rng.shuffle(sample)
            dev_texts += sample[:300]
            dev_labels += [lang] * len(sample[:300])

    best = None
    for alpha in [float(a) for a in args.alphas.split(",")]:
        model = Model.train(counts, args.bits, alpha)
        predictions = model.predict(dev_texts)
        accuracy = np.mean([p[0] == y for p, y in zip(predictions, dev_labels)])
        print(f"train: alpha {alpha:g}: dev accuracy {accuracy:.4f}", file=sys.stderr)
        if best is None or accuracy > best[0]:
            best = (accuracy, alpha)
    alpha = best[1]
    model = Model.train(counts, args.bits, alpha)
    # Temperature: minimise the dev negative log-likelihood of the right language.
    best_t = None
    for temperature in [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]:
        nll = 0.0
        for (lang, score, posteriors), y in zip(model.predict(dev_texts, temperature), dev_labels):
            nll -= math.log(max(posteriors.get(y, 0.0), 1e-6)) if posteriors else math.log(1e-6)
        print(f"train: temperature {temperature}: dev NLL {nll / len(dev_texts):.4f}", file=sys.stderr)
        if best_t is None or nll < best_t[0]:
            best_t = (nll, temperature)
    temperature = float(best_t[1])

    # The final model: train + dev.
    counts += count([dev])
    model = Model.train(counts, args.bits, alpha)
    model.temperature = temperature
    model.write(args.model)
    size = os.path.getsize(args.model)
    print(f"train: wrote {args.model} ({size} bytes; alpha {alpha:g}, temperature {temperature:g}) "
          f"in {time.time() - t0:.0f} s", file=sys.stderr)

    # Held-out evaluation.
    eval_texts, eval_index = [], []
    for (lang, b), (texts, joined) in sorted(cells.items(), key=lambda kv: (LANGS.index(kv[0][0]), kv[0][1])):
        for t in texts:
            eval_texts.append(t)
            eval_index.append((lang, b))
    ours = model.predict(eval_texts)
    systems = {"refinery": [p[0] for p in ours]}
    if not args.no_baselines:
        systems.update(baselines(args.work, eval_texts))
    with open(os.path.join(args.work, "heldout.jsonl"), "w", encoding="utf-8") as f:
        for t, (lang, b), (pred, score, _) in zip(eval_texts, eval_index, ours):
            f.write(json.dumps({"lang": lang, "bucket": b, "text": t, "predicted": pred, "score": round(score, 6)}, ensure_ascii=False) + "\n")

    lines = report(systems, eval_index, cells, rows, families, train, alpha, temperature, size, args.bits)
    with open(os.path.join(args.work, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # Fixture for the Swift tests: hashes, and predictions on held-out texts (two per language: 50-149 and 150+).
    # For 150+ the first text the model gets right: LanguageStageTests also checks the stage tags it correctly.
    picks = []
    predicted = dict(zip(eval_texts, (p[0] for p in ours)))
    for lang in LANGS:
        picks.append((lang, 1, cells[(lang, 1)][0][0]))
        picks.append((lang, 2, next(t for t in cells[(lang, 2)][0] if predicted[t] == lang)))
    extra = ["", "a" * 1000, "Hello мир Γειά שלום 世界", "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
             "ok", "Das ist ein kurzer deutscher Satz.", "zero\u200bwidth\u200d text in \u2066English\u2069 with controls"]
    predictions = model.predict([t for _, _, t in picks] + extra)
    cases = []
    for (lang, b, t), (pred, score, post) in zip(picks, predictions):
        cases.append({"label": lang, "bucket": BUCKETS[b][0], "text": t, "lang": pred, "score": score,
                      "posteriors": post})
    for t, (pred, score, post) in zip(extra, predictions[len(picks):]):
        cases.append({"label": None, "bucket": None, "text": t, "lang": pred, "score": score, "posteriors": post})
    os.makedirs(os.path.dirname(args.vectors), exist_ok=True)
    with open(args.vectors, "w", encoding="utf-8") as f:
        json.dump({"about": "Written by tools/langid/train.py: bucket lists of n-gram hashes and the predictions of "
                            "the committed langid.bin on held-out texts; LanguageStageTests checks the Swift model "
                            "reproduces them.",
                   "bits": args.bits, "ngrams": ngram_vectors(args.bits), "predictions": cases},
                  f, ensure_ascii=False, indent=1)
    print(f"train: wrote {args.vectors}; done in {time.time() - t0:.0f} s", file=sys.stderr)


def bucket_name(b):
    lo, hi = BUCKETS[b]
    return f"{lo}+" if hi is None else f"{lo}-{hi - 1}"


def report(systems, eval_index, cells, rows, families, train, alpha, temperature, size, bits):
    lines = []
    lines.append(f"Model: {len(LANGS)} languages, 2^{bits} buckets, {size} bytes, alpha {alpha:g}, temperature {temperature:g}")
    lines.append("")
    lines.append("Texts per language (after cleaning and de-duplication; train excludes texts also in test):")
    lines.append("")
    lines.append("| lang | all texts | train texts | test texts | mo | moz | lohelp | man | ref |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lang in LANGS:
        fam = families[lang]
        lines.append(f"| {lang} | {sum(fam.values())} | {len(train[lang])} | {len(rows['test'][lang])} | "
                     + " | ".join(str(fam.get(k, 0)) for k in ("mo", "moz", "lohelp", "man", "ref")) + " |")
    lines.append("")
    names = list(systems)
    header = "| lang | " + " | ".join(f"{bucket_name(b)} {name}" for b in range(len(BUCKETS)) for name in names) + " | n (joined) |"
    lines.append("Held-out accuracy (%) by length in characters:")
    lines.append("")
    lines.append(header)
    lines.append("|---" * (1 + len(BUCKETS) * len(names) + 1) + "|")
    totals = collections.defaultdict(lambda: [0, 0])
    for lang in LANGS:
        cellstr, ns = [], []
        for b in range(len(BUCKETS)):
            idx = [i for i, key in enumerate(eval_index) if key == (lang, b)]
            ns.append(f"{len(idx)} ({cells[(lang, b)][1]})")
            for name in names:
                right = sum(1 for i in idx if systems[name][i] == lang)
                totals[(name, b)][0] += right
                totals[(name, b)][1] += len(idx)
                cellstr.append(f"{100 * right / len(idx):.1f}" if idx else "–")
        lines.append(f"| {lang} | " + " | ".join(cellstr) + " | " + " / ".join(ns) + " |")
    lines.append("| **all** | " + " | ".join(f"**{100 * totals[(n, b)][0] / max(1, totals[(n, b)][1]):.1f}**"
                                              for b in range(len(BUCKETS)) for n in names) + " | |")
    lines.append("")
    # Mean over languages (each language weighs the same) and the worst language, per system and bucket.
    for name in names:
        parts = []
        for b in range(len(BUCKETS)):
            accs = []
            for lang in LANGS:
                idx = [i for i, key in enumerate(eval_index) if key == (lang, b)]
                if idx:
                    accs.append((100 * sum(1 for i in idx if systems[name][i] == lang) / len(idx), lang))
            worst = min(accs)
            parts.append(f"{bucket_name(b)}: macro {sum(a for a, _ in accs) / len(accs):.1f}, worst {worst[1]} {worst[0]:.1f}")
        lines.append(f"- {name}: " + "; ".join(parts))
    confusions = collections.Counter((key[0], systems["refinery"][i]) for i, key in enumerate(eval_index)
                                     if systems["refinery"][i] != key[0])
    lines.append("")
    lines.append("Most frequent confusions of refinery (true -> predicted: count): "
                 + ", ".join(f"{a}->{b}: {c}" for (a, b), c in confusions.most_common(15)))
    return lines


if __name__ == "__main__":
    main()
