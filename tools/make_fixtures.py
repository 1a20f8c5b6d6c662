#!/usr/bin/env python3
"""Writes the demo corpus under fixtures/demo/ and its known answers in fixtures/demo/EXPECTED.json.

Every input unit is written with the fate the generator intends for it (kept, or dropped by a named stage
and reason), so the expected funnel is known by construction, not by running Refinery. Deterministic: a
fixed seed and fixed texts; rerunning it rewrites identical files (the .zst file with `zstd -3`, whose output
is stable for a given zstd version; the test reads it through Refinery, never compares its bytes).

Usage: python3 tools/make_fixtures.py            # rewrite fixtures/demo
"""
import json
import os
import random
import shutil
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "demo")
rng = random.Random(20261122)

expected = {"read": 0, "written": 0, "blank_lines": 0, "dropped": {}}
# Records of the support category that reach the balance stage (capped at SUPPORT_CAP by pipelines/demo.yaml).
support_kept = 0
SUPPORT_CAP = 40


def fate(reason=None, support=False):
    global support_kept
    expected["read"] += 1
    if reason is None:
        expected["written"] += 1
        support_kept += support
    else:
        expected["dropped"][reason] = expected["dropped"].get(reason, 0) + 1


PRODUCTS = ["router", "headphones", "subscription", "smart TV", "gift card", "laptop", "profile", "download"]
PROBLEMS = ["does not turn on", "keeps disconnecting", "was charged twice", "shows an error code",
            "arrived damaged", "cannot be found in my account", "plays without sound", "stopped syncing"]
FIXES = ["restart it while holding the reset button for ten seconds",
         "sign out on every device and sign in again",
         "open Settings, then Account, and choose Restore purchases",
         "unplug it for a full minute before plugging it back in",
         "update the app to the latest version from the store"]


