#!/usr/bin/env python3
"""A contextual-bandit experiment for Refinery's trainer: SFT, RWBC, filtered BC and A-SFT trained on the same logged
chats, whose rewards carry growing noise, judged by the true reward of each policy's greedy answers on held-out prompts.

    REFINERY_BIN=.build/release/refinery python3 tools/trainer/bandit/experiment.py [--quick] [--seeds N]

README.md next to this file describes the bandit and the choices, and shows a table of results. Standard library only.

Per seed s (it seeds the log and the training runs) and noise level sigma:
1. Logs N interactions of a popularity-biased behaviour policy on training prompts (`chats/logged.jsonl`, with
   `reward` = clip(r* + sigma z, 0, 1); the prompts, answers and z are the same for every sigma).
2. `refinery run` on a spec with only the `validate` stage makes the dataset; its manifest's counts are printed.
3. `refinery train` for every objective (SFT once per seed: it never reads rewards, so it would train the same model
   bit for bit for every sigma), then `refinery generate --chat` (greedy) on each held-out prompt; the title in the
   answer is scored with r*.
Everything goes under the work directory (default .build/bandit): datasets, runs, results.json. A run whose folder
holds a finished run of the same configuration is reused, so a second invocation only generates again.
"""
import argparse
import concurrent.futures
import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# ----------------------------------------------------------------------------------------------------------------
# The bandit
# ----------------------------------------------------------------------------------------------------------------

# key, the word used in prompts, the related genre (true reward 0.3), how often the behaviour policy gets it right
# (q), and four titles. Every title's first word is unique, so a greedy decoder commits to a title at its first word.
GENRES = [
    ("scifi", "sci-fi", "fantasy", 0.30, ["Star Harbor", "Orbit Nine", "Quantum Drift", "Red Nebula"]),
    ("fantasy", "fantasy", "scifi", 0.20, ["Dragon Crown", "Elven Road", "Wizard Gate", "Moonblade"]),
    ("horror", "horror", "thriller", 0.45, ["Dark Cellar", "Night Visitor", "Hollow Creek", "Bone Choir"]),
    ("thriller", "thriller", "horror", 0.15, ["Double Cross", "Silent Witness", "Zero Hour", "Cold Trail"]),
    ("comedy", "comedy", "animation", 0.50, ["Uncle Bernie", "Holiday Mixup", "Lucky Socks", "Funny Money"]),
    ("animation", "animation", "comedy", 0.25, ["Tiny Robots", "Penguin Parade", "Paper Kingdom", "Bubble Town"]),
    ("romance", "romance", "drama", 0.40, ["Paris Spring", "Love Letters", "Summer Kiss", "Second Chances"]),
    ("drama", "drama", "romance", 0.35, ["Quiet Harvest", "Broken Wings", "Long Winter", "Final Verdict"]),
]
# Titles the behaviour policy pushes whatever the user asked for (no user prefers them: true reward 0).
POPULAR = ["Mega Blast", "Turbo Force"]
POPULAR_SHARE = 0.35          # probability of answering with a popular title (uniform among them)
RELATED_REWARD = 0.3

GENRE = {g[0]: {"word": g[1], "related": g[2], "q": g[3], "titles": g[4]} for g in GENRES}
TITLE_GENRE = {t: g[0] for g in GENRES for t in g[4]}
TITLE_GENRE.update({t: "popular" for t in POPULAR})
ALL_GENRE_TITLES = [t for g in GENRES for t in g[4]]

TRAIN_TEMPLATES = [
    "I'm {name} and I love {genre} films. What should I watch tonight?",
    "{name} here. I'm in the mood for {genre}. Any suggestion?",
    "My name is {name}; my favourite genre is {genre}. Recommend me a movie.",
    "Hi, I'm {name} and I really enjoy {genre} movies. What should I see?",
    "Pick a {genre} film for {name}, please.",
    "{name} asks: what is a good {genre} movie?",
    "Tonight {name} feels like {genre}. What do you recommend?",
    "Recommend something for {name}, a big fan of {genre}.",
    "As a {genre} lover, what should I, {name}, watch next?",
    "Hey, {name} again. Got a {genre} pick for me?",
]
HELDOUT_TEMPLATES = [
    "Hello! {name} wants to watch something {genre} tonight. Ideas?",
    "Could you suggest a {genre} movie? I'm {name}.",
]
TRAIN_NAMES = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemal", "Lena",
               "Marco", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Samir", "Tanja", "Umar", "Vera", "Walter",
               "Xenia", "Yusuf", "Zoe", "Arjun", "Bea", "Chen", "Dora", "Emil", "Fatima", "Gustav", "Hana", "Ivan",
               "Julia", "Kofi", "Lucia", "Mateo", "Nora"]
