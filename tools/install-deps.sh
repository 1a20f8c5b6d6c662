#!/usr/bin/env bash
# Installs the system libraries Refinery links against, only where missing.
# Idempotent: each library is checked with pkg-config first; apt-get runs only
# when something is missing, through sudo only when we are not root.
# This is the only place in the repository that installs system packages.
#
# Usage: tools/install-deps.sh           libraries for building and testing, and the zstd tool
#        tools/install-deps.sh --bench   also GNU time (peak memory for tools/bench)
set -euo pipefail

BENCH=false
case "${1:-}" in
  --bench) BENCH=true ;;
  "") ;;
  *) echo "install-deps: unknown option '$1' (use --bench or nothing)" >&2; exit 64 ;;
esac

# pkg-config module -> Debian package
declare -A NEEDED=(
  [libzstd]=libzstd-dev
  [libxxhash]=libxxhash-dev
  [sqlite3]=libsqlite3-dev
  [openblas]=libopenblas-dev
  [jemalloc]=libjemalloc-dev
)

missing=()
if ! command -v pkg-config >/dev/null 2>&1; then
  missing+=(pkg-config)
fi
for module in "${!NEEDED[@]}"; do
  if ! pkg-config --exists "$module" 2>/dev/null; then
    missing+=("${NEEDED[$module]}")
  fi
done
# The zstd command line is used by the tests (readers of .jsonl.zst must agree
# with the reference tool) and by the benchmark as the speed baseline.
if ! command -v zstd >/dev/null 2>&1; then
  missing+=(zstd)
fi

if $BENCH && [ ! -x /usr/bin/time ]; then
  missing+=(time)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system libraries present" >&2
  exit 0
fi

# Sort so the log line is stable from run to run.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

for module in "${!NEEDED[@]}"; do
  if ! pkg-config --exists "$module"; then
    echo "install-deps: ${NEEDED[$module]} installed but pkg-config cannot find '$module'" >&2
    exit 1
  fi
done
echo "install-deps: done" >&2
