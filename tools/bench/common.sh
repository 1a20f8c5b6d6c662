# Shared by the benchmark scripts (tools/bench/*.sh, tools/langid/bench.sh): settings from the environment,
# logging, the release build, corpora, and timing on a pinned core with a guard against other processes.
# Source it after setting BENCH_NAME (the prefix of log lines); it runs nothing by itself.
#
#   BENCH_NAME=spine
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#   bench_settings            # BENCH_DIR, SEED, CORE, REPEAT, IDLE_WAIT, RETRIES, SCRATCH from REFINERY_BENCH_*
#   bench_install_deps        # tools/install-deps.sh --bench (zstd, GNU time)
#   bench_build refinery      # release build; sets BIN_DIR, BIN and BUILT
#
# Settings read by bench_settings (a script may set BENCH_DEFAULT_<NAME> first to change a default):
#   REFINERY_BENCH_DIR        work folder for corpora, specs and outputs          (default /tmp/refinery-bench)
#   REFINERY_BENCH_SEED       corpus seed                                         (default 20261122)
#   REFINERY_BENCH_CORE       the core the 1-core runs are pinned to              (default 0)
#   REFINERY_BENCH_REPEAT     rounds; each measurement keeps its fastest          (default 3)
#   REFINERY_BENCH_IDLE_WAIT  seconds to wait for an idle machine before a run    (default 300)
#   REFINERY_BENCH_RETRIES    extra runs allowed when other processes disturbed one (default 3)
#   REFINERY_BENCH_SCRATCH    SwiftPM scratch path of the release build           (default .build-bench, never .build)

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="$BENCH_ROOT"
: "${BENCH_NAME:=bench}"

log() { echo "$BENCH_NAME: $*" >&2; }
die() { log "error: $*"; exit 1; }

# bench_settings: the REFINERY_BENCH_* settings shared by the scripts under tools/bench.
bench_settings() {
  BENCH_DIR="${REFINERY_BENCH_DIR:-${BENCH_DEFAULT_DIR:-/tmp/refinery-bench}}"
  SEED="${REFINERY_BENCH_SEED:-${BENCH_DEFAULT_SEED:-20261122}}"
  CORE="${REFINERY_BENCH_CORE:-${BENCH_DEFAULT_CORE:-0}}"
  REPEAT="${REFINERY_BENCH_REPEAT:-${BENCH_DEFAULT_REPEAT:-3}}"
  IDLE_WAIT="${REFINERY_BENCH_IDLE_WAIT:-${BENCH_DEFAULT_IDLE_WAIT:-300}}"
  RETRIES="${REFINERY_BENCH_RETRIES:-${BENCH_DEFAULT_RETRIES:-3}}"
  SCRATCH="${REFINERY_BENCH_SCRATCH:-${BENCH_DEFAULT_SCRATCH:-.build-bench}}"
}

# bench_install_deps: system packages (the libraries, zstd, GNU time for peak RSS) from the one install script.
bench_install_deps() {
  bash "$BENCH_ROOT/tools/install-deps.sh" --bench
  [ -x /usr/bin/time ] || die "/usr/bin/time is missing after tools/install-deps.sh --bench"
}

# machine_description: the CPU's name, family and model, whether it has AVX-512, the cores and the memory; for the
# reports' "machine" line. The name alone does not tell generations apart: the benchmark's "AMD EPYC" VMs have been
# Zen 4 (family 25, model 17) and Zen 5 (family 26), and the same commit runs about 1.5 x slower on the first.
machine_description() {
  awk -F': ' -v arch="$(uname -m)" -v cores="$(nproc)" -v mem="$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)" '
    /^model name/ && name == "" { name = $2 }
    /^cpu family/ && family == "" { family = $2 }
    /^model[ \t]*:/ && model == "" { model = $2 }
    /^flags/ && flags == "" { flags = " " $2 " " }
    END {
      if (name == "") name = arch
      detail = family != "" ? "family " family ", model " model : ""
      if (index(flags, " avx512f ")) detail = detail (detail != "" ? ", " : "") "AVX-512"
      printf "%s%s, %s core(s), %s", name, detail != "" ? " (" detail ")" : "", cores, mem
    }' /proc/cpuinfo
}

