#!/usr/bin/env python3
"""Keep rate of the quality stage on real clean text and on real-looking garbage made from it.

Clean (real, written by people):
  prose     - paragraphs of the licence texts Debian installs in /usr/share/common-licenses
  subtitles - dialogue windows of the pysrt French film and the webvtt-py Spanish Netflix episode
              (tools/fetch_real_data.sh), read by Refinery's own subtitle reader, tagged fr / es
  chats     - conversations of the chatterbot-corpus wheel (PyPI), English, as user/assistant turns
Garbage (generated from the clean text, seeded):
  boilerplate  - cookie/privacy/navigation lines around a few real sentences
  keyword_spam - product keywords repeated without grammar
  repeated     - one real line repeated, then a few others
  mojibake     - real prose encoded as UTF-8 and decoded as windows-1252
  symbol_soup  - punctuation and symbols with a few digits
  filler       - machine-like filler: template sentences stitched from a small phrase bank, repeating

Runs `refinery run` (release build, scratch .build-eval) with only `- quality: {}` and prints, per class, records
and the share kept, and the reasons of the drops.

Usage: python3 tools/eval/quality_eval.py
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
rng = random.Random(20261122)


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw)


def prose():
    out = []
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isdir(path) or os.path.islink(path):
            continue
        text = open(path, encoding="utf-8", errors="replace").read()
        for para in text.split("\n\n"):
            para = " ".join(para.split())
            if len(para.split()) >= 30:
                out.append(para)
    return out


def chats(work):
    sh(sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", work, "chatterbot-corpus==1.2.0")
    wheel = glob.glob(os.path.join(work, "chatterbot_corpus-*.whl"))[0]
    import yaml  # PyYAML: install with pip if missing
    out = []
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if "/data/english/" in name and name.endswith(".yml"):
                data = yaml.safe_load(z.read(name))
                for conv in data.get("conversations", []):
                    turns = [str(t) for t in conv if t]
                    if len(turns) >= 2:
                        out.append([{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns[:2])])
    return out


def subtitles(work, binary):
    real = sh("bash", os.path.join(ROOT, "tools/fetch_real_data.sh")).stdout.strip().splitlines()[-1]
    files = [os.path.join(real, "pysrt-1.1.2/tests/static/utf-8.srt"),
             os.path.join(real, "webvtt_py-0.6.0/tests/samples/netflix_chicas_del_cable.vtt")]
    folder = os.path.join(work, "subs")
    os.makedirs(folder, exist_ok=True)
    for f in files:
        with open(f, "rb") as src, open(os.path.join(folder, os.path.basename(f)), "wb") as dst:
            dst.write(src.read())
    spec = os.path.join(work, "subs.yaml")
    with open(spec, "w") as f:
        f.write(f"name: subs\nsources: [{{name: subs, kind: subtitles, glob: '{folder}/*'}}]\noutput: {{dir: '{work}/subs-out', validation_fraction: 0}}\n")
    sh(binary, "run", spec, "--force", "--log-level", "error")
    texts = []
    for shard in sorted(glob.glob(f"{work}/subs-out/train-*.jsonl.zst")):
        for line in sh("zstd", "-dc", shard).stdout.splitlines():
            record = json.loads(line)
            texts.append((record["text"], "fr" if "utf-8.srt" in record["id"] else "es"))
    return texts


def garbage(clean):
    sentences = [s.strip() + "." for p in clean for s in p.split(".") if len(s.split()) > 5]
    out = {k: [] for k in ["boilerplate", "keyword_spam", "repeated", "mojibake", "symbol_soup", "filler"]}
    nav = ["Home", "About us", "Contact", "Privacy Policy", "Terms of Use", "This site uses cookies to improve your experience.",
           "Accept all cookies", "All rights reserved.", "Please enable JavaScript to view this page.", "Click here to subscribe"]
    keywords = ["cheap", "best", "price", "buy", "online", "discount", "free shipping", "replica", "watches", "sale", "deal", "top"]
    phrases = ["In today's fast-paced world,", "it is important to note that", "the solution offers many benefits",
               "for users of all kinds.", "Moreover,", "this provides a great value", "in terms of quality and service."]
    for _ in range(200):
        page = rng.sample(nav, 7) + rng.sample(sentences, 2) + rng.sample(nav, 5)
        out["boilerplate"].append("\n".join(page))
        out["keyword_spam"].append(" ".join(rng.choice(keywords) for _ in range(rng.randint(20, 80))))
        line = rng.choice(sentences)
        out["repeated"].append("\n".join([line] * rng.randint(4, 10) + rng.sample(sentences, 2)))
        para = rng.choice(clean)
        out["mojibake"].append(para.replace("'", "\u2019").replace(" - ", " \u2013 ").replace("e ", "\u00e9 ", 3)
                               .encode("utf-8").decode("cp1252", errors="replace"))
        out["symbol_soup"].append("".join(rng.choice("!@#$%^&*()_+=-[]{}|;:,.<>/?~`0123456789 ") for _ in range(rng.randint(40, 400))))
        out["filler"].append(" ".join(rng.choice(phrases) for _ in range(rng.randint(20, 60))))
    return out


def main():
    work = tempfile.mkdtemp(prefix="refinery-quality-eval-")
    sh("swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-eval", cwd=ROOT)
    binary = sh("swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-eval", "--show-bin-path", cwd=ROOT).stdout.strip() + "/refinery"
    clean_prose = prose()
    classes = {"prose": [{"text": t} for t in clean_prose], "subtitles": [{"text": t, "lang": lang} for t, lang in subtitles(work, binary)],
               "chats": [{"messages": m} for m in chats(work)]}
    for name, texts in garbage(clean_prose).items():
        classes["garbage_" + name] = [{"text": t} for t in texts]
    os.makedirs(os.path.join(work, "in"), exist_ok=True)
    sources = []
    for name, records in classes.items():
        with open(os.path.join(work, "in", name + ".jsonl"), "w") as f:
            for r in records:
                f.write(json.dumps({"lang": "en", **r}, ensure_ascii=False) + "\n")
        sources.append(f"  - {{name: {name}, kind: jsonl, glob: 'in/{name}.jsonl', category: {name}}}")
    spec = os.path.join(work, "eval.yaml")
    with open(spec, "w") as f:
        f.write("name: quality-eval\nsources:\n" + "\n".join(sources) + "\nstages:\n  - quality: {}\noutput: {dir: out, validation_fraction: 0}\n")
    sh(binary, "run", spec, "--force", "--log-level", "error")
    manifest = json.load(open(os.path.join(work, "out", "manifest.json")))
    print("| class | records | kept | keep rate | drops by component |")
    print("|---|---:|---:|---:|---|")
    for s in manifest["sources"]:
        drops = ", ".join(f"{k.split('.', 1)[1].replace('low_quality_', '')} {v}" for k, v in sorted(s["dropped"].items(), key=lambda kv: -kv[1])[:3])
        print(f"| {s['name']} | {s['read']} | {s['written']} | {s['written'] / max(1, s['read']):.1%} | {drops} |")
    print(f"(work folder: {work})")


if __name__ == "__main__":
    main()