def chat(i):
    # Product, problem and fix vary together so that no two of the demo's 50 chats share all three (their word
    # 5-gram Jaccard is at most 0.64; the dedup stage drops only the duplicates written on purpose).
    product = PRODUCTS[i % len(PRODUCTS)]
    problem = PROBLEMS[(i * 3 + i // 8) % len(PROBLEMS)]
    fix = FIXES[(i * 7 + i // 8) % len(FIXES)]
    return [
        {"role": "user", "content": f"Hi, my {product} {problem}. Order number {1000 + i}. What can I do?"},
        {"role": "assistant", "content": f"Sorry about the trouble with your {product}. Please {fix}, "
                                         f"and tell me whether the problem is still there afterwards."},
    ]


def write_lines(path, lines, newline="\n", bom=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        if bom:
            f.write(b"\xef\xbb\xbf")
        for line in lines:
            f.write(line if isinstance(line, bytes) else line.encode("utf-8"))
            f.write(newline.encode())


def srt_time(ms, sep=","):
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def ass_time(ms):
    return f"{ms // 3600000}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000 // 10:02d}"


HARBOUR = [  # (start ms, end ms, English, French): three scenes, more than 4 s apart
    (1000, 3500, "The boats came back before dawn.", "Les bateaux sont rentrés avant l'aube."),
    (4000, 6500, "Nobody on the quay said a word.", "Personne sur le quai n'a dit un mot."),
    (7000, 9000, "Then the old keeper lit the lamp.", "Puis le vieux gardien a allumé la lampe."),
    (20000, 22500, "Is that your brother's coat from the café?", "C'est le manteau de ton frère ?"),
    (23000, 25500, "He left it here last winter, before the storm.", "Il l'a laissé ici l'hiver dernier, avant la tempête."),
    (40000, 42000, "We should go home now, it is getting late.", "Nous devrions rentrer, il se fait tard."),
]


def write_subtitles():
    """One file per subtitle format, and one bilingual pair; each window's fate is known by construction."""
    folder = os.path.join(ROOT, "subtitles")
    os.makedirs(folder)
    # SRT in windows-1252 with CRLF ends, markup and hearing-impaired notes: three windows, one broken block.
    blocks = []
    for n, (start, end, en, _) in enumerate(HARBOUR, 1):
        text = en if n != 2 else "[waves crash]\r\n<i>" + en + "</i>"
        blocks.append(f"{n}\r\n{srt_time(start)} --> {srt_time(end)}\r\n{text}\r\n")
    blocks.insert(3, "99\r\nthis block lost its timing line\r\n")
    fate("read.missing_timestamps")
    for _ in range(3):
        fate()  # windows at 1 s, 20 s and 40 s
    with open(os.path.join(folder, "harbour.srt"), "wb") as f:
        f.write("\r\n".join(blocks).replace("é", "é").encode("cp1252"))
    # WebVTT with a NOTE block, settings, voice spans and rolling captions; the second window is too short.
    vtt = ["WEBVTT", "", "NOTE written by hand for the demo", "",
           "1", "00:00:01.000 --> 00:00:03.000 align:start", "<v Keeper>Hold the rope tight.",
           "", "00:00:03.000 --> 00:00:05.000", "Hold the rope tight.", "<c.yellow>The tide is turning.</c>",
           "", "00:00:05.000 --> 00:00:07.000", "The tide is turning.", "We have ten minutes at most.",
           "", "00:00:30.000 --> 00:00:31.000", "Okay.", ""]
    fate()
    fate("validate.too_short")
    with open(os.path.join(folder, "harbour.vtt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vtt))
    # ASS with its Format line in a non-default order, override tags and \N; one dialogue line lost its columns.
    ass = ["[Script Info]", "Title: Harbour", "ScriptType: v4.00+", "", "[Events]",
           "Format: Layer, Style, Start, End, Name, MarginL, MarginR, MarginV, Effect, Text",
           f"Dialogue: 0,Default,{ass_time(1000)},{ass_time(3000)},,0,0,0,,{{\\an8}}The lamp is lit,\\Nthe keeper is awake.",
           f"Comment: 0,Default,{ass_time(3000)},{ass_time(4000)},,0,0,0,,timing note for the editor",
           f"Dialogue: 0,Default,{ass_time(3500)},{ass_time(5000)},,0,0,0,,{{\\i1}}And the boats are all home.{{\\i0}}",
           f"Dialogue: 0,Default,{ass_time(9000)}",
           f"Dialogue: 0,Default,{ass_time(30000)},{ass_time(33000)},,0,0,0,,Good night to everyone on the quay."]
    fate()
    fate("read.wrong_column_count")
    fate()
    with open(os.path.join(folder, "harbour.ass"), "w", encoding="utf-8") as f:
        f.write("\n".join(ass) + "\n")
    # A bilingual pair: the French file drifts by up to 150 ms; the last English line has no French partner.
    pairs = os.path.join(ROOT, "bilingual")
    os.makedirs(pairs)
    en, fr = [], []
    for n, (start, end, english, french) in enumerate(HARBOUR, 1):
        en.append(f"{n}\n{srt_time(start)} --> {srt_time(end)}\n{english}\n")
        if n < len(HARBOUR):
            shift = (n * 50) % 200
            fr.append(f"{n}\n{srt_time(start + shift)} --> {srt_time(end + shift)}\n{french}\n")
            fate()
    fate("read.low_alignment")
    with open(os.path.join(pairs, "Harbour.en.srt"), "w", encoding="utf-8") as f:
        f.write("\n".join(en))
    with open(os.path.join(pairs, "Harbour.fr.srt"), "w", encoding="utf-8") as f:
        f.write("\n".join(fr))


def write_tables():
    """A metadata CSV (RFC 4180 quoting) and an interaction log split over two days."""
    rows = [["title", "year", "genres", "synopsis", "country"]]
    for i in range(10):
        g = ["drama", "comedy", "documentary", "thriller"][i % 4]
        rows.append([f"Harbour Lights {i + 1}", str(2001 + i), f"{g}, family",
                     f"A keeper and his daughter keep the lamp burning through winter number {i + 1}.", "IE"])
        fate()
    # Quotes inside a quoted field, and a synopsis spanning two lines.
    rows.append(["The \"Quiet\" Quay", "2015", "drama", "Two sisters reopen their father's boatyard.\nNobody expects them to last.", "FR"])
    fate()
    lines = []
    for row in rows:
        lines.append(",".join('"' + f.replace('"', '""') + '"' if any(c in f for c in ',"\n') else f for f in row))
    lines.append("Storm Season,2019,thriller")  # three columns where the header has five
    fate("read.wrong_column_count")
    lines.append("Empty Nets,2020,drama,,NO")  # no synopsis
    fate("read.missing_field")
    with open(os.path.join(ROOT, "titles.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")

    # Interactions: users u1-u4 have 6 events across both days, u5 has 3; one bad rating, one bad time.
    folder = os.path.join(ROOT, "interactions")
    os.makedirs(folder)
    day = {1: ["user_id\titem_id\trating\ttimestamp"], 2: ["user_id\titem_id\trating\ttimestamp"]}
    t0 = 1_763_683_200  # 2025-11-21T00:00:00Z
    for u in range(1, 6):
        events = 6 if u <= 4 else 3
        for k in range(events):
            d = 1 if k < events // 2 else 2
            day[d].append(f"u{u}\tt{(u * 7 + k * 3) % 20:02d}\t{1 + (u + k) % 5}\t{t0 + (d - 1) * 86400 + u * 600 + k * 60}")
        fate() if events >= 5 else fate("read.too_few_events")
    day[2].append(f"u1\tt99\t9\t{t0 + 86400 + 5000}")
    fate("read.invalid_rating")
    day[2].append("u2\tt98\t4\tyesterday")
    fate("read.invalid_timestamp")
    for d, lines in day.items():
        with open(os.path.join(folder, f"2026-11-2{d}.tsv"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)

    # --- support chats, day 1: a BOM, good chats, and one of each kind of bad line -----------------
    lines = []
    for i in range(30):
        lines.append(json.dumps({"messages": chat(i), "rating": 1 + (i % 5), "conversation_id": f"c{i:04d}"}))
        fate(support=True)
    lines.append("")  # a blank line: skipped, counted, not a record
    expected["blank_lines"] += 1
    lines.append('{"messages": [{"role": "user", "content": "unterminated')
    fate("read.invalid_json")
    lines.append(json.dumps({"messages": "user: hi / assistant: hello"}))
    fate("read.wrong_shape")
    lines.append(json.dumps({"messages": chat(90), "rating": 9}))
    fate("read.invalid_rating")
    lines.append(json.dumps({"messages": [{"role": "customer", "content": "hello?"}]}))
    fate("read.wrong_shape")
    lines.append(json.dumps({"messages": [{"role": "user", "content": "Is anyone there? I have been waiting."}]}))
    fate("validate.chat_without_assistant")
    lines.append(json.dumps({"messages": [{"role": "user", "content": "Hello?"},
                                          {"role": "assistant", "content": "  \t "}]}))
    fate("validate.empty_turn")
    # Invalid UTF-8 inside a string: quarantined (the demo spec does not set repair: true).
    lines.append(b'{"messages": [{"role": "user", "content": "caf\xe9 au lait please"}, '
                 b'{"role": "assistant", "content": "Coming right up."}]}')
    fate("validate.invalid_utf8")
    lines.append(json.dumps([1, 2, 3]))
    fate("read.wrong_shape")
    write_lines(os.path.join(ROOT, "chats", "2026-11-21.jsonl"), lines, bom=True)

    # --- support chats, day 2: CRLF line ends, zstd-compressed --------------------------------------
    lines = []
    for i in range(30, 50):
        lines.append(json.dumps({"messages": chat(i), "rating": 1 + (i % 5)}, ensure_ascii=False))
        fate(support=True)
    # The same conversation exported again by the day-2 feed (another rating): an exact duplicate of day 1's line 13.
    lines.append(json.dumps({"messages": chat(12), "rating": 2}))
    fate("dedup.exact_duplicate")
    # PII in a chat: redacted to typed placeholders and counted in `pii`; the record is kept.
    lines.append(json.dumps({"messages": [{"role": "user", "content": "My email is jane.doe@example.com and my card "
                                                                      "4111 1111 1111 1111 was charged twice."},
                                          {"role": "assistant", "content": "Thanks, Jane. I have refunded the second "
                                                                           "charge; it will show within five days."}],
                             "rating": 5}))
    fate(support=True)
    # Decomposed accents (NFD) are normalised to NFC and the record is kept.
    lines.append(json.dumps({"messages": [{"role": "user", "content": "Je voudrais annule\u0301 ma commande, s'il vous plai\u0302t."},
                                          {"role": "assistant", "content": "C'est fait\u00a0: votre commande est annule\u0301e."}],
                             "rating": 5}, ensure_ascii=False))
    fate(support=True)
    # A customer who swears at a polite agent: the toxicity stage judges assistant turns, so it is kept.
    lines.append(json.dumps({"messages": [{"role": "user", "content": "Your damn app ate my playlist again, this is "
                                                                      "shit. Fix it!"},
                                          {"role": "assistant", "content": "I am sorry about that. I have restored "
                                                                           "your playlist from last night's backup."}],
                             "rating": 4}))
    fate(support=True)
    # An agent who insults the customer: dropped by the toxicity stage (reason toxic).
    lines.append(json.dumps({"messages": [{"role": "user", "content": "Can you tell me why my invoice doubled?"},
                                          {"role": "assistant", "content": "Because you are a stupid idiot who can't "
                                                                           "read, you f*cking moron. Stop wasting my time."}],
                             "rating": 1}))
    fate("toxicity.toxic")
    plain = os.path.join(ROOT, "chats", "2026-11-22.jsonl")
    write_lines(plain, lines, newline="\r\n")
    subprocess.run(["zstd", "-q", "-3", "-f", "--rm", plain, "-o", plain + ".zst"], check=True)

    # --- content metadata: generic JSONL documents ---------------------------------------------------
    genres = ["drama", "comedy", "documentary", "thriller"]
    who = ["a family that runs a small lighthouse", "two brothers who fish the northern banks",
           "a retired teacher with a secret garden", "a young doctor posted to an island clinic",
           "three friends restoring an old cinema"]
    where = ["on a windy coast", "in a mountain village", "beside a frozen lake", "in a port city at war",
             "on a farm that is losing money", "in a town split by a new motorway", "at the edge of the desert"]
    turn = ["Over one long winter they take in a stranger whose story changes all of them.",
            "When the money runs out, each of them has to choose what to give up.",
            "A letter from the past forces them to face what really happened that summer.",
            "Years later, a storm brings back the one person they never forgave."]
    synopses, lines = [], []
    for i in range(25):
        g = genres[i % len(genres)]
        text = f"Title {i:03d} is a {g} about {who[i % 5]} {where[i % 7]}. {turn[(i // 5 + i) % 4]}"
        synopses.append(text)
        lines.append(json.dumps({"id": f"title-{i:03d}", "text": text, "category": "metadata",
                                 "meta": {"genre": g, "year": 1990 + i}}))
        fate()
    # The same synopsis from a second feed, with other casing and punctuation: an exact duplicate after
    # normalisation; and one re-sent with a line of boilerplate added: a near-duplicate (word 5-gram Jaccard ≈ 0.9).
    lines.append(json.dumps({"id": "feed2-title-003", "text": synopses[3].upper().replace(".", " !"), "category": "metadata"}))
    fate("dedup.exact_duplicate")
    lines.append(json.dumps({"id": "feed3-title-007", "text": synopses[7] + " Now streaming.", "category": "metadata"}))
    fate("dedup.near_duplicate")
    lines.append(json.dumps({"id": "title-short", "text": "Too short."}))
    fate("validate.too_short")
    lines.append(json.dumps({"id": "title-empty", "text": "   "}))
    fate("validate.empty")
    lines.append(json.dumps({"id": "title-none", "synopsis": "The field is named wrong."}))
    fate("validate.missing_text")
    lines.append(json.dumps({"id": "title-num", "text": 42}))
    fate("read.wrong_shape")
    # Garbage the quality stage drops, each for a named component.
    lines.append(json.dumps({"id": "title-cookies", "text": "Home\nAbout us\nPrivacy Policy\n"
                             "This site uses cookies to improve your experience.\nAccept all cookies\nAll rights reserved."}))
    fate("quality.low_quality_boilerplate")
    lines.append(json.dumps({"id": "title-mojibake", "text": "The cafÃ© was closed. Itâ€™s a pity, we wanted to try "
                             "their crÃ¨me brÃ»lÃ©e and their Ã©clairs."}, ensure_ascii=False))
    fate("quality.low_quality_mojibake")
    write_lines(os.path.join(ROOT, "metadata", "catalog.jsonl"), lines)

    # --- creative writing: Markdown, one record per blank-line-separated paragraph ---------------------
    paragraphs = []
    for i in range(12):
        words = " ".join(rng.choice(["the", "sea", "kept", "its", "own", "counsel", "while", "gulls",
                                     "argued", "over", "morning", "light", "and", "old", "boats"]) for _ in range(40))
        # A closing clause with stop words, so each paragraph reads as English prose to the quality stage.
        paragraphs.append(words.capitalize() + ", and the light came back to the boats.")
        fate()
    paragraphs.append("Fin.")  # too short for the demo's min_chars
    fate("validate.too_short")
    expected["blank_lines"] += len(paragraphs) - 1  # the separators between paragraphs
    with open(os.path.join(ROOT, "stories.md"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(paragraphs) + "\n")

    write_subtitles()
    write_tables()

    # Balancing caps the support chats that survive deduplication at SUPPORT_CAP (pipelines/demo.yaml).
    over = support_kept - SUPPORT_CAP
    expected["written"] -= over
    expected["dropped"]["balance.over_cap"] = over
    expected["quarantined"] = sum(expected["dropped"].values())
    assert expected["read"] == expected["written"] + expected["quarantined"]
    with open(os.path.join(ROOT, "EXPECTED.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"fixtures/demo: {expected['read']} units, {expected['written']} kept, {expected['quarantined']} quarantined")


if __name__ == "__main__":
    main()
