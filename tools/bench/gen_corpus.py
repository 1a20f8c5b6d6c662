#!/usr/bin/env python3
"""Writes a deterministic, realistic JSONL corpus of a requested size for the spine benchmark.

Layout under OUT_DIR:
    chats/chats-00000.jsonl ...   ~60 % of the bytes, for a `kind: chat_jsonl` source
    docs/docs-00000.jsonl ...     ~40 % of the bytes, for a `kind: jsonl` source
    corpus.json                   what was generated (sizes, line counts, seed); written last, so a folder
                                  without it is an unfinished corpus

Chat lines:     {"messages":[{"role":"user","content":...},{"role":"assistant","content":...},...],"rating":N}
                2-6 turns alternating user/assistant, each turn 50-1500 characters, rating 1-5.
Document lines: {"text":...,"category":...}, 200-5000 characters.
About 70 % of records are English, the rest French, German or Russian (non-ASCII, 2-byte Cyrillic), with a few
NFD-decomposed records (1 % of the French and German ones), tabs and double spaces, so that the validate stage
has real cleaning to do.

About 3 % of lines are bad on purpose, spread evenly:
    invalid JSON            (a line cut in the middle)                     -> read.invalid_json
    wrong shape             (messages as a string, content as a number,
                             an unknown role, text as a list)              -> read.wrong_shape
    too short / empty       (an empty assistant turn, whitespace-only text;
                             with the validate defaults min_chars is 1)    -> validate.empty_turn / validate.empty
    out-of-range rating     (rating 9 on a 1-5 scale)                      -> read.invalid_rating

Sizes are decimal: `--mb 200` writes 200,000,000 bytes (within one line). Files are cut at --file-mb MiB
(default 64). The text is drawn word by word from a fixed Zipf-weighted vocabulary with random.Random(seed),
so the same arguments give the same bytes on any machine with the same Python major version, and the
corpus for a smaller size is a prefix (per source) of the corpus for a larger one.

Usage: python3 tools/bench/gen_corpus.py OUT_DIR --mb 200 [--seed 20261122] [--file-mb 64]
"""
import argparse
import json
import multiprocessing
import os
import random
import shutil
import sys
import time
import unicodedata

GENERATOR_VERSION = 2

EN = """the of and to a in is it you that he was for on are with as I his they be at one have this from or
had by not word but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two has look
more day could go come did number sound no most people my over know water than call first who may down side
been now find any new work part take get place made live where after back little only round man year came show
every good me give our under name very through just form sentence great think say help low line differ turn
cause much mean before move right boy old too same tell does set three want air well also play small end put
home read hand port large spell add even land here must big high such follow act why ask men change went light
kind off need house picture try us again animal point mother world near build self earth father head stand own
page should country found answer school grow study still learn plant cover food sun four between state keep eye
never last let thought city tree cross farm hard start might story saw far sea draw left late run don't while
press close night real life few north open seem together next white children begin got walk example ease paper
group always music those both mark often letter until mile river car feet care second book carry took science
eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough
plain girl usual young ready above ever red list though feel talk bird soon body dog family direct pose leave
song measure door product black short numeral class wind question happen complete ship area half rock order
fire south problem piece told knew pass since top whole king space heard best hour better true during hundred
five remember step early hold west ground interest reach fast verb sing listen six table travel less morning
ten simple several vowel toward war lay against pattern slow center love person money serve appear road map
rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait
plan figure star box noun field rest correct able pound done beauty drive stood contain front teach week final
gave green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street
inch multiply nothing course stay wheel full force blue object decide surface deep moon island foot system busy
test record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate hot
miss brought heat snow tire bring yes distant fill east paint language among account password router invoice
refund subscription laptop battery screen update install error settings network server database query function
variable customer support order delivery package warranty receipt""".split()

FR = """le la les un une des et est dans pour que qui sur avec pas plus tout nous vous mais comme elle être
avoir fait très bien où déjà aussi après avant été même français réponse problème commande livraison facture
remboursement ordinateur téléphone écran mise à jour paramètres réseau compte mot de passe merci bonjour
s'il vous plaît désolé évidemment événement élève été hôpital château forêt garçon façon reçu déçu
cœur sœur œuvre naïf noël où voilà peut-être aujourd'hui très-bien donc alors parce quand toujours jamais
souvent maintenant ensuite pourquoi comment combien quelque chose personne temps année jour semaine""".split()

DE = """der die das und ist nicht ein eine zu mit sich auf für von dem den des im auch es an werden aus er
hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor
zur bis mehr durch man sein wurde sei größe straße müssen können über für grün schön würde hätte möchte
Rechnung Bestellung Lieferung Rückerstattung Bildschirm Aktualisierung Einstellungen Passwort Konto
Kundendienst Verfügbarkeit Gebühr Schlüssel Tür Brücke Mädchen Fußball Äpfel Öffnungszeiten Übersicht
ähnlich gemäß natürlich außerdem tatsächlich möglicherweise Grüße danke bitte leider heute morgen""".split()

