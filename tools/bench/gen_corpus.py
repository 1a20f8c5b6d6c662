#!/usr/bin/env python3
"""Writes a deterministic, realistic JSONL corpus of a requested size for the benchmarks (spine, text stages).

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

Options for the text-stage benchmark (tools/bench/text_stages.sh), all off by default, so the defaults give the
same bytes as before they existed:
    --langs multilingual   19 languages in 9 scripts (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Han, kana,
                           Hangul) instead of en/fr/de/ru; Chinese and Japanese are written without spaces. Also
                           `--langs en:0.5,ja:0.5` for any mix of the languages in LANGUAGES.
    --pii-rate R           a share R of records get 1-3 PII items (e-mails, phones in several national formats,
                           Luhn-valid cards, mod-97 IBANs, IPv4/IPv6, URLs with tokens, API-key shapes) at word
                           boundaries of one text; 3R of records get look-alikes that are not PII (dates, prices,
                           versions, order numbers, ISBNs, subtitle timings)
    --junk-rate R          a share R of documents are garbage of the kinds quality filters exist for (repeated
                           lines, keyword spam, cookie/terms boilerplate, lorem ipsum, symbol soup, mojibake)
    --punctuate            every line of a text ends with terminal punctuation, as lines of prose do (without it,
                           lines end anywhere, and C4's terminal-punctuation rule rejects about half the records)

Options for the end-to-end benchmark (tools/bench/e2e.sh), also off by default:
    --subtitle-share S     a share S of the bytes are subtitle windows under subtitles/, one JSON line each,
                           {"text":...,"category":"subtitles"}: 1-6 short lines of dialogue (2-8 words, a "- " before
                           each speaker's line in a tenth of the windows), in the languages of --langs. They are JSON
                           lines, not SRT or WebVTT files, so that datatrove's JsonlReader reads the same input as
                           Refinery; parsing subtitle files is measured by tools/bench/readers.sh. Chats and documents
                           share the other bytes as --chat-share says.
    --dup-rate R           about a share R of records are members of planted duplicate groups of 2-8 records: the
                           first member is an ordinary record, the others are copies written later in the same source,
                           1 to 100,000 records after it (log-uniform, so some groups sit close together and some
                           span the corpus). Half the copies are exact, half near copies: a long text gets 1-5 word
                           edits (a vocabulary word replaced, deleted or doubled; line ends, PII and planted terms
                           untouched), a short one a change of case or spacing that normalisation undoes, a text in
                           Chinese or Japanese 1-3 words inserted after its punctuation. In a chat, one turn is edited.
                           A near copy that could not be edited (Chinese or Japanese under 40 characters, as most such
                           subtitle windows are; no word to edit) is the same line, and is counted as an exact copy.
                           Bad, garbage and toxic records never start a group.
    --toxic-rate R         a share R of fresh records get 2-4 insults or profanities at word boundaries, taken at
                           generation time from the project's word lists (Sources/RefineryStages/Toxicity/Resources/
                           toxicity/lexicon/<lang>.txt, one term per line; English for a language without a list);
                           in a chat they go into an assistant turn, the turns the toxicity stage judges by default.
                           corpus.json records the lists' hash as "toxic_lexicon_sha256" (lexicon_sha256 below), so
                           that a corpus made from older lists can be told apart and made again
    --skew-categories      documents' categories follow a Zipf law (news about 30 %, reference about 2 %) instead of
                           being uniform, so that a balance stage has a skewed mix to even out

With any of the options above, corpus.json also has "truth": the planted counts (records with PII, garbage
documents, toxic records, duplicate groups that have at least two members in the corpus, their members, exact and
near copies), in total and per source. A group whose copies fall beyond the end of a smaller corpus is smaller
there (or no group at all); the counts are of what was written.

Usage: python3 tools/bench/gen_corpus.py OUT_DIR --mb 200 [--seed 20261122] [--file-mb 64]
                                         [--langs multilingual] [--pii-rate 0.05] [--junk-rate 0.03] [--punctuate]
                                         [--subtitle-share 0.15] [--dup-rate 0.08] [--toxic-rate 0.02]
                                         [--skew-categories]
"""
import argparse
import hashlib
import heapq
import json
import math
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

# Languages beyond the four of the default mix (used with --langs): common words, which take the frequent ranks;
# syllables for the made-up long tail, in the language's script; punctuation (comma, full stop, question mark);
# and what goes between words ("" for Chinese and Japanese, which are written without spaces).
CYRILLIC = "ка то ми ра не ло су ві де па рі но са те ма ко лі бе ду фа го ги ю ке ла мо ну по ре сі ту ва".split()
GREEK = "κα το μι ρα νε λο συ βι δε πα ρι νο σα τε μα κο λι μπε ντου φα γο χι κε λα μο νυ πο ρε σι".split()
ARABIC = "كا تو مي را ني لو سو في دي با ري نو سا تي ما كو لي بي دو فا غو هي جو كي لا مو نو بو".split()
HEBREW = "כה תו מי רה נה לו סו וי דה פה רי נו סה תה מה קו לי בה דו גו הי קה לה מו נו פו".split()
DEVANAGARI = "का तो मि रा ने लो सु वि दे पा रि नो सा ते मा को लि बे दु फा गो हि जु के ला मो नु पो".split()
HAN = "天 地 水 火 山 川 林 海 电 脑 网 络 数 据 科 技 文 化 经 济 社 会 城 市 交 通 信 息 产 品 服 务".split()
KATAKANA = "カ ト ミ ラ ネ ロ ス ヴィ デ パ リ ノ サ テ マ コ ジ ベ ド フ ゴ ヒ ケ ラ モ ヌ ポ レ シ ツ".split()
HANGUL = "가 나 다 라 마 바 사 아 자 차 카 타 파 하 서 도 리 기 수 지 호 무 부 소 오 주 초 코 토 포".split()
CJK_PUNCT, ARABIC_PUNCT = ("，", "。", "？"), ("،", ".", "؟")

