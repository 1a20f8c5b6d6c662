#!/usr/bin/env bash
# Fetches real files written by people, for Tests/RefineryTests/RealSubtitleTests.swift and RealTabularTests.swift:
# the source distributions of pysrt (tests/static: a French film in UTF-8 and windows-1252, BOM variants, broken
# files) and webvtt-py (tests/samples: a Netflix episode in Spanish, YouTube captions, edge cases), and from the
# recbole wheel the MovieLens-100K ratings and movie table (recbole/dataset_example/ml-100k), at pinned versions
# and checked against pinned SHA-256 sums, unpacked under .build/real-data/ (or $REFINERY_REAL_DATA).
#
# Nothing is committed and nothing is installed: `pip download` only downloads. Idempotent: a `.complete` marker
# naming the pins makes a second run a no-op. Exits 0 printing the folder (the only line on stdout), or non-zero
# with a one-line reason on stderr when python3, pip or the package index cannot be reached.
#
#   bash tools/fetch_real_data.sh
set -euo pipefail

# name==version sha256-of-the-sdist unpacked-folder
PINS=(
    "pysrt==1.1.2 b4f844ba33e4e7743e9db746492f3a193dc0bc112b153914698e7c1cdeb9b0b9 pysrt-1.1.2"
    "webvtt-py==0.6.0 2f4ba359ab7e6bac98aa086fa7fc0ba1320ca7495f7d67f565baceac37f40aff webvtt_py-0.6.0"
)
# name==version sha256-of-the-wheel folder files-to-extract (comma-separated paths inside the wheel)
WHEELS=(
    "recbole==1.2.1 9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407 recbole-1.2.1 recbole/dataset_example/ml-100k/ml-100k.inter,recbole/dataset_example/ml-100k/ml-100k.item"
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${REFINERY_REAL_DATA:-$root/.build/real-data}"

fail() {
    echo "fetch_real_data: $*" >&2
    exit 69 # EX_UNAVAILABLE
}

expected_marker="$(printf '%s\n' "${PINS[@]}" "${WHEELS[@]}")"
if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$expected_marker" ]]; then
    echo "real data already in $dest" >&2
    echo "$dest"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "python3 is not on PATH, so pip cannot download the real subtitle files"
python3 -m pip --version >/dev/null 2>&1 || fail "python3 has no pip module ('python3 -m pip' fails), so the real subtitle files cannot be downloaded"
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is not on PATH, so the downloads cannot be checked"

mkdir -p "$dest" || fail "cannot create $dest"
# Two test processes may run this at once: the second waits for the first (flock is Linux's; elsewhere, the
# per-process scratch folder and moves below keep a race harmless).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dest/.lock"
    flock 9
    if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$expected_marker" ]]; then
        echo "real data already in $dest" >&2
        echo "$dest"
        exit 0
    fi
fi

scratch="$(mktemp -d "$dest/.download.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# Downloads one pinned distribution into $scratch/$3 and checks its SHA-256; sets $archive to its path.
#   fetch REQUIREMENT SHA256 FOLDER sdist|wheel
fetch() {
    local requirement="$1" sha="$2" into="$scratch/$3" kind="$4" pattern binary
    if [[ "$kind" == sdist ]]; then pattern='*.tar.gz'; binary=(--no-binary :all:); else pattern='*.whl'; binary=(--only-binary :all:); fi
    echo "downloading $requirement ($kind) ..." >&2
    mkdir -p "$into"
    # A short timeout and one retry, so a machine without the network fails in seconds, not minutes.
    if ! python3 -m pip download --no-deps "${binary[@]}" --disable-pip-version-check --quiet \
        --timeout 20 --retries 1 --dest "$into" "$requirement" >"$scratch/pip.log" 2>&1; then
        reason="$(grep -v '^\s*$' "$scratch/pip.log" | tail -n 1 | cut -c1-200 || true)"
        fail "pip could not download $requirement (no network or package index?): ${reason:-pip failed}"
    fi
    archive="$(find "$into" -maxdepth 1 -name "$pattern" | head -n 1)"
    [[ -n "$archive" ]] || fail "pip downloaded no $pattern for $requirement"
    echo "$sha  $archive" | sha256sum --check --status ||
        fail "$(basename "$archive") does not have the pinned SHA-256 $sha; update the pin in tools/fetch_real_data.sh only after reading the new files"
}

for pin in "${PINS[@]}"; do
    read -r requirement sha folder <<<"$pin"
    fetch "$requirement" "$sha" "$folder.sdist" sdist
    tar --no-same-owner -xzf "$archive" -C "$scratch" || fail "cannot unpack $(basename "$archive")"
    [[ -d "$scratch/$folder" ]] || fail "$(basename "$archive") did not unpack into $folder/"
    rm -rf "${dest:?}/$folder"
    mv "$scratch/$folder" "$dest/$folder"
    echo "unpacked $requirement into $dest/$folder" >&2
done

for pin in "${WHEELS[@]}"; do
    read -r requirement sha folder files <<<"$pin"
    fetch "$requirement" "$sha" "$folder.wheel" wheel
    python3 - "$archive" "$files" "$scratch/$folder" <<'PY' || fail "cannot unpack $files from $(basename "$archive")"
import os, sys, zipfile
archive, files, out = sys.argv[1:]
with zipfile.ZipFile(archive) as wheel:
    names = files.split(",")
    os.makedirs(out, exist_ok=True)
    for name in names:
        with open(os.path.join(out, os.path.basename(name)), "wb") as f:
            f.write(wheel.read(name))
PY
    rm -rf "${dest:?}/$folder"
    mv "$scratch/$folder" "$dest/$folder"
    echo "unpacked $files of $requirement into $dest/$folder" >&2
done

printf '%s\n' "$expected_marker" >"$scratch/complete"
mv "$scratch/complete" "$dest/.complete"
echo "real data in $dest" >&2
echo "$dest"
