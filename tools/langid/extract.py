#!/usr/bin/env python3
"""Extracts labelled text from the Debian packages that fetch_corpus.sh unpacked.

Usage: python3 tools/langid/extract.py [--work .build/langid]

Reads  $WORK/root/<package>/...   (written by tools/langid/fetch_corpus.sh)
Writes $WORK/corpus.jsonl        one {"lang", "source", "family", "text"} object per line
       $WORK/corpus-stats.json    texts and characters per language and per family

What each family of files gives (the README says why these):
  mo        gettext catalogues (.mo, binary format of GNU gettext): every msgstr, labelled by the locale folder;
            every msgid is English text and is labelled `en`.
  moz       Firefox/Thunderbird language packs (.xpi = zip): values of Fluent (.ftl) and .properties files.
  lohelp    LibreOffice help pages (HTML): paragraphs, list items and table cells.
  man       translated man pages (roff): paragraphs of running text, with the markup removed.
  ref       the Debian Reference (HTML): paragraphs and list items.

`source` names a document or catalogue WITHOUT its language (`mo:coreutils`, `man:man1/ls`,
`moz:browser/browser/preferences/preferences.ftl`): train.py holds out whole sources, the same ones in every
language, so no translation of a held-out document is trained on.

Cleaning: markup, format specifiers (%s, %1$d, {0}, {{x}}, $VAR), mnemonics (_File, &File, (_F)), URLs, e-mail
addresses and file paths are removed; whitespace is collapsed. A text is kept when at least half of its
characters are letters and at least 60 % of its letters are in the script its language is written in; a
translation identical to its English msgid, or one that reads as English (English function words), is
dropped from the other languages: untranslated strings are the main label noise in these sources.
"""

import argparse
import collections
import gzip
import html.parser
import io
import json
import os
import re
import struct
import sys
import unicodedata
import zipfile

LANGS = ["en", "ru", "uk", "es", "pt", "fr", "it", "de", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk", "hu",
         "ro", "bg", "el", "tr", "ar", "he", "fa", "hi", "zh", "ja", "ko", "vi", "id"]

# The script a language is written in (for the clean-up filter only; the model has its own script table).
SCRIPT_OF = {"ru": "Cyrl", "uk": "Cyrl", "bg": "Cyrl", "el": "Grek", "ar": "Arab", "fa": "Arab", "he": "Hebr",
             "hi": "Deva", "zh": "Hani", "ja": "Jpan", "ko": "Hang"}


def script(ch):
    cp = ord(ch)
    if cp < 0x250 or 0x1E00 <= cp <= 0x1EFF:
        return "Latn"
    if 0x370 <= cp <= 0x3FF or 0x1F00 <= cp <= 0x1FFF:
        return "Grek"
    if 0x400 <= cp <= 0x52F:
        return "Cyrl"
    if 0x590 <= cp <= 0x5FF:
        return "Hebr"
    if 0x600 <= cp <= 0x6FF or 0x750 <= cp <= 0x77F or 0xFB50 <= cp <= 0xFDFF or 0xFE70 <= cp <= 0xFEFF:
        return "Arab"
    if 0x900 <= cp <= 0x97F:
        return "Deva"
    if 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F or 0xAC00 <= cp <= 0xD7AF:
        return "Hang"
    if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F:
        return "Kana"
    if 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or cp >= 0x20000:
        return "Hani"
    return "Other"


def locale_to_lang(loc):
    """A locale folder name (de, pt_BR, zh-CN, nb_NO, sr@latin) -> one of LANGS or None."""
    loc = loc.split("@")[0].split(".")[0].replace("-", "_")
    primary = loc.split("_")[0].lower()
    if primary == "no":
        primary = "nb"
    if primary == "en":
        return None  # English comes from the msgids; en_GB/en@quot catalogues are respellings
    return primary if primary in LANGS else None


# ---------------------------------------------------------------------------------------------- cleaning --