# bench_require TOOL...: dies naming the first tool that is not on PATH.
bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH"
  done
}

# bench_check_core CORE: dies unless CORE is "none" (no pinning) or a core of this machine, with taskset present.
bench_check_core() {
  [ "$1" = none ] && return
  command -v taskset >/dev/null 2>&1 || die "taskset is missing (util-linux)"
  [ "$1" -lt "$(nproc)" ] || die "core $1 was asked for, but this machine has $(nproc) core(s)"
}

# bench_build PRODUCT...: `swift build -c release --product P --scratch-path $SCRATCH` for each product (never the
# default .build, which belongs to whoever is developing). Sets BIN_DIR, BIN (the refinery binary) and BUILT (the
# commit, and a hash of uncommitted changes to Sources/ and Package.swift when there are any).
bench_build() {
  local product
  for product in "$@"; do
    log "building: swift build -c release --product $product --scratch-path $SCRATCH"
    (cd "$BENCH_ROOT" && swift build -c release --product "$product" --scratch-path "$SCRATCH" >&2)
  done
  BIN_DIR="$(cd "$BENCH_ROOT" && swift build -c release --product "$1" --scratch-path "$SCRATCH" --show-bin-path)"
  BIN="$BIN_DIR/refinery"
  [ -x "$BIN" ] || die "no binary at $BIN"
  BUILT="$(bench_built_from)"
}

# bench_built_from: the commit, plus a hash of uncommitted changes to Sources/ and Package.swift (new files included).
bench_built_from() {
  local built untracked
  built="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  untracked="$(git -C "$BENCH_ROOT" ls-files --others --exclude-standard -- Sources 2>/dev/null || true)"
  if ! git -C "$BENCH_ROOT" diff --quiet HEAD -- Sources Package.swift 2>/dev/null || [ -n "$untracked" ]; then
    built="$built + uncommitted changes in Sources/ (diff sha256 $(cd "$BENCH_ROOT" && { git diff HEAD -- Sources Package.swift; \
      git ls-files --others --exclude-standard -z -- Sources | xargs -0 -r cat; } | sha256sum | cut -c1-12))"
  fi
  echo "$built"
}

# ------------------------------------------------------------------------------------------------ corpora --

# corpus_ok DIR MB [KEY=VALUE...]: whether DIR holds a finished tools/bench/gen_corpus.py corpus made with these
# arguments ($SEED, and each KEY of corpus.json equal to VALUE, compared as JSON or as a string) by this generator.
corpus_ok() {
  python3 - "$1" "$2" "$SEED" "$BENCH_ROOT/tools/bench/gen_corpus.py" "${@:3}" <<'EOF'
import json, os, re, sys
folder, mb, seed, generator, extra = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
try:
    info = json.load(open(os.path.join(folder, "corpus.json")))
except (OSError, ValueError):
    sys.exit(1)
version = int(re.search(r"^GENERATOR_VERSION = (\d+)", open(generator).read(), re.M).group(1))
if (info.get("mb"), info.get("seed"), info.get("generator_version")) != (mb, seed, version):
    sys.exit(1)
wanted = {}
for pair in extra:
    key, _, value = pair.partition("=")
    try:
        wanted[key] = json.loads(value)
    except ValueError:
        wanted[key] = value
# The generator's optional settings: a corpus made with any of them is not a default corpus, and the other way round.
for key in set(wanted) | {"langs", "pii_rate", "junk_rate", "punctuate", "subtitle_share", "dup_rate", "toxic_rate",
                          "skew_categories"}:
    if info.get(key) != wanted.get(key):
        sys.exit(1)
kinds = [kind for kind in ("chats", "docs", "subtitles") if kind in info]
try:
    size = sum(os.path.getsize(os.path.join(folder, kind, name))
               for kind in kinds for name in os.listdir(os.path.join(folder, kind)))
except OSError:
    sys.exit(1)
sys.exit(0 if size == info["bytes"] else 1)
EOF
}