EXTRA = {
    "es": ("""de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ya o este
sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni
contra otros ese eso ante ellos esto antes algunos qué unos yo otro otras otra él tanto esa estos mucho nada muchos
pedido entrega factura reembolso contraseña cuenta pantalla gracias hola favor problema respuesta año día tiempo
señor niño mañana corazón canción información""", SYLLABLES, None, " "),
    "pt": ("""de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das tem à
seu sua ou ser quando muito há nos já está eu também só pelo pela até isso ela entre era depois sem mesmo aos ter
seus quem nas me esse eles estão você tinha foram essa num nem suas meu às minha pedido entrega fatura reembolso
senha conta tela obrigado olá problema resposta ano dia tempo coração ação informação""", SYLLABLES, None, " "),
    "it": ("""di e il la che è per un in non a una sono del con si da le dei al ho ma come lo mi gli più anche ci
se questo alla della ne sul tutto nel io cosa ha era essere molto quando perché però fatto anni ancora dove grazie
ciao favore ordine consegna fattura rimborso password account schermo problema risposta giorno tempo città così già
può""", SYLLABLES, None, " "),
    "nl": ("""de en een het van ik te dat die in is niet je op hij aan met voor er maar om als zijn was dan ze bij of
nog ook heb uit naar wat door over kan wel tot hem zo heeft hier deze worden geen kunnen bestelling levering
factuur terugbetaling wachtwoord account scherm bedankt hallo alstublieft probleem antwoord jaar dag tijd misschien
altijd""", SYLLABLES, None, " "),
    "pl": ("""i w nie na się z do to że jest co jak o ale po tak za od jego już czy tylko przez mnie może dla bardzo
jestem było był ich być jej są gdzie kiedy który która więc jeszcze też ten tego zamówienie dostawa faktura zwrot
hasło konto ekran dziękuję cześć proszę problem odpowiedź rok dzień czas możliwość żeby właśnie źródło łatwo""",
           SYLLABLES, None, " "),
    "tr": ("""bir ve bu da de için ne çok ile ben o gibi daha ama var sen mi değil olarak kadar sonra en her şey diye
olan ya biz onu bunu benim ki nasıl neden şimdi bana sipariş teslimat fatura iade şifre hesap ekran teşekkürler
merhaba lütfen sorun cevap yıl gün zaman güzel çünkü ağaç öğrenci""", SYLLABLES, None, " "),
    "vi": ("""và của là có không được cho một những người các trong này với đã để khi từ cũng như nhưng thì sẽ tôi
bạn chúng ta họ rất đơn hàng giao hóa hoàn tiền mật khẩu tài khoản màn hình cảm ơn xin chào vui lòng vấn đề trả lời
năm ngày thời gian Việt Nam""", SYLLABLES, None, " "),
    "uk": ("""і в не на що з я він це як та до у а ми за але так його вона все бути для ти від вже мене коли про є
були їх яка який можна тільки дуже також замовлення доставка рахунок повернення пароль обліковий екран дякую
привіт будь ласка проблема відповідь рік день час їжа ґанок""", CYRILLIC, None, " "),
    "el": ("""και το να η της ο την του με που για τα είναι δεν σε στο από θα τον οι στην ένα μια τους ή αλλά όπως
πολύ έχει ήταν μας αυτό εγώ εσύ παραγγελία παράδοση τιμολόγιο επιστροφή κωδικός λογαριασμός οθόνη ευχαριστώ γεια
παρακαλώ πρόβλημα απάντηση χρόνος ημέρα καιρός""", GREEK, None, " "),
    "ar": ("""في من على أن إلى هذا مع ما لا هو التي الذي كان عن هذه أو قد كل بين ذلك بعد عند لم هي نحن أنا أنت كما إن
الطلب التوصيل الفاتورة استرداد كلمة المرور الحساب الشاشة شكرا مرحبا فضلك مشكلة الجواب سنة يوم وقت الكتاب المدرسة""",
           ARABIC, ARABIC_PUNCT, " "),
    "he": ("""של את על לא הוא זה עם כי מה אני גם היא אבל או יש כל אם הם היה אחד רק עוד כמו אל זאת אנחנו הזמנה משלוח
חשבונית החזר סיסמה חשבון מסך תודה שלום בבקשה בעיה תשובה שנה יום זמן ספר""", HEBREW, None, " "),
    "hi": ("""के है में की और को से एक यह पर था कि भी नहीं हैं लिए ने तो कर हो वह जो इस रहा गया करने कुछ साथ अपने बहुत
किया मैं आप हम ऑर्डर डिलीवरी बिल रिफंड पासवर्ड खाता स्क्रीन धन्यवाद नमस्ते कृपया समस्या जवाब साल दिन समय""",
           DEVANAGARI, None, " "),
    "zh": ("""的 一 是 不 了 在 人 有 我 他 这 个 们 中 来 上 大 为 和 国 地 到 以 说 时 要 就 出 会 可 也 你 对 生 能 而 子
那 得 于 着 下 自己 我们 什么 没有 知道 时候 现在 问题 订单 配送 发票 退款 密码 账户 屏幕 谢谢 你好 请 回答 今天 明天
工作 学习 中国 公司 系统 用户""", HAN, CJK_PUNCT, ""),
    "ja": ("""の に は を た が で て と し れ さ ある いる も する から な こと として い や れる など なっ ない この ため
その あっ よう また もの という あり まで られ なる へ か だ これ によって により おり より による ず なり られる
において ば なかっ なく しかし について せ だっ できる それ 注文 配達 請求書 返金 パスワード アカウント 画面
ありがとう こんにちは お願いします 問題 回答 今日 時間 日本 会社""", KATAKANA, CJK_PUNCT, ""),
    "ko": ("""이 그 저 것 수 등 들 및 에서 의 을 를 은 는 가 있다 하다 되다 없다 않다 나 우리 너 당신 사람 시간 일 때
년 주문 배송 청구서 환불 비밀번호 계정 화면 감사합니다 안녕하세요 부탁합니다 문제 답변 오늘 내일 회사 학교 한국어""",
           HANGUL, None, " "),
}

