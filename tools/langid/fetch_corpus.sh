#!/usr/bin/env bash
# Fetches the real text the language identifier is trained and evaluated on: Debian packages of translations
# (gettext catalogues, Firefox/Thunderbird language packs, LibreOffice UI and help, translated man pages, the
# Debian Reference), downloaded with `apt-get download` and unpacked with `dpkg-deb -x` into a work folder.
# Nothing is installed on the system. See tools/langid/README.md for why these packages.
#
# Usage: bash tools/langid/fetch_corpus.sh            (then: python3 tools/langid/extract.py; python3 tools/langid/train.py)
#
# Environment (optional):
#   LANGID_DIR   work folder (default: .build/langid under the repository); debs go to $LANGID_DIR/debs,
#                unpacked trees to $LANGID_DIR/root/<package>
#
# Needs apt-get with current lists (`apt-get update` once) and dpkg-deb. Re-running skips packages already
# unpacked. Packages that the archive does not have are reported and skipped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${LANGID_DIR:-$ROOT/.build/langid}"
DEBS="$WORK/debs"
TREES="$WORK/root"
mkdir -p "$DEBS" "$TREES"

log() { echo "fetch_corpus: $*" >&2; }
for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || { log "error: '$tool' is not on PATH (this script needs a Debian system)"; exit 1; }
done

# Catalogues shipped in one package for many languages (msgstr: the translations; msgid: English).
MULTI=(
  libc-l10n util-linux-locales coreutils tar wget gettext gnupg-l10n apt dpkg debconf-i18n
  libgtk-3-common libglib2.0-data gimp-data inkscape vlc-l10n
)

# Our language code -> the suffixes each family of per-language packages uses (space separated; "-" = none).
#            lang  firefox/thunderbird         libreoffice(-l10n/-help)  manpages     debian-reference
LANGS="
en  -                 en-us                     -            en
ru  ru                ru                        ru           -
uk  uk                uk                        uk           -
es  es-es             es                        es           es
pt  pt-pt,pt-br       pt,pt-br                  pt,pt-br     pt,pt-br
fr  fr                fr                        fr           fr
it  it                it                        it           it
de  de                de                        de           de
nl  nl                nl                        nl           -
sv  sv-se             sv                        sv           -
da  da                da                        da           -
nb  nb-no             nb                        nb           -
fi  fi                fi                        fi           -
pl  pl                pl                        pl           -
cs  cs                cs                        cs           -
sk  sk                sk                        -            -
hu  hu                hu                        hu           -
ro  ro                ro                        ro           -
bg  bg                bg                        -            -
el  el                el                        el           -
tr  tr                tr                        tr           -
ar  ar                ar                        -            -
he  he                he                        -            -
fa  fa                fa                        -            -
hi  hi-in             hi                        -            -
zh  zh-cn,zh-tw       zh-cn,zh-tw               zh           zh-cn,zh-tw
ja  ja                ja                        ja           ja
ko  ko                ko                        -            -
vi  vi                vi                        vi           -
id  id                id                        id           id
"

PACKAGES=("${MULTI[@]}" manpages)
while read -r lang moz lo man ref; do
  [ -n "$lang" ] || continue
  split() { [ "$1" = "-" ] || tr ',' '\n' <<<"$1"; }
  for s in $(split "$moz"); do PACKAGES+=("firefox-esr-l10n-$s" "thunderbird-l10n-$s"); done
  for s in $(split "$lo"); do [ "$s" = en-us ] || PACKAGES+=("libreoffice-l10n-$s"); PACKAGES+=("libreoffice-help-$s"); done
  for s in $(split "$man"); do PACKAGES+=("manpages-$s"); done
  for s in $(split "$ref"); do PACKAGES+=("debian-reference-$s"); done
done <<<"$LANGS"

missing=()
fetched=0
for pkg in "${PACKAGES[@]}"; do
  [ -f "$TREES/$pkg/.unpacked" ] && continue
  if ! apt-cache show "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
    continue
  fi
  if ! ls "$DEBS/${pkg}"_*.deb >/dev/null 2>&1; then
    log "downloading $pkg"
    (cd "$DEBS" && apt-get download -q "$pkg" >/dev/null 2>&1) || { log "warning: apt-get download $pkg failed"; missing+=("$pkg"); continue; }
  fi
  rm -rf "${TREES:?}/$pkg"
  mkdir -p "$TREES/$pkg"
  dpkg-deb -x "$(ls "$DEBS/${pkg}"_*.deb | head -n1)" "$TREES/$pkg"
  touch "$TREES/$pkg/.unpacked"
  fetched=$((fetched + 1))
done

log "unpacked $fetched new package(s) into $TREES ($(ls "$TREES" | wc -l) in all)"
if [ "${#missing[@]}" -gt 0 ]; then
  log "not in the archive (skipped): ${missing[*]}"
fi