# ensure_corpus DIR MB [OPTION...]: generates a gen_corpus.py corpus of MB decimal MB into DIR with $SEED and the
# given extra options, unless DIR already holds one (pass the matching corpus.json keys in CORPUS_KEYS).
ensure_corpus() {
  local dir=$1 mb=$2; shift 2
  if corpus_ok "$dir" "$mb" ${CORPUS_KEYS:-}; then
    log "reusing the ${mb} MB corpus in $dir"
  else
    log "generating a ${mb} MB corpus in $dir"
    python3 "$BENCH_ROOT/tools/bench/gen_corpus.py" "$dir" --mb "$mb" --seed "$SEED" "$@"
  fi
}

# ----------------------------------------------------------------------------------------------- datatrove --

# The venv the datatrove comparisons run in (text_stages.sh, e2e.sh), and what goes into it: datatrove as pinned by
# tools/eval/pii_eval.py, spaCy (datatrove's word tokenizer for the Gopher, C4 and FineWeb filters), regex (its
# formatters), fasttext and fasteners (LanguageFilter), requests and aiohttp (fsspec's HTTP downloads of the fasttext
# model and the bad-word lists); for the pipeline of e2e.sh also orjson (JsonlReader and JsonlWriter), xxhash
# (MinHash's default hash), tokenizers (imported by datatrove.pipeline.dedup) and zstandard (zstd-compressed output),
# which datatrove's "io" and "processing" extras name.
DATATROVE_VENV="$BENCH_ROOT/.build/bench-venv"
DATATROVE_PACKAGES=(datatrove==0.10.1 spacy==3.8.18 regex fasttext-numpy2-wheel fasteners requests aiohttp
                    orjson "xxhash<4" tokenizers zstandard)
DATATROVE_IMPORTS="import datatrove, spacy, regex, fasttext, fasteners, requests, aiohttp, orjson, xxhash, tokenizers, zstandard"

# datatrove_install LOG: makes DATATROVE_VENV and pip-installs DATATROVE_PACKAGES into it when one of them does not
# import. Returns non-zero, with DATATROVE_SKIPPED saying why (pip's last line is in LOG), when that fails.
datatrove_install() {
  DATATROVE_SKIPPED=""
  if "$DATATROVE_VENV/bin/python" -c "$DATATROVE_IMPORTS" 2>/dev/null; then return 0; fi
  log "installing ${DATATROVE_PACKAGES[*]} into $DATATROVE_VENV"
  if ! { [ -x "$DATATROVE_VENV/bin/python" ] || python3 -m venv "$DATATROVE_VENV"; } \
      || ! "$DATATROVE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${DATATROVE_PACKAGES[@]}" >"$1" 2>&1; then
    DATATROVE_SKIPPED="installing datatrove from PyPI into $DATATROVE_VENV failed: $(grep -v '^\s*$' "$1" 2>/dev/null | tail -1 | cut -c1-160)"
    log "datatrove skipped: $DATATROVE_SKIPPED"
    return 1
  fi
}

# stat_field STATS_JSON KEY: a number from a dataset's stats.json (worker_seconds.X for nested keys).
stat_field() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value.get(part, 0) if isinstance(value, dict) else 0
print(f"{float(value):.3f}")
EOF
}