RU = """и в не на я быть он с что а по это она этот к но они мы как из у который то за свой весь год от
так о для ты же все тот мочь вы человек такой его сказать только или ещё бы себя один как уже до время
если сам когда другой вот говорить наш мой знать стать при чтобы дело жизнь кто первый очень два день
её новый рука даже во со раз где там под можно ну какой после их работа без самый потом надо хотеть ли
слово идти большой должен место иметь ничто заказ доставка счёт возврат компьютер телефон экран
обновление настройки сеть пароль аккаунт спасибо здравствуйте пожалуйста извините проблема ответ""".split()

SYLLABLES = """ka to mi ra ne lo su vi de pa ri no sa te ma ko li be du fa go hi ju ke la mo nu po qu re si tu
va wo xe yo za an el in on un ar er ir or ur ba ce di fe gi ho ji ku le mu ni pe ro se ti""".split()

CATEGORIES = ["news", "science", "law", "medicine", "finance", "sports", "travel", "cooking", "history",
              "technology", "education", "reviews", "forum", "fiction", "government", "reference"]


def build_pool(words, rng, synthetic, size, newline_rate=0.0):
    """A flat token list in which word i appears about proportionally to 1/(i+1) (Zipf), with some words
    carrying punctuation, so that rng.choices(pool) gives text with a realistic word distribution."""
    vocab = list(words)  # real words first: they take the frequent ranks, in the order listed
    for _ in range(synthetic):  # rarer made-up words, names and codes: a long tail like real text
        n = rng.randint(2, 4)
        token = "".join(rng.choice(SYLLABLES) for _ in range(n))
        if rng.random() < 0.1:
            token = token.capitalize()
        if rng.random() < 0.03:
            token += str(rng.randint(0, 9999))
        vocab.append(token)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    total = sum(weights)
    pool = []
    for word, weight in zip(vocab, weights):
        count = max(1, round(weight / total * size))
        pool.append(word)
        for _ in range(count - 1):
            r = rng.random()
            if r < 0.06:
                pool.append(word + ",")
            elif r < 0.12:
                pool.append(word + ".")
            elif r < 0.125:
                pool.append(word + "?")
            else:
                pool.append(word)
    # Whitespace oddities the cleaner fixes (a tab, a double space), and paragraph breaks for documents.
    pool += ["\t", ""] * max(1, size // 20000)
    pool += ["\n"] * int(size * newline_rate)
    return pool


def make_pools(seed):
    rng = random.Random(seed)
    pools = {
        "en": build_pool(EN, rng, 4000, 100_000),
        "fr": build_pool(FR + EN[:80], rng, 300, 40_000),
        "de": build_pool(DE + EN[:80], rng, 300, 40_000),
        "ru": build_pool(RU + EN[:40], rng, 300, 40_000),
    }
    doc_pools = {lang: pool + ["\n"] * (len(pool) // 60) for lang, pool in pools.items()}
    return pools, doc_pools


LANGS = ["en", "fr", "de", "ru"]
LANG_WEIGHTS = [0.7, 0.1, 0.1, 0.1]


class Writer:
    """Appends encoded lines to numbered files of at most `file_bytes` each."""

    def __init__(self, folder, prefix, file_bytes):
        self.folder, self.prefix, self.file_bytes = folder, prefix, file_bytes
        os.makedirs(folder, exist_ok=True)
        self.index = 0
        self.chunk = []
        self.chunk_bytes = 0
        self.total = 0
        self.lines = 0
        self.files = 0

    def add(self, line):
        data = line.encode("utf-8") + b"\n"
        if self.chunk and self.chunk_bytes + len(data) > self.file_bytes:
            self.flush()
        self.chunk.append(data)
        self.chunk_bytes += len(data)
        self.total += len(data)
        self.lines += 1

    def flush(self):
        if not self.chunk:
            return
        path = os.path.join(self.folder, f"{self.prefix}-{self.index:05d}.jsonl")
        with open(path, "wb") as f:
            f.write(b"".join(self.chunk))
        self.index += 1
        self.files += 1
        self.chunk = []
        self.chunk_bytes = 0


def text_of(rng, pool, avg, lo, hi, nfd=False):
    """Text of lo..hi characters (a word boundary near a length drawn uniformly from lo..hi)."""
    target = rng.randint(lo, hi)
    words = rng.choices(pool, k=int(target / avg * 1.3) + 4)
    s = " ".join(words)
    if len(s) > target:
        cut = s.rfind(" ", lo, target)
        s = s[:cut] if cut > 0 else s[:target]
    # Decomposed accents, as text copied from some macOS apps has them; validate normalises them to NFC.
    return unicodedata.normalize("NFD", s) if nfd else s


def avg_token(pool):
    return sum(len(t) + 1 for t in pool) / len(pool)


def gen_chats(writer, target, rng, pools, bad_rate):
    avgs = {lang: avg_token(p) for lang, p in pools.items()}
    bad = 0
    while writer.total < target:
        lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
        pool, avg = pools[lang], avgs[lang]
        turns = rng.randint(2, 6)
        nfd = lang in ("fr", "de") and rng.random() < 0.01
        messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": text_of(rng, pool, avg, 50, 1500, nfd)}
                    for i in range(turns)]
        record = {"messages": messages, "rating": rng.randint(1, 5)}
        if rng.random() < bad_rate:
            bad += 1
            kind = rng.randrange(6)
            if kind == 0:  # invalid JSON: a line cut in the middle
                line = json.dumps(record, ensure_ascii=False)
                writer.add(line[: rng.randint(10, max(11, len(line) // 2))])
                continue
            elif kind == 1:  # wrong shape: messages flattened into one string
                record["messages"] = " / ".join(f"{m['role']}: {m['content'][:80]}" for m in messages)
            elif kind == 2:  # wrong shape: content is a number
                messages[0]["content"] = rng.randint(0, 10**6)
            elif kind == 3:  # wrong shape: unknown role
                messages[0]["role"] = "customer"
            elif kind == 4:  # too short: an empty assistant turn
                messages[1]["content"] = " " * rng.randint(0, 3)
            else:  # rating outside 1-5
                record["rating"] = 9
        writer.add(json.dumps(record, ensure_ascii=False))
    writer.flush()
    return bad


def gen_docs(writer, target, rng, pools, bad_rate):
    avgs = {lang: avg_token(p) for lang, p in pools.items()}
    bad = 0
    while writer.total < target:
        lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
        nfd = lang in ("fr", "de") and rng.random() < 0.01
        record = {"text": text_of(rng, pools[lang], avgs[lang], 200, 5000, nfd), "category": rng.choice(CATEGORIES)}
        if rng.random() < bad_rate:
            bad += 1
            kind = rng.randrange(4)
            if kind == 0:  # invalid JSON: a line cut in the middle
                line = json.dumps(record, ensure_ascii=False)
                writer.add(line[: rng.randint(10, max(11, len(line) // 2))])
                continue
            elif kind == 1:  # wrong shape: text is a list of paragraphs
                record["text"] = record["text"].split("\n")
            elif kind == 2:  # wrong shape: category is a number
                record["category"] = rng.randint(0, 99)
            else:  # too short: whitespace only
                record["text"] = " \n\t " * rng.randint(0, 3)
        writer.add(json.dumps(record, ensure_ascii=False))
    writer.flush()
    return bad


def generate_source(job):
    kind, out, target, file_bytes, seed, bad_rate = job
    pools, doc_pools = make_pools(seed)
    writer = Writer(os.path.join(out, kind), kind, file_bytes)
    if kind == "chats":
        bad = gen_chats(writer, target, random.Random(seed * 2 + 1), pools, bad_rate)
    else:
        bad = gen_docs(writer, target, random.Random(seed * 2 + 2), doc_pools, bad_rate)
    writer.chunk = []
    return writer, bad


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--mb", type=float, required=True, help="total size in decimal MB (1e6 bytes)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--file-mb", type=float, default=64, help="largest file, MiB (default 64)")
    parser.add_argument("--chat-share", type=float, default=0.6, help="share of bytes that are chat lines")
    parser.add_argument("--bad-rate", type=float, default=0.03, help="share of lines that are bad on purpose")
    args = parser.parse_args()

    started = time.time()
    out = os.path.abspath(args.out_dir)
    os.makedirs(out, exist_ok=True)
    marker = os.path.join(out, "corpus.json")
    for name in ("corpus.json", "chats", "docs"):
        path = os.path.join(out, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)

    total = int(args.mb * 1_000_000)
    file_bytes = int(args.file_mb * (1 << 20))
    chat_target = int(total * args.chat_share)
    jobs = [("chats", out, chat_target, file_bytes, args.seed, args.bad_rate),
            ("docs", out, total - chat_target, file_bytes, args.seed, args.bad_rate)]
    # The two sources are independent streams (own seeds), so they are written by two processes at once.
    with multiprocessing.Pool(2) as pool:
        (chats, bad_chats), (docs, bad_docs) = pool.map(generate_source, jobs)

    info = {
        "generator_version": GENERATOR_VERSION,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "seed": args.seed,
        "mb": args.mb,
        "file_mb": args.file_mb,
        "chat_share": args.chat_share,
        "bad_rate": args.bad_rate,
        "bytes": chats.total + docs.total,
        "chats": {"files": chats.files, "lines": chats.lines, "bytes": chats.total, "bad_lines": bad_chats},
        "docs": {"files": docs.files, "lines": docs.lines, "bytes": docs.total, "bad_lines": bad_docs},
        "seconds": round(time.time() - started, 1),
    }
    with open(marker + ".tmp", "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(marker + ".tmp", marker)
    print(f"gen_corpus: {info['bytes'] / 1e6:.1f} MB in {chats.files + docs.files} files "
          f"({chats.lines} chat lines, {docs.lines} document lines, {bad_chats + bad_docs} bad) "
          f"under {out} in {info['seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