HELDOUT_NAMES = ["Olga", "Pedro", "Rania", "Stefan", "Tomoko", "Ulrich", "Valentina", "Wei", "Yara", "Zubair",
                 "Agnes", "Bruno"]


def true_reward(genre, title):
    """r*(prompt, response): 1 for a title of the preferred genre, 0.3 for one of its related genre, else 0."""
    g = TITLE_GENRE.get(title)
    if g == genre:
        return 1.0
    if g is not None and g == GENRE[genre]["related"]:
        return RELATED_REWARD
    return 0.0


def behaviour_distribution(genre):
    """pi_b(title | genre): q_g on the preferred genre's titles, POPULAR_SHARE on the popular titles, the rest
    uniform over all 32 genre titles."""
    q = GENRE[genre]["q"]
    rest = 1.0 - q - POPULAR_SHARE
    p = {t: rest / len(ALL_GENRE_TITLES) for t in ALL_GENRE_TITLES}
    for t in GENRE[genre]["titles"]:
        p[t] += q / len(GENRE[genre]["titles"])
    for t in POPULAR:
        p[t] = p.get(t, 0.0) + POPULAR_SHARE / len(POPULAR)
    return p


def behaviour_value(genre):
    """The behaviour policy's expected true reward on a prompt of this genre."""
    return sum(p * true_reward(genre, t) for t, p in behaviour_distribution(genre).items())


def answer(title):
    return f"Watch {title}."


def make_prompt(template, name, genre):
    return template.format(name=name, genre=GENRE[genre]["word"])


def logged_interactions(seed, count):
    """`count` logged interactions on training prompts: (genre, prompt, title, r*, z), z ~ N(0, 1)."""
    rng = random.Random(f"bandit-log-{seed}")
    rows = []
    keys = [g[0] for g in GENRES]
    for _ in range(count):
        genre = rng.choice(keys)
        prompt = make_prompt(rng.choice(TRAIN_TEMPLATES), rng.choice(TRAIN_NAMES), genre)
        dist = behaviour_distribution(genre)
        titles = list(dist)
        title = rng.choices(titles, weights=[dist[t] for t in titles])[0]
        rows.append((genre, prompt, title, true_reward(genre, title), rng.gauss(0.0, 1.0)))
    return rows


