#!/usr/bin/env bash
# Renders the demo dataset's report page in headless Chromium and checks it as a person would see it
# (tools/report/check_browser.py: charts drew their marks, no console errors or dialogs, hostile record
# text shows as text, tables sort, nothing loaded from outside, charts fit a printed page).
#
#   1. installs what only this test needs, when missing: Debian's chromium (apt-get, through sudo when not
#      root) and .build/report-venv with a pinned playwright from PyPI (its browser download is not used);
#   2. builds refinery (or uses REFINERY_BIN) and runs pipelines/demo.yaml plus a source of hostile records
#      into a temporary folder;
#   3. writes the report with `refinery report DATASET --out FILE`, checks it and the report.html the run
#      wrote, and keeps report.html, report.png and report.pdf in .build/report-artifacts/.
#
# Usage: bash tools/report/check_browser.sh      (make test-browser)
# Environment: REFINERY_BIN (skip the build), CHROMIUM (another Chromium binary).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.build/report-venv"
ARTIFACTS="$ROOT/.build/report-artifacts"
PLAYWRIGHT_PIN="playwright==1.65.2"
STARTED=$(date +%s%N)

say() { echo "check_browser: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
# Seconds since $1 (a `date +%s%N` value), with one decimal.
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# --- 1. Chromium and Playwright ----------------------------------------------------------------------
step=$(date +%s%N)
# apt_install PACKAGE...: Debian packages, noninteractive, without recommends; through sudo when not root.
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || fail "installing $* needs root or password-less sudo: apt-get install $*"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2
}
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium (once; about 30 s)"
  # DejaVu so text renders in the screenshot on a machine without any font.
  apt_install chromium fonts-dejavu-core
  command -v chromium >/dev/null 2>&1 || fail "apt-get installed chromium but it is not on PATH"
fi

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$ROOT/.build"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    # Debian's python3 keeps venv (and its pip) in a package of its own.
    rm -rf "$VENV"
    apt_install python3-venv
    python3 -m venv "$VENV" || fail "python3 -m venv failed even with python3-venv installed"
  fi
fi
have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null || true)"
if [ "$have" != "${PLAYWRIGHT_PIN#playwright==}" ]; then
  say "installing $PLAYWRIGHT_PIN into $VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$PLAYWRIGHT_PIN" >&2
fi
INSTALL_SECONDS=$(since "$step")

# --- 2. refinery -----------------------------------------------------------------------------------
step=$(date +%s%N)
if [ -n "${REFINERY_BIN:-}" ]; then
  BIN="$REFINERY_BIN"
else
  bash tools/install-deps.sh
  swift build -c release --product refinery >&2
  BIN="$ROOT/.build/release/refinery"
fi
[ -x "$BIN" ] || fail "no refinery binary at $BIN"
BUILD_SECONDS=$(since "$step")
if ! "$BIN" --help 2>/dev/null | grep -qE '^[[:space:]]+report[[:space:]]'; then
  fail "$BIN has no 'report' subcommand yet (refinery report DATASET_DIR --out FILE); nothing to render"
fi

# --- 3. the demo spec plus hostile records, run into a temporary folder ---------------------------------
step=$(date +%s%N)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/refinery-report-browser.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/hostile"
# The kept record is long enough and plain enough to pass validate and quality in the demo spec; the
# second has one word, so validate drops it (too_few_words) and it shows among the example rejects.
KEPT_SCRIPT='<script>alert(1)</script>'
KEPT_IMG='"><img src=x onerror=alert(1)>'
REJECTED='<svg/onload=alert(2)>'
"$VENV/bin/python" - "$WORK/hostile/records.jsonl" "$KEPT_SCRIPT" "$KEPT_IMG" "$REJECTED" <<'EOF'
import json, sys
path, script, img, rejected = sys.argv[1:]
kept = (f"A customer wrote {script} into the search box of the help centre, and then typed {img} into the "
        "title of a new ticket. The report has to show both of these strings as plain text that people can "
        "read, and it must never run them as code inside the page.")
with open(path, "w") as out:
    out.write(json.dumps({"id": "hostile-kept", "text": kept}) + "\n")
    out.write(json.dumps({"id": "hostile-rejected", "text": rejected}) + "\n")
EOF
# Relative paths in a spec resolve against its folder: point the fixtures and the output at absolute paths.
sed -e "s#\.\./fixtures/#$ROOT/fixtures/#" -e "s#^\(  dir:\).*#\1 $WORK/out/demo#" pipelines/demo.yaml |
  awk -v glob="$WORK/hostile/*.jsonl" '
    /^stages:/ {
      print "  - name: hostile"
      print "    kind: jsonl"
      print "    glob: " glob
      print "    category: hostile"
      print "    lang: en"
      print ""
    }
    { print }' >"$WORK/spec.yaml"
if grep -n '\.\./' "$WORK/spec.yaml" >&2; then
  fail "pipelines/demo.yaml has relative paths this script does not rewrite (above); update the sed line"
fi
DATASET="$WORK/out/demo"
"$BIN" run "$WORK/spec.yaml" --force >"$WORK/run.log" 2>&1 || { tail -n 30 "$WORK/run.log" >&2; fail "refinery run failed (log above)"; }
[ -s "$DATASET/report.html" ] || fail "refinery run wrote no $DATASET/report.html"
"$BIN" report "$DATASET" --out "$WORK/report.html" >"$WORK/report.log" 2>&1 ||
  { cat "$WORK/report.log" >&2; fail "refinery report failed (log above)"; }
[ -s "$WORK/report.html" ] || fail "refinery report wrote no $WORK/report.html"
RUN_SECONDS=$(since "$step")

# --- 4. the browser ---------------------------------------------------------------------------------
step=$(date +%s%N)
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/report.* "$ARTIFACTS"/run-report.*
cp "$WORK/report.html" "$ARTIFACTS/report.html"
CHECK=("$VENV/bin/python" tools/report/check_browser.py)
EXPECT=(--expect-text "$KEPT_SCRIPT" "$KEPT_IMG" "$REJECTED")
"${CHECK[@]}" "$ARTIFACTS/report.html" "$ARTIFACTS/report.png" --pdf "$ARTIFACTS/report.pdf" "${EXPECT[@]}" ||
  fail "the report page failed the checks above (look at $ARTIFACTS/report.png)"
if cmp -s "$DATASET/report.html" "$WORK/report.html"; then
  say "the run's report.html is the same file as refinery report's"
else
  say "the run's report.html differs from refinery report's: checking it too"
  cp "$DATASET/report.html" "$ARTIFACTS/run-report.html"
  "${CHECK[@]}" "$ARTIFACTS/run-report.html" "$ARTIFACTS/run-report.png" "${EXPECT[@]}" ||
    fail "the report.html written by refinery run failed the checks above (look at $ARTIFACTS/run-report.png)"
fi
BROWSER_SECONDS=$(since "$step")

echo "artefacts:"
for file in "$ARTIFACTS"/*; do echo "  $file"; done
echo "check_browser: passed in $(since "$STARTED") s (installs ${INSTALL_SECONDS} s, build ${BUILD_SECONDS} s," \
  "run and report ${RUN_SECONDS} s, browser ${BROWSER_SECONDS} s)"