# What --langs multilingual means: share of records per language (English most, then the large European
# languages, then the rest, as in a multilingual web or support corpus).
MULTILINGUAL = ("en:0.36,ru:0.07,fr:0.06,de:0.06,es:0.06,pt:0.04,it:0.04,nl:0.03,pl:0.03,tr:0.03,uk:0.02,el:0.02,"
                "ar:0.03,he:0.02,hi:0.02,zh:0.04,ja:0.03,ko:0.02,vi:0.02")

CATEGORIES = ["news", "science", "law", "medicine", "finance", "sports", "travel", "cooking", "history",
              "technology", "education", "reviews", "forum", "fiction", "government", "reference"]
# With --skew-categories: weight 1/rank, so news is about 30 % of documents and reference about 2 %.
SKEWED_WEIGHTS = [1.0 / (rank + 1) for rank in range(len(CATEGORIES))]


def build_pool(words, rng, synthetic, size, newline_rate=0.0, syllables=SYLLABLES, punct=None):
    """A flat token list in which word i appears about proportionally to 1/(i+1) (Zipf), with some words
    carrying punctuation, so that rng.choices(pool) gives text with a realistic word distribution."""
    vocab = list(words)  # real words first: they take the frequent ranks, in the order listed
    for _ in range(synthetic):  # rarer made-up words, names and codes: a long tail like real text
        n = rng.randint(2, 4)
        token = "".join(rng.choice(syllables) for _ in range(n))
        if rng.random() < 0.1:
            token = token.capitalize()
        if rng.random() < 0.03:
            token += str(rng.randint(0, 9999))
        vocab.append(token)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    total = sum(weights)
    comma, stop, question = punct or (",", ".", "?")
    pool = []
    for word, weight in zip(vocab, weights):
        count = max(1, round(weight / total * size))
        pool.append(word)
        for _ in range(count - 1):
            r = rng.random()
            if r < 0.06:
                pool.append(word + comma)
            elif r < 0.12:
                pool.append(word + stop)
            elif r < 0.125:
                pool.append(word + question)
            else:
                pool.append(word)
    # Whitespace oddities the cleaner fixes (a tab, a double space), and paragraph breaks for documents.
    pool += ["\t", ""] * max(1, size // 20000)
    pool += ["\n"] * int(size * newline_rate)
    return pool


def make_pools(seed, extra=()):
    rng = random.Random(seed)
    pools = {
        "en": build_pool(EN, rng, 4000, 100_000),
        "fr": build_pool(FR + EN[:80], rng, 300, 40_000),
        "de": build_pool(DE + EN[:80], rng, 300, 40_000),
        "ru": build_pool(RU + EN[:40], rng, 300, 40_000),
    }
    # Each further language has its own random stream, so adding one changes none of the others.
    for lang in extra:
        words, syllables, punct, sep = EXTRA[lang]
        # Some English among the words, as real text has (not run together with Chinese or Japanese).
        pools[lang] = build_pool(words.split() + (EN[:30] if sep else []), random.Random(f"{seed}:{lang}"), 300, 40_000,
                                 syllables=syllables, punct=punct)
    doc_pools = {lang: pool + ["\n"] * (len(pool) // 60) for lang, pool in pools.items()}
    return pools, doc_pools


LANGS = ["en", "fr", "de", "ru"]
LANG_WEIGHTS = [0.7, 0.1, 0.1, 0.1]


def parse_langs(spec):
    """`multilingual`, or `code:weight,...` over the default four and EXTRA -> (codes, weights)."""
    if spec is None:
        return LANGS, LANG_WEIGHTS
    if spec == "multilingual":
        spec = MULTILINGUAL
    codes, weights = [], []
    for part in spec.split(","):
        code, _, weight = part.strip().partition(":")
        if code not in LANGS and code not in EXTRA:
            sys.exit(f"gen_corpus: unknown language '{code}' in --langs; known: {', '.join(LANGS + sorted(EXTRA))}")
        codes.append(code)
        weights.append(float(weight or 1))
    return codes, weights


def joiner(lang):
    """What goes between words: nothing in Chinese and Japanese."""
    return EXTRA[lang][3] if lang in EXTRA else " "


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


def text_of(rng, pool, avg, lo, hi, nfd=False, sep=" ", stop=None):
    """Text of lo..hi characters (a word boundary near a length drawn uniformly from lo..hi); with `stop`, every
    line ends with it (or with other terminal punctuation), as lines of prose do."""
    target = rng.randint(lo, hi)
    words = rng.choices(pool, k=int(target / avg * 1.3) + 4)
    s = sep.join(words)
    if len(s) > target:
        cut = s.rfind(" ", lo, target) if sep else -1
        s = s[:cut] if cut > 0 else s[:target]
    if stop:
        s = "\n".join(end_line(line, stop) for line in s.split("\n"))
    # Decomposed accents, as text copied from some macOS apps has them; validate normalises them to NFC.
    return unicodedata.normalize("NFD", s) if nfd else s


TERMINAL = tuple(".!?。？؟")


def end_line(line, stop):
    """The line ending in terminal punctuation (a trailing comma or tab replaced by `stop`)."""
    body = line.rstrip(" \t,，،")
    return body if not body or body.endswith(TERMINAL) else body + stop


def full_stop(lang):
    return EXTRA[lang][2][1] if lang in EXTRA and EXTRA[lang][2] else "."


def avg_token(pool, sep=" "):
    return max(1.0, sum(len(t) + len(sep) for t in pool) / len(pool))


# ------------------------------------------------------------------------------ PII and look-alikes (--pii-rate)

NAMES = ["anna", "j.smith", "mario.rossi", "kowalski", "li.wei", "support", "m.dubois", "olga.petrova", "k.tanaka",
         "ahmed", "sofia.garcia", "info", "billing", "n.ivanenko"]
DOMAINS = ["example.com", "mail.example.org", "gmail.com", "company.co.uk", "web.de", "yandex.ru", "outlook.fr",
           "shop.example.net"]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def digits(rng, n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def luhn_card(rng):
    """A 16-digit card number with a valid Luhn check digit, grouped by 4 with spaces, dashes or nothing."""
    body = [4 if rng.random() < 0.6 else 5] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(body)):  # the check digit will be at position 0 from the right
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    number = "".join(map(str, body)) + str((10 - total % 10) % 10)
    sep = rng.choice([" ", "-", ""])
    return sep.join(number[i:i + 4] for i in range(0, 16, 4))


def iban(rng):
    """A German or French IBAN with correct mod-97 check digits, printed in groups of 4 or in one piece."""
    country, bban = rng.choice([("DE", lambda: digits(rng, 18)), ("FR", lambda: digits(rng, 23))])
    bban = bban()
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    code = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4)) if rng.random() < 0.5 else code


def phone(rng):
    d = lambda n: digits(rng, n)
    return rng.choice([
        lambda: f"+1 415-555-{d(4)}", lambda: f"(212) 555-{d(4)}", lambda: f"+44 20 7946 {d(4)}",
        lambda: f"07700 900{d(3)}", lambda: f"+49 30 {d(8)}", lambda: f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
        lambda: f"06 {d(2)} {d(2)} {d(2)} {d(2)}", lambda: f"+7 495 {d(3)}-{d(2)}-{d(2)}",
        lambda: f"+34 612 {d(3)} {d(3)}", lambda: f"+39 06 {d(4)} {d(4)}", lambda: f"+81 3-{d(4)}-{d(4)}",
        lambda: f"+91 98765 {d(5)}", lambda: f"+61 2 {d(4)} {d(4)}", lambda: f"+55 11 9{d(4)}-{d(4)}",
        lambda: f"+48 {d(3)} {d(3)} {d(3)}",
    ])()


def pii_item(rng):
    kind = rng.randrange(9)
    if kind == 0:
        return f"{rng.choice(NAMES)}{rng.choice(['', str(rng.randint(1, 99))])}@{rng.choice(DOMAINS)}"
    if kind == 1:
        return phone(rng)
    if kind == 2:
        return luhn_card(rng)
    if kind == 3:
        return iban(rng)
    if kind == 4:
        return f"{rng.randint(11, 199)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if kind == 5:
        return f"2a02:{rng.randint(1, 0xffff):x}:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xffff):x}"
    if kind == 6:
        token = "".join(rng.choice(ALNUM) for _ in range(32))
        return rng.choice([f"https://api.example.com/v1/export?token={token}",
                           f"https://{rng.choice(NAMES).split('.')[0]}:{token[:10]}@ftp.example.net/files/"])
    if kind == 7:
        return rng.choice(["sk-" + "".join(rng.choice(ALNUM) for _ in range(48)),
                           "AKIA" + "".join(rng.choice(ALNUM[26:]) for _ in range(16)),
                           "ghp_" + "".join(rng.choice(ALNUM) for _ in range(36))])
    # a JWT: three base64url parts
    part = lambda n: "".join(rng.choice(ALNUM + "-_") for _ in range(n))
    return f"eyJhbGciOiJIUzI1NiJ9.{part(40)}.{part(43)}"


def lookalike(rng):
    """Numbers that are not PII and must stay untouched."""
    d = lambda n: digits(rng, n)
    return rng.choice([
        lambda: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", lambda: f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.2025",
        lambda: f"€{rng.randint(1, 999)}.{d(2)}", lambda: f"${rng.randint(1, 9)},{d(3)}.00",
        lambda: f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 40)}", lambda: f"#A-{d(6)}",
        lambda: f"order {d(10)}", lambda: f"ISBN 978-3-16-{d(6)}-0", lambda: f"{rng.randint(8, 22)}:{d(1)}5",
        lambda: f"00:{d(1)}1:{d(1)}2,500 --> 00:{d(1)}1:{d(1)}4,000",
    ])()