FORMAT = re.compile(r"%(\d+\$)?[-+ #0']*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|L|q|j|z|t|I64|I32|I)?[diouxXeEfFgGaAcspnSum%@]"
                    r"|%\([A-Za-z_]+\)[sdif]|\{\{[^}]*\}\}|\{[^{}]*\}|\$\{[^}]*\}|\$[A-Z_]{2,}|<[^<>]{1,200}>"
                    r"|&[a-zA-Z]+;|&#\d+;")
URL = re.compile(r"\b(https?|ftp|file)://\S+|\bwww\.\S+|\S+@\S+\.\w+|(?<!\w)(~|\.{0,2})/[\w./-]+")
MNEMONIC = re.compile(r"\(\s*[_&]?[A-Za-z0-9]\s*\)|\[\s*[_&][A-Za-z0-9]\s*\]|[_&~](?=\w)")
SPACE = re.compile(r"\s+")


def clean(text):
    text = FORMAT.sub(" ", text)
    text = URL.sub(" ", text)
    text = MNEMONIC.sub("", text)
    text = text.replace("\\n", " ").replace("\\t", " ")
    return SPACE.sub(" ", text).strip()


# Words that are common in English and are not words of the other Latin-script languages here ("is", "to",
# "in", "on", "as", "for", "data", "file", "table", "menu" are, so they are not in the list).
ENGLISH_WORDS = set("the and of you that with this are which your will from have should when there their would "
                    "been these than what does into could click select returns based string value values number "
                    "numbers specified specifies used use using following enter text cell cells field fields dialog "
                    "box page only also by can be not an it its how where more new type name files default show "
                    "shows displays specify see example function functions sheet window button error row rows "
                    "column columns contains object objects selected current then must each other between".split())
WORD = re.compile(r"\w+")


def looks_english(text):
    words = WORD.findall(text.lower())
    hits = sum(1 for w in words if w in ENGLISH_WORDS)
    return hits >= 2 and hits >= 0.25 * len(words)


def acceptable(lang, text):
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 3 or len(letters) < 0.5 * len(text):
        return False
    scripts = collections.Counter(script(c) for c in letters)
    want = SCRIPT_OF.get(lang, "Latn")
    if want == "Jpan":
        good = scripts["Kana"] + scripts["Hani"]
    else:
        good = scripts[want]
    if good < 0.6 * len(letters):
        return False
    if lang != "en" and want == "Latn" and looks_english(text):
        return False
    return True


# ---------------------------------------------------------------------------------------------- readers --

def read_mo(data):
    """Yields (msgid, msgstr) of a GNU .mo file; plural forms are split, the header entry skipped."""
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if endian is None:
        return
    _, count, orig, trans = struct.unpack(endian + "4I", data[4:20])
    for i in range(count):
        olen, ooff = struct.unpack(endian + "2I", data[orig + 8 * i:orig + 8 * i + 8])
        tlen, toff = struct.unpack(endian + "2I", data[trans + 8 * i:trans + 8 * i + 8])
        msgid = data[ooff:ooff + olen].decode("utf-8", "replace")
        msgstr = data[toff:toff + tlen].decode("utf-8", "replace")
        if not msgid:
            continue
        if "\x04" in msgid:
            msgid = msgid.split("\x04", 1)[1]
        yield msgid.split("\x00"), msgstr.split("\x00")


FTL_ENTRY = re.compile(r"^(-?[A-Za-z][\w-]*|\s+\.[\w-]+)\s*=\s*(.*)$")
FTL_VARIANT = re.compile(r"^\s*\*?\[[^\]]+\]\s*(.*)$")


def read_ftl(text):
    """Values of a Fluent file: messages, terms, attributes and select variants, one string each."""
    current = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            if current:
                yield " ".join(current)
                current = []
            continue
        m = FTL_ENTRY.match(line)
        if m:
            if current:
                yield " ".join(current)
            current = [m.group(2)] if m.group(2).strip() else []
            continue
        v = FTL_VARIANT.match(line)
        if v:
            if current:
                yield " ".join(current)
            current = [v.group(1)]
            continue
        if line.startswith((" ", "\t")) and line.strip() not in ("}",) and not line.strip().startswith(("{", "}")):
            current.append(line.strip())
    if current:
        yield " ".join(current)


