#!/usr/bin/env python3
"""Checks that a tokenizer written by `refinery tokenizer train` encodes exactly as Hugging Face's `tokenizers`
does when it loads the same files, on real text.

Usage: python3 tools/tokenizer/check_hf.py TOKENIZER_DIR TEXTS...

TEXTS are dataset folders (their shards' `text` and message contents are read) or plain UTF-8 files (read line by
line). Every text is encoded three ways: by `refinery tokenizer encode` (REFINERY_BIN, default the release build
of this checkout), by `tokenizers.Tokenizer.from_file(tokenizer.json)`, and by a `ByteLevelBPETokenizer` built
from `vocab.json` + `merges.txt` with the special tokens of `tokenizer_config.json`. Prints the number of texts, tokens and mismatches (with the first few), and
decodes every text back to check the round trip. Exits 1 on any mismatch.

Needs `tokenizers` and `zstandard`; installs them into .build/tokenizer-venv when run outside it.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".build", "tokenizer-venv")
PACKAGES = ["tokenizers==0.22.1", "zstandard==0.25.0"]


def ensure_venv():
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *PACKAGES], check=True)
    os.execv(python, [python, *sys.argv])


def texts_of(path):
    if os.path.isdir(path):
        import zstandard
        manifest = json.load(open(os.path.join(path, "manifest.json")))
        for shard in manifest["shards"]:
            with open(os.path.join(path, shard["file"]), "rb") as f:
                data = zstandard.ZstdDecompressor().stream_reader(f).read()
            for line in data.decode("utf-8").splitlines():
                record = json.loads(line)
                if isinstance(record.get("text"), str):
                    yield record["text"]
                for message in record.get("messages") or []:
                    yield message["content"]
    else:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    yield line.rstrip("\n")


def main():
    ensure_venv()
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    from tokenizers import Tokenizer, ByteLevelBPETokenizer
    folder = sys.argv[1]
    texts = [t for path in sys.argv[2:] for t in texts_of(path)]
    binary = os.environ.get("REFINERY_BIN")
    if not binary:
        subprocess.run(["swift", "build", "-c", "release", "--product", "refinery"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        binary = os.path.join(ROOT, ".build", "release", "refinery")
    out = subprocess.run([binary, "tokenizer", "encode", folder], input="".join(json.dumps(t) + "\n" for t in texts),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    ours = [json.loads(line) for line in out]
    fast = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    pair = ByteLevelBPETokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"))
    # vocab.json + merges.txt say nothing of which tokens are special; tokenizer_config.json does.
    config = json.load(open(os.path.join(folder, "tokenizer_config.json")))
    pair.add_special_tokens([config["eos_token"], *config["additional_special_tokens"]])
    mismatches = 0
    tokens = 0
    for text, mine in zip(texts, ours):
        a = fast.encode(text).ids
        b = pair.encode(text).ids
        tokens += len(mine)
        if mine != a or mine != b or fast.decode(mine, skip_special_tokens=False) != text:
            mismatches += 1
            if mismatches <= 5:
                print(f"MISMATCH {text[:80]!r}\n  refinery  {mine[:20]}\n  tokenizer {a[:20]}\n  vocab+merges {b[:20]}")
    size = fast.get_vocab_size()
    print(f"{len(texts)} texts, {tokens} tokens, vocabulary {size}: {mismatches} mismatches "
          f"(refinery vs tokenizers {__import__('tokenizers').__version__} from tokenizer.json and from vocab.json + merges.txt, "
          f"and decode round trip)")
    sys.exit(1 if mismatches or len(ours) != len(texts) else 0)


if __name__ == "__main__":
    main()