# dataset_checksums DATASET OUT: the sha256 of a dataset's shards (rejects included) and manifest.json, in path order,
# to OUT: two datasets are byte-identical when their files are (spine.sh and e2e.sh compare 1 worker with more).
# seven_stage_spec CORPUS DATASET OUTPUT_DIR SHARD_SIZE WRITER: prints a spec running the seven stages over a
# gen_corpus.py corpus (chats, docs, subtitles), zstd level 3 and 5% validation, written by WRITER. The globs are
# single-quoted YAML scalars (a ' doubled), so that a path with a comma, brace or colon stays one value.
# e2e_corpus_settings: the end-to-end bench corpus (e2e.sh, phases.sh): documents, chats and subtitle windows in 19
# languages, with planted duplicates, PII, toxic and garbage records, and a skewed category mix (gen_corpus.py's
# docstring; the rates are in the README). Sets CORPUS_OPTIONS (gen_corpus.py's) and CORPUS_KEYS_E2E (what
# corpus.json must say for a corpus to be reused).
e2e_corpus_settings() {
  CORPUS_OPTIONS=(--langs multilingual --pii-rate 0.05 --junk-rate 0.03 --punctuate --subtitle-share 0.15
                  --dup-rate 0.08 --toxic-rate 0.02 --skew-categories)
  CORPUS_KEYS_E2E="langs=multilingual pii_rate=0.05 junk_rate=0.03 punctuate=true subtitle_share=0.15 dup_rate=0.08"
  CORPUS_KEYS_E2E="$CORPUS_KEYS_E2E toxic_rate=0.02 skew_categories=true"
  # The toxic terms come from the toxicity stage's word lists: a corpus made from other lists is made again.
  CORPUS_KEYS_E2E="$CORPUS_KEYS_E2E toxic_lexicon_sha256=$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1])
import gen_corpus; print(gen_corpus.lexicon_sha256(gen_corpus.LEXICON))' "$BENCH_ROOT/tools/bench")"
}