def read_properties(text):
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")) or "=" not in line:
            continue
        value = line.split("=", 1)[1].strip()
        value = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), value)
        value = re.sub(r"#\d|%\d?\$?S", " ", value)
        for part in value.split(";"):  # plural forms are ;-separated
            yield part


class BlockText(html.parser.HTMLParser):
    """Collects the text of block elements (p, li, td, dd, dt, h1-h6) of an HTML page; skips pre/code/script."""
    BLOCKS = {"p", "li", "td", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "th", "div"}
    SKIP = {"pre", "script", "style", "code", "kbd", "samp", "tt", "screen", "programlisting"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = []
        self.buffer = []
        self.skip = 0

    def flush(self):
        text = "".join(self.buffer).strip()
        if text:
            self.blocks.append(text)
        self.buffer = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCKS or tag == "br":
            self.flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.buffer.append(data)


def read_html(text):
    parser = BlockText()
    parser.feed(text)
    parser.close()
    parser.flush()
    return parser.blocks


ROFF_ESCAPE = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\s[-+]?\d+|\\\*(\[[^\]]*\]|\(..|.)|\\\((..)|\\\[[^\]]*\]|\\[&/,|^%:)]|\\[eE]")
ROFF_TEXT_MACROS = {"B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB", "SH", "SS", "UR", "MT", "Nm", "Nd"}


def read_roff(text):
    """Paragraphs of running text of a man page: markup removed, option lists and examples skipped."""
    paragraph = []
    fill = True
    out = []

    def flush():
        if paragraph:
            out.append(" ".join(paragraph))
            paragraph.clear()

    for line in text.splitlines():
        if line.startswith((".\\\"", "'\\\"", "\\\"")):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].split(None, 1)
            macro = parts[0] if parts else ""
            if macro in ("nf", "EX"):
                flush()
                fill = False
            elif macro in ("fi", "EE"):
                fill = True
            elif macro in ROFF_TEXT_MACROS and len(parts) > 1 and macro not in ("SH", "SS"):
                paragraph.append(parts[1].replace('"', ""))
            else:
                flush()
            continue
        if not fill:
            continue
        if not line.strip():
            flush()
            continue
        paragraph.append(line)
    flush()
    result = []
    for p in out:
        p = p.replace("\\-", "-").replace("\\ ", " ").replace("\\(em", "—").replace("\\(en", "–")
        p = ROFF_ESCAPE.sub("", p).replace("\\", "")
        result.append(p)
    return result


SENTENCE_END = re.compile(r"(?<=[.!?。！？।؟])\s+|(?<=[。！？])")


def chunks(text, limit=600):
    """Splits a long paragraph at sentence ends into pieces of at most about `limit` characters."""
    if len(text) <= limit:
        return [text]
    pieces, current = [], ""
    for sentence in SENTENCE_END.split(text):
        if current and len(current) + len(sentence) + 1 > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip() if current else sentence
    if current:
        pieces.append(current)
    return [p[:limit * 2] for p in pieces]


# ---------------------------------------------------------------------------------------------- walking --