def insert_items(rng, text, items):
    """Puts each item at a random word boundary (anywhere in text without spaces)."""
    for item in items:
        at = rng.randint(0, len(text))
        space = text.find(" ", at)
        if space >= 0:
            text = f"{text[:space]} {item}{text[space:]}"
        elif " " in text:
            text = f"{text} {item}"
        else:
            text = f"{text[:at]}{item}{text[at:]}"
    return text


def decorate(rng, text, pii_rate):
    """With --pii-rate: PII items in a share pii_rate of texts, look-alikes in 3 x pii_rate. Returns the text and
    whether it got PII."""
    has_pii = rng.random() < pii_rate
    if has_pii:
        text = insert_items(rng, text, [pii_item(rng) for _ in range(rng.randint(1, 3))])
    if rng.random() < 3 * pii_rate:
        text = insert_items(rng, text, [lookalike(rng) for _ in range(rng.randint(1, 3))])
    return text, has_pii


# ------------------------------------------------------------------------------------ garbage (--junk-rate)

BOILERPLATE = ["Accept all cookies", "We use cookies to improve your experience.", "Privacy Policy", "Terms of Use",
               "All rights reserved.", "Subscribe to our newsletter", "Click here to read more", "Share on Facebook",
               "Log in | Register", "Copyright © 2026 Example Inc.", "Skip to main content", "Back to top",
               "This website uses cookies. By continuing to browse you agree to our use of cookies.", "Sitemap",
               "Contact us", "Powered by WordPress", "Home > Products > Accessories"]
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
         "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
         "commodo consequat.")


