#!/usr/bin/env python3
"""Writes a large synthetic subtitle corpus for tools/bench/readers.sh, deterministically from a seed.

Half SRT, half WebVTT, about 110 KB per file (a feature film is 60-150 KB), in eight scripts so the parser
sees multi-byte UTF-8: Latin with accents, Cyrillic, Greek, Arabic, Hebrew, Devanagari, CJK, Hangul. Cues
carry the markup real files carry at realistic rates: <i> tags (8 %), {\\an8} overrides (2 %),
hearing-impaired notes (5 %), music lines (1 %), two-line cues (35 %), scene gaps over 4 s (6 %); a quarter of
the WebVTT files are YouTube-style rolling captions.

Usage: python3 tools/bench/gen_subtitles.py OUT_DIR SIZE_MB [SEED]
"""
import os
import random
import sys

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyzéèàçôûëïü",
    "абвгдеёжзийклмнопрстуфхцчшщыьэюя",
    "αβγδεζηθικλμνξοπρστυφχψω",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "אבגדהוזחטיכלמנסעפצקרשת",
    "कखगघचछजझटठडढतथदधनपफबभमयरलवशसह",
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长",
    "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로모보소오조초코토포호",
]


def ts(ms, sep):
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def line(rng, alphabet):
    if len(alphabet) > 100:  # CJK: no spaces
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(6, 18))) + "。"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 8))) for _ in range(rng.randint(3, 9))]
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", ","])


def cue_text(rng, alphabet):
    lines = [line(rng, alphabet) for _ in range(2 if rng.random() < 0.35 else 1)]
    r = rng.random()
    if r < 0.08:
        lines[0] = "<i>" + lines[0] + "</i>"
    elif r < 0.10:
        lines[0] = "{\\an8}" + lines[0]
    elif r < 0.15:
        lines.insert(0, "[" + line(rng, alphabet).rstrip(".?!,") + "]")
    elif r < 0.16:
        lines = ["♪ " + lines[0] + " ♪"]
    return lines


def write_file(path, rng, kind, target_bytes):
    alphabet = rng.choice(ALPHABETS)
    rolling = kind == "vtt" and rng.random() < 0.25
    out = ["WEBVTT", ""] if kind == "vtt" else []
    size, n, clock, previous = 0, 0, 1000, []
    while size < target_bytes:
        n += 1
        clock += rng.randint(100, 900) + (rng.randint(4500, 20000) if rng.random() < 0.06 else 0)
        start, end = clock, clock + rng.randint(800, 4000)
        clock = end
        text = cue_text(rng, alphabet)
        if rolling and previous:
            text = previous[-1:] + text[:1]
        previous = text
        block = ([str(n)] if kind == "srt" or rng.random() < 0.3 else [])
        block.append(f"{ts(start, ',' if kind == 'srt' else '.')} --> {ts(end, ',' if kind == 'srt' else '.')}")
        block += text
        chunk = "\n".join(block) + "\n\n"
        out.append(chunk)
        size += len(chunk.encode("utf-8"))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out[:2]) + "\n" + "".join(out[2:]) if kind == "vtt" else "".join(out))
    return size


def main():
    out_dir, size_mb = sys.argv[1], float(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261122)
    os.makedirs(out_dir, exist_ok=True)
    total, i = 0, 0
    while total < size_mb * 1e6:
        kind = "srt" if i % 2 == 0 else "vtt"
        total += write_file(os.path.join(out_dir, f"title-{i:05d}.{kind}"), rng, kind, rng.randint(60_000, 160_000))
        i += 1
    print(f"{out_dir}: {i} files, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