def heldout_prompts(count, unseen_phrasings=False):
    """`count` evaluation prompts (a multiple of 8 is balanced over genres), each with a name that never occurs in
    the logged data, in the training phrasings (or, with `unseen_phrasings`, in phrasings never logged either).
    Returns (genre, prompt, whether its phrasing is unseen)."""
    rng = random.Random("bandit-heldout")
    keys = [g[0] for g in GENRES]
    templates = HELDOUT_TEMPLATES if unseen_phrasings else TRAIN_TEMPLATES
    prompts = []
    for i in range(count):
        genre = keys[i % len(keys)]
        template = templates[(i // len(keys)) % len(templates)]
        prompts.append((genre, make_prompt(template, rng.choice(HELDOUT_NAMES), genre), unseen_phrasings))
    return prompts


def logged_reward(r, z, sigma):
    """What the log records: r* plus Gaussian noise, clipped to [0, 1] (Refinery's `reward` must lie there)."""
    return min(1.0, max(0.0, r + sigma * z))


# ----------------------------------------------------------------------------------------------------------------
# Refinery
# ----------------------------------------------------------------------------------------------------------------

class Refinery:
    def __init__(self, binary, threads):
        self.binary = str(binary)
        self.env = dict(os.environ)
        if threads:
            self.env["REFINERY_THREADS"] = str(threads)
            self.env["OPENBLAS_NUM_THREADS"] = str(threads)

    def run(self, args, log=None, check=True):
        done = subprocess.run([self.binary, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        if log is not None:
            Path(log).write_text(done.stderr)
        if check and done.returncode != 0:
            sys.exit(f"refinery {' '.join(args[:2])} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return done


def write_dataset(refinery, folder, rows, sigma):
    """The chats JSONL, the pipeline spec and `refinery run` -> folder/dataset. Returns the manifest's counts."""
    folder.mkdir(parents=True, exist_ok=True)
    chats = folder / "chats"
    chats.mkdir(exist_ok=True)
    lines = []
    for genre, prompt, title, r, z in rows:
        record = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer(title)}],
                  "reward": round(logged_reward(r, z, sigma), 4), "category": genre}
        lines.append(json.dumps(record, ensure_ascii=False))
    text = "\n".join(lines) + "\n"
    path = chats / "logged.jsonl"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    spec = folder / "pipeline.yaml"
    spec.write_text(f"""# Written by tools/trainer/bandit/experiment.py: logged bandit chats (sigma = {sigma}).
# Only `validate` (with its lenient defaults): no dedup -- the same prompt and answer logged twice are two
# interactions, both evidence -- and no quality/balance stage, which would judge or reshape the log.
name: bandit
sources:
  - name: logged
    kind: chat_jsonl
    glob: chats/*.jsonl
    category: unknown          # every line carries its own category (the preferred genre)
stages:
  - validate: {{min_chars: 1, min_words: 1, require_assistant: true}}
output:
  dir: dataset
  dataset: bandit
  validation_fraction: 0.0     # everything is training data; evaluation uses held-out prompts instead
""")
    refinery.run(["run", str(spec), "--force", "--workers", "1"], log=folder / "run.log")
    manifest = json.loads((folder / "dataset" / "manifest.json").read_text())
    return manifest_counts(manifest)


def manifest_counts(manifest):
    """Records per split and per category, from manifest.json's shard list."""
    splits, categories = {}, {}
    for shard in manifest.get("shards", []):
        split = shard.get("split", "?")
        splits[split] = splits.get(split, 0) + shard.get("records", 0)
        for cat, n in (shard.get("categories") or {}).items():
            categories[cat] = categories.get(cat, 0) + n
    return {"splits": splits, "categories": categories}


def training_config(name, dataset, tokenizer, output, objective, settings, seed):
    o = objective
    lines = [f"# Written by tools/trainer/bandit/experiment.py", f"name: {name}", f"output: {output}",
             "data:", "  datasets:", f"    - path: {dataset}", f"  tokenizer: {tokenizer}",
             f"  vocab: {settings['vocab']}", "  missing_reward: error",
             "model:", f"  layers: {settings['layers']}", f"  heads: {settings['heads']}",
             f"  width: {settings['width']}", f"  context: {settings['context']}",
             "objective:", f"  kind: {o['kind']}"]
    if o["kind"] != "sft":
        lines += [f"  beta: {o.get('beta', 1)}", f"  baseline: {o.get('baseline', 'none')}",
                  f"  w_max: {o.get('w_max', 20)}", "  normalize: true"]
    s = settings
    lines += ["schedule:", f"  steps: {s['steps']}", f"  batch_rows: {s['batch_rows']}", "  accumulation: 1",
              f"  learning_rate: {s['lr']}", f"  min_learning_rate: {s['lr'] / 10}", f"  warmup: {s['warmup']}",
              "  clip: 1.0", f"  seed: {seed}",
              "checkpoints:", f"  every: {s['steps']}", "  keep: 1", ""]
    return "\n".join(lines)


def train(refinery, run_dir, config_text):
    """Trains unless run_dir already holds this exact configuration's final checkpoint. Returns seconds spent."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "config.yaml"
    output = run_dir / "output"
    done_marker = run_dir / "done"
    if done_marker.exists() and config.exists() and config.read_text() == config_text:
        return 0.0
    if output.exists():
        shutil.rmtree(output)
    done_marker.unlink(missing_ok=True)
    config.write_text(config_text)
    started = time.monotonic()
    refinery.run(["train", str(config), "--every", "50"], log=run_dir / "train.log")
    done_marker.write_text("ok\n")
    return time.monotonic() - started


def parse_title(text):
    m = re.fullmatch(r"\s*Watch (.+?)\.?\s*", text)
    if not m:
        return None
    title = m.group(1).strip()
    return title if title in TITLE_GENRE else None


def evaluate(refinery, checkpoint, prompts, jobs, temperature=0.0, seed=1):
    """Answers every prompt (greedy unless `temperature`); one dict per prompt with the answer, its title and r*."""
    def one(item):
        i, (genre, prompt, unseen_phrasing) = item
        args = ["generate", str(checkpoint), "--chat", "--prompt", prompt, "--max-tokens", "16"]
        if temperature > 0:
            args += ["--temperature", str(temperature), "--seed", str(seed * 1000 + i)]
        out = refinery.run(args).stdout.strip()
        title = parse_title(out)
        return {"genre": genre, "prompt": prompt, "unseen_phrasing": unseen_phrasing, "output": out, "title": title,
                "reward": true_reward(genre, title) if title else 0.0}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, enumerate(prompts)))
    return results


def outcome_mix(results):
    """Shares of answers: preferred genre, related genre, popular title, another genre, not a title."""
    mix = {"preferred": 0, "related": 0, "popular": 0, "other": 0, "invalid": 0}
    for r in results:
        t = r["title"]
        if t is None:
            mix["invalid"] += 1
        elif TITLE_GENRE[t] == r["genre"]:
            mix["preferred"] += 1
        elif TITLE_GENRE[t] == "popular":
            mix["popular"] += 1
        elif TITLE_GENRE[t] == GENRE[r["genre"]]["related"]:
            mix["related"] += 1
        else:
            mix["other"] += 1
    n = max(1, len(results))
    return {k: v / n for k, v in mix.items()}


def behaviour_mix(prompts):
    mix = {"preferred": 0.0, "related": 0.0, "popular": 0.0, "other": 0.0, "invalid": 0.0}
    for genre, *_ in prompts:
        for t, p in behaviour_distribution(genre).items():
            g = TITLE_GENRE[t]
            key = ("preferred" if g == genre else "popular" if g == "popular"
                   else "related" if g == GENRE[genre]["related"] else "other")
            mix[key] += p / len(prompts)
    return mix


# ----------------------------------------------------------------------------------------------------------------
# The experiment
# ----------------------------------------------------------------------------------------------------------------

SHORT = {"none": "none", "category_mean": "cat", "batch_mean": "batch", "ema": "ema"}


def objectives(betas, asft_baselines, filtered_baselines):
    """(label, objective, run folder name) for every row of the table."""
    rows = [("sft", {"kind": "sft"}, "sft"), ("rwbc", {"kind": "rwbc", "baseline": "none"}, "rwbc")]
    for b in filtered_baselines:
        label = "filtered" + (f" ({SHORT[b]})" if len(filtered_baselines) > 1 else "")
        rows.append((label, {"kind": "filtered", "baseline": b}, f"filtered-{b}"))
    for base in asft_baselines:
        for beta in betas:
            label = f"asft β={beta:g}" + (f" ({SHORT[base]})" if len(asft_baselines) > 1 else "")
            rows.append((label, {"kind": "asft", "beta": beta, "baseline": base}, f"asft-{beta:g}-{base}"))
    return rows


def fmt_mean(values):
    if not values:
        return "-"
    m = sum(values) / len(values)
    if len(values) == 1:
        return f"{m:.3f}"
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return f"{m:.2f}±{sd:.2f}"


def file_hash(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def run_one(refinery, seed, label, objective, sigma, run_dir, text, prompts, sigmas):
    """Trains (or reuses) one run, answers the held-out prompts, summarises its log."""
    seconds = train(refinery, run_dir, text)
    answers = evaluate(refinery, run_dir / "output", prompts, jobs=1)
    entry = {"seed": seed, "sigma": sigma, "objective": label, "config": objective, "train_seconds": round(seconds, 1),
             "mean_true_reward": sum(a["reward"] for a in answers) / len(answers), "mix": outcome_mix(answers)}
    log = [json.loads(l) for l in (run_dir / "output" / "log.jsonl").read_text().splitlines() if l.strip()]
    tail = log[-50:]
    entry["final_nll"] = sum(x["nll"] for x in tail) / max(1, len(tail))
    weights = [x["weights"] for x in log if x.get("weights")]
    # Kish's effective sample size as a share of the step's examples, and the share of weights cut to w_max.
    entry["ess_share"] = sum(w["effective_sample_size"] / max(1, w["examples"]) for w in weights) / max(1, len(weights))
    entry["clipped_share"] = sum(w["clipped"] for w in weights) / max(1, len(weights))
    entry["skipped_steps"] = sum(1 for x in log if x["verdict"] != "update")
    entry["answers"] = answers
    print(f"  seed {seed} σ={sigma:<4g} {label:<16} true reward {entry['mean_true_reward']:.3f}  "
          f"({', '.join(f'{k} {v:.2f}' for k, v in entry['mix'].items() if v)})"
          + (f"  trained in {seconds:.0f} s" if seconds else "  (reused)"), file=sys.stderr)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", help="work directory (default .build/bandit, with --quick .build/bandit/quick)")
    ap.add_argument("--quick", action="store_true",
                    help="a smaller run (about 1 min): σ 0 and 1, β 0.3, 1 seed, fewer steps, records and prompts")
    ap.add_argument("--seeds", type=int, help="repeat with seeds 1..N (data and training); cells are means (default 3)")
    ap.add_argument("--sigmas", type=float, nargs="+", help="noise levels (default 0 0.3 0.6 1.0)")
    ap.add_argument("--betas", type=float, nargs="+", help="A-SFT temperatures (default 0.1 0.3 1.0)")
    ap.add_argument("--asft-baselines", nargs="+", default=["category_mean"], choices=list(SHORT),
                    help="A-SFT baselines, one row set each (default category_mean)")
    ap.add_argument("--filtered-baselines", nargs="+", default=["category_mean"], choices=list(SHORT),
                    help="filtered BC baselines (default category_mean)")
    ap.add_argument("--steps", type=int, help="training steps per run")
    ap.add_argument("--records", type=int, help="logged interactions per seed")
    ap.add_argument("--prompts", type=int, help="held-out prompts (a multiple of 8)")
    ap.add_argument("--lr", type=float, default=0.003, help="peak learning rate (cosine to a tenth)")
    ap.add_argument("--unseen-phrasings", action="store_true",
                    help="evaluate on phrasings never logged (besides unseen names); see README")
    ap.add_argument("--jobs", type=int, default=2, help="refinery processes side by side, each single-threaded (default 2)")
    ap.add_argument("--no-sample-check", action="store_true", help="skip sampling the SFT model at temperature 1")
    args = ap.parse_args()

    binary = Path(os.environ.get("REFINERY_BIN", REPO / ".build" / "release" / "refinery")).resolve()
    if not binary.exists():
        sys.exit(f"no refinery binary at {binary}; build it (swift build -c release --product refinery) or set REFINERY_BIN")
    refinery = Refinery(binary, threads=1)
    jobs = max(1, args.jobs)

    sigmas = args.sigmas or ([0.0, 1.0] if args.quick else [0.0, 0.3, 0.6, 1.0])
    betas = args.betas or ([0.3] if args.quick else [0.1, 0.3, 1.0])
    seeds = args.seeds or (1 if args.quick else 3)
    settings = {"vocab": 512, "layers": 2, "heads": 4, "width": 64, "context": 64, "batch_rows": 8,
                "steps": args.steps or (600 if args.quick else 1000), "lr": args.lr, "warmup": 30}
    records = args.records or (3000 if args.quick else 4000)
    prompts = heldout_prompts(args.prompts or (24 if args.quick else 48), args.unseen_phrasings)
    runs = objectives(betas, args.asft_baselines, args.filtered_baselines)

    work = Path(args.work).resolve() if args.work else REPO / ".build" / "bandit" / ("quick" if args.quick else "")
    work.mkdir(parents=True, exist_ok=True)
    tokenizer = work / "tokenizer"
    started = time.monotonic()
    print(f"refinery: {binary}\nwork: {work}\nσ {sigmas}, {len(runs)} objectives, {seeds} seed(s), {records} logged "
          f"interactions, {len(prompts)} held-out prompts, {settings['steps']} steps of {settings['batch_rows']} rows, "
          f"{jobs} job(s)", file=sys.stderr)

    results = {"settings": settings, "records": records, "sigmas": sigmas, "seeds": seeds,
               "objectives": {label: o for label, o, _ in runs},
               "heldout_prompts": [p for _, p, _ in prompts], "unseen_phrasings": args.unseen_phrasings,
               "behaviour": {"mean_true_reward_heldout": sum(behaviour_value(g) for g, *_ in prompts) / len(prompts),
                             "mix_heldout": behaviour_mix(prompts), "mean_true_reward_logged": {}},
               "datasets": {}, "sft_sampled": {}, "runs": []}

    for seed in range(1, seeds + 1):
        rows = logged_interactions(seed, records)
        results["behaviour"]["mean_true_reward_logged"][seed] = sum(r[3] for r in rows) / len(rows)
        datasets = {}
        for sigma in sigmas:
            folder = work / f"seed{seed}" / f"sigma{sigma:g}"
            counts = write_dataset(refinery, folder, rows, sigma)
            datasets[sigma] = folder / "dataset"
            written = sum(counts["splits"].values())
            results["datasets"][f"seed{seed}/sigma{sigma:g}"] = counts
            print(f"dataset seed {seed} σ={sigma:g}: {records} logged -> {written} records in the manifest "
                  f"{counts['splits']}" + ("" if written == records else "  <-- records were dropped: see run.log"),
                  file=sys.stderr)
        if not (tokenizer / "vocab.json").exists():
            # One byte-level BPE for every run (the chats' text is the same for every σ and nearly so across seeds).
            refinery.run(["tokenizer", "train", str(datasets[sigmas[0]]), "--vocab", str(settings["vocab"]),
                          "--out", str(tokenizer)], log=work / "tokenizer.log")
        stamp = f"# tokenizer {file_hash(tokenizer / 'vocab.json')} {file_hash(tokenizer / 'merges.txt')}\n"
        todo = []
        for label, objective, folder_name in runs:
            # SFT never reads rewards: for every σ it sees the same examples in the same order with weight 1, so
            # it is trained once per seed (on the first σ's dataset) and stands in every column.
            for sigma in ([sigmas[0]] if objective["kind"] == "sft" else sigmas):
                run_dir = work / f"seed{seed}" / f"sigma{sigma:g}" / "runs" / folder_name
                text = stamp + training_config(f"bandit-seed{seed}-sigma{sigma:g}-{folder_name}", datasets[sigma],
                                               tokenizer, run_dir / "output", objective, settings, seed)
                todo.append((label, objective, sigma, run_dir, text))
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            entries = list(pool.map(lambda job: run_one(refinery, seed, *job, prompts, sigmas), todo))
        for e in list(entries):
            if e["config"]["kind"] == "sft":
                for sigma in sigmas[1:]:
                    entries.append(dict(e, sigma=sigma, trained_at_sigma=sigmas[0]))
        results["runs"] += entries

        if not args.no_sample_check:
            # Does SFT fit the behaviour policy? Sample it (temperature 1) once per held-out prompt.
            sft_dir = next(job[3] for job in todo if job[1]["kind"] == "sft")
            sampled = evaluate(refinery, sft_dir / "output", prompts, jobs=jobs, temperature=1.0, seed=seed)
            results["sft_sampled"][seed] = {"mix": outcome_mix(sampled),
                                           "mean_true_reward": sum(a["reward"] for a in sampled) / len(sampled)}

    results["seconds"] = round(time.monotonic() - started, 1)
    # Trained runs are reused (same configuration), so --unseen-phrasings after a run only generates again.
    out = work / ("results-unseen-phrasings.json" if args.unseen_phrasings else "results.json")
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(table(results, runs, sigmas, seeds, prompts, args, out))


def table(results, runs, sigmas, seeds, prompts, args, out):
    labels = [label for label, _, _ in runs]
    width = max(len(l) for l in labels + ["behaviour policy"]) + 2
    cell = 12 if seeds > 1 else 8
    head = "objective".ljust(width) + "".join(f"σ={s:g}".rjust(cell) for s in sigmas)
    lines = [f"Mean true reward of greedy answers on {len(prompts)} held-out prompts"
             + (" in unseen phrasings" if args.unseen_phrasings else "")
             + (f", mean±sd over {seeds} seeds" if seeds > 1 else ""), "", head, "-" * len(head)]
    for label in labels:
        cells = [fmt_mean([e["mean_true_reward"] for e in results["runs"] if e["objective"] == label and e["sigma"] == s])
                 for s in sigmas]
        lines.append(label.ljust(width) + "".join(c.rjust(cell) for c in cells))
    b = f"{results['behaviour']['mean_true_reward_heldout']:.3f}"
    lines.append("behaviour policy".ljust(width) + "".join(b.rjust(cell) for _ in sigmas))
    lines.append("best possible".ljust(width) + "".join("1.000".rjust(cell) for _ in sigmas))
    lines.append("")
    def mix(m):
        return ", ".join(f"{k} {v:.2f}" for k, v in m.items() if v)
    lines.append("behaviour policy's answers (expected): " + mix(results["behaviour"]["mix_heldout"]))
    for seed, s in results["sft_sampled"].items():
        lines.append(f"SFT sampled at temperature 1, seed {seed}: " + mix(s["mix"]))
    lines.append("greedy answers, all seeds and σ:")
    for label in labels:
        es = [e for e in results["runs"] if e["objective"] == label]
        avg = {k: sum(e["mix"][k] for e in es) / len(es) for k in es[0]["mix"]}
        lines.append(f"  {label:<{width}}" + mix(avg))
    lines.append(f"A-SFT baseline {', '.join(args.asft_baselines)}; filtered baseline "
                 f"{', '.join(args.filtered_baselines)}; {results['seconds'] / 60:.1f} min; {out}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