def junk(rng, pool):
    """A document of one of the kinds quality filters exist for."""
    kind = rng.randrange(6)
    words = [w for w in rng.choices(pool, k=400) if w.strip()]
    if kind == 0:  # one line repeated
        line = " ".join(words[:rng.randint(5, 12)])
        return "\n".join([line] * rng.randint(10, 40))
    if kind == 1:  # keyword spam
        keys = words[:rng.randint(3, 5)]
        return " ".join(rng.choice(keys) for _ in range(rng.randint(100, 300)))
    if kind == 2:  # navigation and legal boilerplate
        return "\n".join(rng.choice(BOILERPLATE) for _ in range(rng.randint(10, 30)))
    if kind == 3:  # lorem ipsum
        return " ".join([LOREM] * rng.randint(2, 8))
    if kind == 4:  # symbol soup
        return " ".join("".join(rng.choice("#$%&*@!<>{}[]|/\\~^=+_-") for _ in range(rng.randint(1, 6)))
                        if rng.random() < 0.7 else w for w in words[:rng.randint(80, 300)])
    # mojibake: UTF-8 read as Windows-1252
    text = " ".join(words[:rng.randint(80, 300)]) + " déjà vu, Größe, naïve café"
    return text.encode("utf-8").decode("cp1252", errors="replace")


# ------------------------------------------------------------------------------------- toxic terms (--toxic-rate)

LEXICON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "Sources", "RefineryStages", "Toxicity", "Resources", "toxicity", "lexicon")


def load_lexicon(folder):
    """The project's word lists: language code -> terms (one per line, `#` comments), read when the corpus is made."""
    lists = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            terms = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
        if terms:
            lists[name[:-4]] = terms
    if "en" not in lists:
        sys.exit(f"gen_corpus: no en.txt word list in {folder} (--toxic-rate needs the toxicity lexicon)")
    return lists