seven_stage_spec() {
  local corpus=${1//\'/\'\'}
  cat <<EOF
# Written by $5: the seven stages over $1.
name: $2
sources:
  - {name: chats, kind: chat_jsonl, glob: '$corpus/chats/*.jsonl', category: chat}
  - {name: docs, kind: jsonl, glob: '$corpus/docs/*.jsonl'}
  - {name: subtitles, kind: jsonl, glob: '$corpus/subtitles/*.jsonl'}
stages:
  - validate: {}
  - lang: {}
  - pii: {}
  - quality: {}
  - toxicity: {}
  - dedup: {}
  - balance: {temperature: 0.5}
output: {dir: $3, dataset: $2, shard_size: $4, zstd_level: 3, validation_fraction: 0.05}
EOF
}

dataset_checksums() {
  (cd "$1" && find . \( -name '*.jsonl.zst' -o -name manifest.json \) -print0 | sort -z | xargs -0 sha256sum) >"$2"
}

# ----------------------------------------------------------------------------------------------- timing --

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# time_field FILE LABEL: a value from `/usr/bin/time -v` output.
time_field() { awk -F': ' -v key="$2" 'index($0, key) { print $NF; exit }' "$1"; }

CLK_TCK=$(getconf CLK_TCK)

# Which /proc/stat line the idle wait and the disturbance check watch: "cpu" (the whole machine, the default) or
# "cpuN" (one core: for runs pinned to core N, where only what else runs on that core takes time from them); a
# script sets it after sourcing this file.
BUSY_CPU=cpu

# busy_jiffies: CPU time the watched cores have spent not idle since boot (steal included), in clock ticks.
busy_jiffies() { awk -v line="$BUSY_CPU" '$1 == line { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# cores_busy: how many cores' worth of CPU the watched cores used over the last second.
cores_busy() {
  local a b
  a=$(busy_jiffies); sleep 1; b=$(busy_jiffies)
  awk -v a="$a" -v b="$b" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }'
}

# wait_idle: waits up to IDLE_WAIT seconds for other processes to use less than 0.2 core (of the watched cores).
wait_idle() {
  local waited=0 busy
  busy=$(cores_busy)
  while awk -v b="$busy" 'BEGIN { exit !(b > 0.2) }'; do
    if [ "$waited" -ge "$IDLE_WAIT" ]; then
      log "other processes still use $busy core(s) after ${IDLE_WAIT}s; measuring anyway"
      return
    fi
    if [ "$waited" -eq 0 ]; then log "other processes use $busy core(s); waiting up to ${IDLE_WAIT}s for an idle machine"; fi
    sleep 4
    waited=$((waited + 5))
    busy=$(cores_busy)
  done
}

# measure KEY RUNDIR -- COMMAND...: runs COMMAND once under /usr/bin/time -v, after $PRE_RUN (eval'd), with
# `cat FILES` on stdin when STDIN_CAT=1; stdout goes to /dev/null, stderr to RUNDIR/run.log. A run during
# which other processes used the CPU (the watched cores' busy time minus the run's own user + sys) is run again,
# RETRY_LEFT[KEY] times at most, then kept and flagged.
# Keeps, per KEY, the fastest run's WALL, USER, SYS and OTHER (CPU-s used by other processes meanwhile), the
# largest peak RSS, and with DATASET set the fastest run's DATASET/stats.json as RUNDIR/stats.fastest.json.
# After it returns, LAST_WALL, LAST_USER, LAST_SYS, LAST_OTHER and LAST_FLAGGED describe the run just kept.
declare -A T_WALL T_USER T_SYS T_OTHER T_RSS T_FLAGGED RETRY_LEFT
DISTURBED=0
measure() {
  local key=$1 dir=$2; shift 3
  local start end b0 b1 wall rss user sys aux other flagged=0
  while true; do
    if [ -n "${PRE_RUN:-}" ]; then eval "$PRE_RUN"; fi
    wait_idle
    b0=$(busy_jiffies); start=$(now)
    if [ "${STDIN_CAT:-0}" = 1 ]; then
      if ! /usr/bin/time -f '%U %S' -o "$dir/cat.time" cat "${FILES[@]}" \
          | /usr/bin/time -v -o "$dir/run.time" "$@" >/dev/null 2>"$dir/run.log"; then
        cat "$dir/run.log" >&2; die "$* failed (log: $dir/run.log)"
      fi
      aux=$(awk '{ print $1 + $2 }' "$dir/cat.time")
    else
      if ! /usr/bin/time -v -o "$dir/run.time" "$@" >/dev/null 2>"$dir/run.log"; then
        cat "$dir/run.log" >&2; die "$* failed (log: $dir/run.log)"
      fi
      aux=0
    fi
    end=$(now); b1=$(busy_jiffies)
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    user=$(time_field "$dir/run.time" "User time")
    sys=$(time_field "$dir/run.time" "System time")
    rss=$(time_field "$dir/run.time" "Maximum resident set size")
    other=$(awk -v b0="$b0" -v b1="$b1" -v hz="$CLK_TCK" -v u="$user" -v s="$sys" -v a="$aux" \
      'BEGIN { o = (b1 - b0) / hz - u - s - a; printf "%.2f", o < 0 ? 0 : o }')
    if ! awk -v o="$other" -v w="$wall" 'BEGIN { exit !(o > 0.5 && o > 0.03 * w) }'; then break; fi
    if [ "${RETRY_LEFT[$key]:-0}" -gt 0 ]; then
      RETRY_LEFT[$key]=$((RETRY_LEFT[$key] - 1))
      log "  disturbed: other processes used ${other} CPU-s during this ${wall}s run; running it again"
      continue
    fi
    log "  disturbed: other processes used ${other} CPU-s during this ${wall}s run; no retries left, keeping it (flagged)"
    DISTURBED=$((DISTURBED + 1))
    flagged=1
    break
  done
  LAST_WALL=$wall LAST_USER=$user LAST_SYS=$sys LAST_OTHER=$other LAST_FLAGGED=$flagged
  log "  $key: ${wall}s wall, ${user}s user, ${sys}s sys, peak RSS $(mib "$rss") MiB"
  if [ "$rss" -gt "${T_RSS[$key]:-0}" ]; then T_RSS[$key]=$rss; fi
  if [ -z "${T_WALL[$key]:-}" ] || awk -v a="$wall" -v b="${T_WALL[$key]}" 'BEGIN { exit !(a < b) }'; then
    T_WALL[$key]=$wall T_USER[$key]=$user T_SYS[$key]=$sys T_OTHER[$key]=$other T_FLAGGED[$key]=$flagged
    if [ -n "${DATASET:-}" ]; then cp "$DATASET/stats.json" "$dir/stats.fastest.json"; fi
  fi
}