def walk(root):
    """Yields (lang, source, family, raw_text) for every text of every unpacked package."""
    for package in sorted(os.listdir(root)):
        base = os.path.join(root, package)
        for folder, _, files in os.walk(base):
            for name in sorted(files):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, base)
                if name.endswith(".mo") and "/LC_MESSAGES/" in rel:
                    loc = rel.split("/LC_MESSAGES/")[0].rsplit("/", 1)[-1]
                    lang = locale_to_lang(loc)
                    domain = "mo:" + name[:-3]
                    with open(path, "rb") as f:
                        data = f.read()
                    for msgids, msgstrs in read_mo(data):
                        for msgid in msgids:
                            yield "en", domain, "mo", msgid
                        if lang:
                            for msgstr in msgstrs:
                                if msgstr and msgstr not in msgids:
                                    yield lang, domain, "mo", msgstr
                elif name.endswith(".xpi") and "langpack-" in name:
                    lang = locale_to_lang(name.split("langpack-")[1].split("@")[0])
                    if not lang:
                        continue
                    app = "tb" if "thunderbird" in name else "ff"
                    with zipfile.ZipFile(path) as z:
                        for member in sorted(z.namelist()):
                            if not member.endswith((".ftl", ".properties")):
                                continue
                            text = z.read(member).decode("utf-8", "replace")
                            # locale/<lang>/browser/... -> browser/...: the same file in every language.
                            parts = member.split("/")
                            parts = [p for p in parts if locale_to_lang(p) != lang]
                            source = f"moz:{app}:" + "/".join(parts)
                            reader = read_ftl if member.endswith(".ftl") else read_properties
                            for value in reader(text):
                                yield lang, source, "moz", value
                elif package.startswith("libreoffice-help-") and name.endswith(".html") and "/help/" in rel:
                    loc = rel.split("/help/")[1].split("/")[0]
                    lang = "en" if loc == "en-US" else locale_to_lang(loc)
                    if not lang:
                        continue
                    page = rel.split("/help/")[1].split("/", 1)[1]
                    with open(path, encoding="utf-8", errors="replace") as f:
                        for block in read_html(f.read()):
                            # Every help page starts with an English "Title is: <title>" line.
                            yield lang, "lohelp:" + page, "lohelp", re.sub(r"^Title is:\s*", "", block)
                elif package.startswith("debian-reference-") and name.endswith(".html"):
                    m = re.match(r"(.+)\.([A-Za-z_-]+)\.html$", name)
                    if not m:
                        continue
                    lang = "en" if m.group(2) == "en" else locale_to_lang(m.group(2))
                    if not lang:
                        continue
                    with open(path, encoding="utf-8", errors="replace") as f:
                        for block in read_html(f.read()):
                            yield lang, "ref:" + m.group(1), "ref", block
                elif package.startswith("manpages") and "/man/" in rel and re.search(r"\.\d\w*(\.gz)?$", name):
                    after = rel.split("/man/")[1].split("/")
                    if after[0].startswith("man"):
                        lang = "en"
                        section = after[0]
                    else:
                        lang = locale_to_lang(after[0])
                        section = after[1] if len(after) > 2 else "?"
                    if not lang:
                        continue
                    opener = gzip.open if name.endswith(".gz") else open
                    try:
                        with opener(path, "rb") as f:
                            text = f.read().decode("utf-8", "replace")
                    except (OSError, EOFError):
                        continue
                    page = re.sub(r"(\.gz)?$", "", name)
                    for paragraph in read_roff(text):
                        yield lang, f"man:{section}/{page}", "man", paragraph


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root_dir = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    parser.add_argument("--work", default=os.path.join(root_dir, ".build", "langid"), help="work folder of fetch_corpus.sh")
    args = parser.parse_args()
    root = os.path.join(args.work, "root")
    if not os.path.isdir(root):
        sys.exit(f"extract: no {root}; run tools/langid/fetch_corpus.sh first")
    seen = set()
    stats = collections.defaultdict(lambda: collections.Counter())
    out_path = os.path.join(args.work, "corpus.jsonl")
    with open(out_path + ".tmp", "w", encoding="utf-8") as out:
        for lang, source, family, raw in walk(root):
            text = unicodedata.normalize("NFC", clean(raw))
            for piece in chunks(text):
                if not acceptable(lang, piece):
                    continue
                key = (lang, piece)
                if key in seen:
                    continue
                seen.add(key)
                out.write(json.dumps({"lang": lang, "source": source, "family": family, "text": piece}, ensure_ascii=False) + "\n")
                stats[lang][family] += 1
                stats[lang]["chars"] += len(piece)
    os.replace(out_path + ".tmp", out_path)
    with open(os.path.join(args.work, "corpus-stats.json"), "w") as f:
        json.dump({lang: dict(stats[lang]) for lang in LANGS}, f, indent=1, sort_keys=True)
    print(f"{'lang':5}{'texts':>9}{'chars':>12}  by family")
    for lang in LANGS:
        s = stats[lang]
        families = ", ".join(f"{k} {v}" for k, v in sorted(s.items()) if k != "chars")
        print(f"{lang:5}{sum(v for k, v in s.items() if k != 'chars'):>9}{s['chars']:>12}  {families}")


if __name__ == "__main__":
    main()