def lexicon_sha256(folder):
    """sha256 (hex) of the word lists in `folder`: each <lang>.txt's name and bytes, in name order. Also run by
    tools/bench/e2e.sh, which compares it with a reused corpus's corpus.json."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".txt"):
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read()
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def toxic_terms(rng, lexicon, lang):
    """2-4 terms from the list of `lang`, or from the English list for a language without one."""
    terms = lexicon.get(lang) or lexicon["en"]
    return [rng.choice(terms) for _ in range(rng.randint(2, 4))]


# --------------------------------------------------------------------------- planted duplicates (--dup-rate)

DUP_SPREAD = 100_000      # a copy is written 1 to DUP_SPREAD records after its group's first member (log-uniform)
DUP_SIZES = (2, 8)        # members per group, uniform
SHORT_WORDS = 40          # fewer editable words than this: a near copy only changes case or spacing


def near_copy(rng, text, sep, vocabulary):
    """`text` with a few edits that keep it a near duplicate (see --dup-rate in the docstring); unchanged when it is
    Chinese or Japanese and under 40 characters, or has no word to edit (the caller counts that copy as exact)."""
    if not sep:  # Chinese, Japanese: insert words after punctuation, never inside an item or a term
        if len(text) < 40:
            return text
        marks = [i + 1 for i, c in enumerate(text) if c in "，。？"] or [len(text)]
        for at in sorted((rng.choice(marks) for _ in range(rng.randint(1, 3))), reverse=True):
            text = text[:at] + rng.choice(vocabulary) + text[at:]
        return text
    tokens = text.split(" ")
    editable = [i for i, t in enumerate(tokens) if t.isalpha()]
    if not editable:
        return text
    if len(editable) < SHORT_WORDS:
        i = rng.choice(editable)
        word = tokens[i]
        if word.upper() != word.lower():
            tokens[i] = word.upper() if word[0].islower() else word.lower()
        else:  # a script without case: one space more, which whitespace normalisation undoes
            tokens[i] = " " + word
        return " ".join(tokens)
    for i in sorted(rng.sample(editable, rng.randint(1, min(5, len(editable) // SHORT_WORDS))), reverse=True):
        op = rng.randrange(3)
        if op == 0:
            tokens[i] = rng.choice(vocabulary)
        elif op == 1:
            del tokens[i]
        else:
            tokens.insert(i + 1, rng.choice(vocabulary))
    return " ".join(tokens)


class Planter:
    """Per source: plants duplicate groups and toxic terms with random streams of their own (so the records'
    own stream is the same with and without them), and counts what was written."""

    def __init__(self, kind, seed, mix):
        self.mix = mix
        self.dup_rng = random.Random(f"{seed}:{kind}:duplicates")
        self.toxic_rng = random.Random(f"{seed}:{kind}:toxic")
        # Mean group size 5: q originals per fresh record give 5q members among 1 + 4q records.
        self.start_rate = mix.dup_rate / (5 - 4 * mix.dup_rate) if mix.dup_rate else 0.0
        self.lexicon = load_lexicon(mix.lexicon) if mix.toxic_rate else None
        self.vocabulary = {}
        self.pending = []     # (due record index, sequence, group, exact, has PII, line)
        self.sequence = 0
        self.index = 0        # records (lines) written so far
        self.members = {}     # group -> members written
        self.copies = {"exact": 0, "near": 0}
        self.counts = {"records": 0, "bad_lines": 0, "pii_records": 0, "junk_records": 0, "toxic_records": 0}

    def due(self):
        """The line of a copy that is due now (counted as written: the caller writes it next), or None."""
        if not self.pending or self.pending[0][0] > self.index:
            return None
        _, _, group, exact, pii, line = heapq.heappop(self.pending)
        self.members[group] += 1
        self.copies["exact" if exact else "near"] += 1
        self.index += 1
        self.counts["records"] += 1
        self.counts["pii_records"] += pii  # near copies edit plain words only, so PII items survive them
        return line

    def toxic(self):
        return self.lexicon is not None and self.toxic_rng.random() < self.mix.toxic_rate

    def insert_toxic(self, text, lang):
        return insert_items(self.toxic_rng, text, toxic_terms(self.toxic_rng, self.lexicon, lang))

    def words(self, lang, pool):
        if lang not in self.vocabulary:
            self.vocabulary[lang] = sorted({t for t in pool if t.isalpha()})
        return self.vocabulary[lang]

    def written(self, line, bad=False, pii=False, junk=False, toxic=False, copy=None):
        """Counts a fresh record's line; with `copy` (a function record -> line of a near copy), it may start a
        group, whose later members are queued."""
        self.index += 1
        if bad:
            self.counts["bad_lines"] += 1
            return
        self.counts["records"] += 1
        self.counts["pii_records"] += pii
        self.counts["junk_records"] += junk
        self.counts["toxic_records"] += toxic
        if copy is None or junk or toxic or not self.start_rate or self.dup_rng.random() >= self.start_rate:
            return
        group = len(self.members)
        self.members[group] = 1
        for _ in range(self.dup_rng.randint(*DUP_SIZES) - 1):
            exact = self.dup_rng.random() < 0.5
            offset = int(math.exp(self.dup_rng.uniform(0, math.log(DUP_SPREAD))))
            self.sequence += 1
            copied = line if exact else copy(self.dup_rng)
            # near_copy leaves some texts as they are (a short Chinese or Japanese one, one without a word to edit):
            # such a copy is exact, and is counted so.
            heapq.heappush(self.pending, (self.index + offset, self.sequence, group, exact or copied == line, pii,
                                          copied))

    def truth(self):
        groups = [n for n in self.members.values() if n >= 2]
        return dict(self.counts, dup_groups=len(groups), dup_members=sum(groups),
                    dup_exact_copies=self.copies["exact"], dup_near_copies=self.copies["near"])


# ------------------------------------------------------------------------------------------------ sources

class Mix:
    """What the options ask for: languages and their weights, PII, garbage, duplicate and toxic rates."""

    def __init__(self, langs, weights, pii_rate, junk_rate, punctuate, dup_rate=0.0, toxic_rate=0.0,
                 skew_categories=False, lexicon=LEXICON):
        self.langs, self.weights, self.pii_rate, self.junk_rate = langs, weights, pii_rate, junk_rate
        self.punctuate = punctuate
        self.dup_rate, self.toxic_rate, self.skew_categories, self.lexicon = dup_rate, toxic_rate, skew_categories, lexicon
        self.extra = [lang for lang in langs if lang in EXTRA]


def chat_line(record):
    return json.dumps(record, ensure_ascii=False)


def gen_chats(writer, target, rng, pools, bad_rate, mix, planter):
    seps = {lang: joiner(lang) for lang in pools}
    avgs = {lang: avg_token(p, seps[lang]) for lang, p in pools.items()}
    bad = 0
    while writer.total < target:
        copy = planter.due()
        if copy is not None:
            writer.add(copy)
            continue
        lang = rng.choices(mix.langs, mix.weights)[0]
        pool, avg, sep = pools[lang], avgs[lang], seps[lang]
        turns = rng.randint(2, 6)
        nfd = lang in ("fr", "de") and rng.random() < 0.01
        stop = full_stop(lang) if mix.punctuate else None
        messages = [{"role": "user" if i % 2 == 0 else "assistant",
                     "content": text_of(rng, pool, avg, 50, 1500, nfd, sep, stop)} for i in range(turns)]
        pii = False
        if mix.pii_rate:
            turn = messages[rng.randrange(turns)]
            turn["content"], pii = decorate(rng, turn["content"], mix.pii_rate)
        toxic = planter.toxic()
        if toxic:  # into an assistant turn (the ones the toxicity stage judges)
            turn = messages[planter.toxic_rng.randrange(turns // 2) * 2 + 1]
            turn["content"] = planter.insert_toxic(turn["content"], lang)
        record = {"messages": messages, "rating": rng.randint(1, 5)}
        if rng.random() < bad_rate:
            bad += 1
            kind = rng.randrange(6)
            if kind == 0:  # invalid JSON: a line cut in the middle
                line = json.dumps(record, ensure_ascii=False)
                writer.add(line[: rng.randint(10, max(11, len(line) // 2))])
                planter.written(None, bad=True)
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
            planter.written(None, bad=True)
            continue
        line = json.dumps(record, ensure_ascii=False)
        writer.add(line)

        def copy(dup_rng, record=record, lang=lang, sep=sep, pool=pool):
            messages = [dict(m) for m in record["messages"]]
            turn = messages[dup_rng.randrange(len(messages))]
            turn["content"] = near_copy(dup_rng, turn["content"], sep, planter.words(lang, pool))
            return json.dumps(dict(record, messages=messages), ensure_ascii=False)

        planter.written(line, pii=pii, toxic=toxic, copy=copy)
    writer.flush()
    return bad


def gen_docs(writer, target, rng, pools, bad_rate, mix, planter):
    seps = {lang: joiner(lang) for lang in pools}
    avgs = {lang: avg_token(p, seps[lang]) for lang, p in pools.items()}
    bad = 0
    while writer.total < target:
        copy = planter.due()
        if copy is not None:
            writer.add(copy)
            continue
        lang = rng.choices(mix.langs, mix.weights)[0]
        nfd = lang in ("fr", "de") and rng.random() < 0.01
        text = text_of(rng, pools[lang], avgs[lang], 200, 5000, nfd, seps[lang], full_stop(lang) if mix.punctuate else None)
        pii = junk_doc = False
        if mix.junk_rate and rng.random() < mix.junk_rate:
            text = junk(rng, pools[lang])
            junk_doc = True
        elif mix.pii_rate:
            text, pii = decorate(rng, text, mix.pii_rate)
        toxic = not junk_doc and planter.toxic()
        if toxic:
            text = planter.insert_toxic(text, lang)
        category = rng.choices(CATEGORIES, SKEWED_WEIGHTS)[0] if mix.skew_categories else rng.choice(CATEGORIES)
        record = {"text": text, "category": category}
        if rng.random() < bad_rate:
            bad += 1
            kind = rng.randrange(4)
            if kind == 0:  # invalid JSON: a line cut in the middle
                line = json.dumps(record, ensure_ascii=False)
                writer.add(line[: rng.randint(10, max(11, len(line) // 2))])
                planter.written(None, bad=True)
                continue
            elif kind == 1:  # wrong shape: text is a list of paragraphs
                record["text"] = record["text"].split("\n")
            elif kind == 2:  # wrong shape: category is a number
                record["category"] = rng.randint(0, 99)
            else:  # too short: whitespace only
                record["text"] = " \n\t " * rng.randint(0, 3)
            writer.add(json.dumps(record, ensure_ascii=False))
            planter.written(None, bad=True)
            continue
        write_text_record(writer, planter, record, lang, seps[lang], pools[lang], pii=pii, junk=junk_doc, toxic=toxic)
    writer.flush()
    return bad


def write_text_record(writer, planter, record, lang, sep, pool, **planted):
    """Writes a good record with a `text` and tells the planter about it (`planted`: what it carries), with how to make
    a near copy of it should the planter pick it for a duplicate group."""
    line = json.dumps(record, ensure_ascii=False)
    writer.add(line)

    def copy(dup_rng):
        text = near_copy(dup_rng, record["text"], sep, planter.words(lang, pool))
        return json.dumps(dict(record, text=text), ensure_ascii=False)

    planter.written(line, copy=copy, **planted)


def subtitle_window(rng, pool, vocabulary, sep, stop):
    """1-6 short lines of dialogue (most windows 1-3), each capitalised and ending in terminal punctuation (an
    ellipsis in 3 % of lines); a tenth of the windows are two speakers, each line after a "- ". A quarter of the
    words are drawn uniformly from the pool's distinct words, the rest from the Zipf pool, so that short lines are not
    all function words."""
    lines = []
    dialogue = rng.random() < 0.1
    for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 6))):
        count = rng.randint(2, 8) * (2 if not sep else 1)
        words = [rng.choice(pool) if rng.random() < 0.75 else rng.choice(vocabulary) for _ in range(count)]
        r = rng.random()
        end = "..." if r < 0.03 else "?" if r < 0.18 else "!" if r < 0.26 else stop
        line = end_line(sep.join(w for w in words if w.strip()).strip(), end)
        if not line:
            continue
        line = line[0].upper() + line[1:]
        lines.append(f"- {line}" if dialogue else line)
    return "\n".join(lines) or stop


def gen_subtitles(writer, target, rng, pools, bad_rate, mix, planter):
    seps = {lang: joiner(lang) for lang in pools}
    bad = 0
    while writer.total < target:
        copy = planter.due()
        if copy is not None:
            writer.add(copy)
            continue
        lang = rng.choices(mix.langs, mix.weights)[0]
        text = subtitle_window(rng, pools[lang], planter.words(lang, pools[lang]), seps[lang], full_stop(lang))
        toxic = planter.toxic()
        if toxic:
            text = planter.insert_toxic(text, lang)
        record = {"text": text, "category": "subtitles"}
        if rng.random() < bad_rate:
            bad += 1
            line = json.dumps(record, ensure_ascii=False)
            if rng.random() < 0.5:  # invalid JSON: a line cut in the middle
                writer.add(line[: rng.randint(10, max(11, len(line) // 2))])
            else:  # empty: whitespace only
                writer.add(json.dumps(dict(record, text=" " * rng.randint(0, 3)), ensure_ascii=False))
            planter.written(None, bad=True)
            continue
        write_text_record(writer, planter, record, lang, seps[lang], pools[lang], toxic=toxic)
    writer.flush()
    return bad


GENERATORS = {"chats": (gen_chats, 1), "docs": (gen_docs, 2), "subtitles": (gen_subtitles, 3)}


def generate_source(job):
    kind, out, target, file_bytes, seed, bad_rate, mix = job
    pools, doc_pools = make_pools(seed, mix.extra)
    writer = Writer(os.path.join(out, kind), kind, file_bytes)
    planter = Planter(kind, seed, mix)
    generate, stream = GENERATORS[kind]
    bad = generate(writer, target, random.Random(seed * 2 + stream), doc_pools if kind == "docs" else pools,
                   bad_rate, mix, planter)
    writer.chunk = []
    return writer, bad, planter.truth()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--mb", type=float, required=True, help="total size in decimal MB (1e6 bytes)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--file-mb", type=float, default=64, help="largest file, MiB (default 64)")
    parser.add_argument("--chat-share", type=float, default=0.6, help="share of bytes that are chat lines")
    parser.add_argument("--bad-rate", type=float, default=0.03, help="share of lines that are bad on purpose")
    parser.add_argument("--langs", default=None,
                        help="'multilingual' or code:weight,... (default en:0.7,fr:0.1,de:0.1,ru:0.1)")
    parser.add_argument("--pii-rate", type=float, default=0.0, help="share of records with PII (default 0)")
    parser.add_argument("--junk-rate", type=float, default=0.0, help="share of documents that are garbage (default 0)")
    parser.add_argument("--punctuate", action="store_true",
                        help="end every line with terminal punctuation, as prose does (default: lines end anywhere)")
    parser.add_argument("--subtitle-share", type=float, default=0.0,
                        help="share of bytes that are subtitle windows under subtitles/ (default 0)")
    parser.add_argument("--dup-rate", type=float, default=0.0,
                        help="share of records in planted duplicate groups of 2-8 (default 0)")
    parser.add_argument("--toxic-rate", type=float, default=0.0,
                        help="share of records with insults from the toxicity word lists (default 0)")
    parser.add_argument("--skew-categories", action="store_true",
                        help="Zipf-distributed document categories (default: uniform)")
    parser.add_argument("--lexicon", default=LEXICON, help="folder of <lang>.txt word lists for --toxic-rate "
                        "(default: the toxicity stage's, Sources/RefineryStages/Toxicity/Resources/toxicity/lexicon)")
    args = parser.parse_args()
    for name in ("subtitle_share", "dup_rate", "toxic_rate", "pii_rate", "junk_rate"):
        if not 0 <= getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 0 and below 1")
    langs, weights = parse_langs(args.langs)
    mix = Mix(langs, weights, args.pii_rate, args.junk_rate, args.punctuate, args.dup_rate, args.toxic_rate,
              args.skew_categories, args.lexicon)

    started = time.time()
    out = os.path.abspath(args.out_dir)
    os.makedirs(out, exist_ok=True)
    marker = os.path.join(out, "corpus.json")
    for name in ("corpus.json", "chats", "docs", "subtitles"):
        path = os.path.join(out, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)

    total = int(args.mb * 1_000_000)
    file_bytes = int(args.file_mb * (1 << 20))
    subtitle_target = int(total * args.subtitle_share)
    chat_target = int((total - subtitle_target) * args.chat_share)
    targets = {"chats": chat_target, "docs": total - subtitle_target - chat_target}
    if subtitle_target:
        targets["subtitles"] = subtitle_target
    jobs = [(kind, out, target, file_bytes, args.seed, args.bad_rate, mix) for kind, target in targets.items()]
    # The sources are independent streams (own seeds), so they are written by one process each, at once.
    with multiprocessing.Pool(len(jobs)) as pool:
        written = dict(zip(targets, pool.map(generate_source, jobs)))
    (chats, bad_chats, _), (docs, bad_docs, _) = written["chats"], written["docs"]

    info = {
        "generator_version": GENERATOR_VERSION,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "seed": args.seed,
        "mb": args.mb,
        "file_mb": args.file_mb,
        "chat_share": args.chat_share,
        "bad_rate": args.bad_rate,
        "bytes": sum(writer.total for writer, _, _ in written.values()),
        "seconds": round(time.time() - started, 1),
    }
    for kind, (writer, bad, _) in written.items():
        info[kind] = {"files": writer.files, "lines": writer.lines, "bytes": writer.total, "bad_lines": bad}
    # The text-stage options, only when used (a default corpus.json is as it always was).
    if args.langs is not None:
        info["langs"] = args.langs
    if args.pii_rate:
        info["pii_rate"] = args.pii_rate
    if args.junk_rate:
        info["junk_rate"] = args.junk_rate
    if args.punctuate:
        info["punctuate"] = True
    # The end-to-end options, likewise, and the planted counts whenever anything was planted.
    if args.subtitle_share:
        info["subtitle_share"] = args.subtitle_share
    if args.dup_rate:
        info["dup_rate"] = args.dup_rate
    if args.toxic_rate:
        info["toxic_rate"] = args.toxic_rate
        info["toxic_lexicon_sha256"] = lexicon_sha256(args.lexicon)
    if args.skew_categories:
        info["skew_categories"] = True
    if args.subtitle_share or args.dup_rate or args.toxic_rate or args.pii_rate or args.junk_rate:
        by_source = {kind: truth for kind, (_, _, truth) in written.items()}
        info["truth"] = {key: sum(truth[key] for truth in by_source.values()) for key in by_source["chats"]}
        info["truth"]["by_source"] = by_source
    with open(marker + ".tmp", "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(marker + ".tmp", marker)
    subtitles = f", {written['subtitles'][0].lines} subtitle lines" if "subtitles" in written else ""
    print(f"gen_corpus: {info['bytes'] / 1e6:.1f} MB in {sum(w.files for w, _, _ in written.values())} files "
          f"({chats.lines} chat lines, {docs.lines} document lines{subtitles}, "
          f"{sum(bad for _, bad, _ in written.values())} bad) under {out} in {info['seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
