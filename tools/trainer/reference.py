#!/usr/bin/env python3
"""Independent NumPy reference for Refinery's GPT-2-shaped trainer.

Needs only NumPy: it parses safetensors by hand (no safetensors / torch import)
so that it checks the Swift exporter and forward pass without sharing code with
either. All arithmetic is float64 (weights are widened from their stored dtype).

Model folder (what the Swift trainer exports):
  model.safetensors  metadata {"format": "pt"}, Hugging Face GPT-2 names/shapes,
                     Conv1D layout (weight is [in, out], y = x @ W + b),
                     no lm_head.weight (tied to transformer.wte.weight)
  config.json        GPT2Config: vocab_size, n_positions, n_embd, n_layer,
                     n_head, activation_function gelu_new, layer_norm_epsilon

Batch file (JSON, every field rows x T):
  tokens          input token ids
  positions       position ids (restart at 0 for each packed document)
  segment_starts  index in the row where the position's document starts;
                  position t attends to s  iff  segment_starts[t] <= s <= t
  targets         token id to predict at t, or -1 (not trained)
  weights         float weight of each target
  loss = sum(weight * NLL over targets != -1) / count(targets != -1)
  (0 when no target is trained)

Commands:
  reference.py check MODEL_DIR BATCH_JSON LOGITS_BIN LOSS [--tol 1e-4]
      LOGITS_BIN: raw little-endian float32 [rows*T*V], row-major (row, t, v).
      Error measures, with a = Swift, b = reference:
        max_abs_error  = max |a - b|
        rel_error      = max |a - b| / max |b|       (relative to the scale)
        loss_rel_error = |loss_a - loss_b| / max(|loss_b|, 1e-6)
      Exit 1 if rel_error or loss_rel_error > tol (and on any format error).
  reference.py forward MODEL_DIR BATCH_JSON [--logits-out F] [--causal]
      Prints the loss; writes logits as float32 like LOGITS_BIN.
  reference.py random-model OUT_DIR --layers 2 --width 64 --heads 4 --vocab 300
                            --ctx 32 --seed 0 [--scale 1.0]
  reference.py random-batch OUT.json [--model DIR | --vocab V --ctx T]
                            --rows 3 --seed 0 [--single-doc]
  reference.py selftest     self-consistency checks on a random model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np

# ---------------------------------------------------------------- safetensors

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


class FormatError(Exception):
    pass


def read_safetensors(path: str) -> tuple[dict[str, np.ndarray], dict]:
    """Returns ({name: array}, metadata). Arrays keep their stored dtype
    (BF16 is widened to float32)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise FormatError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise FormatError(f"{path}: header length {n} runs past the end of the file")
    try:
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: header is not UTF-8 JSON: {e}") from e
    if not isinstance(header, dict):
        raise FormatError(f"{path}: header is not a JSON object")
    data = memoryview(blob)[8 + n :]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    spans = []
    for name, info in header.items():
        try:
            dtype_name, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"{path}: tensor {name!r}: malformed entry {info!r}") from e
        if not (0 <= begin <= end <= len(data)):
            raise FormatError(f"{path}: tensor {name!r}: data_offsets {begin},{end} outside data ({len(data)} bytes)")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if dtype_name == "BF16":
            if end - begin != 2 * count:
                raise FormatError(f"{path}: tensor {name!r}: {end - begin} bytes for {count} BF16 values")
            raw = np.frombuffer(data[begin:end], dtype="<u2").astype(np.uint32) << 16
            arr = raw.view(np.float32)
        elif dtype_name in _DTYPES:
            dt = _DTYPES[dtype_name]
            if end - begin != dt.itemsize * count:
                raise FormatError(
                    f"{path}: tensor {name!r}: {end - begin} bytes for {count} values of {dtype_name}")
            arr = np.frombuffer(data[begin:end], dtype=dt)
        else:
            raise FormatError(f"{path}: tensor {name!r}: unsupported dtype {dtype_name}")
        tensors[name] = arr.reshape(shape)
        spans.append((begin, end, name))
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise FormatError(f"{path}: tensors {n0!r} and {n1!r} overlap")
    return tensors, metadata


def write_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Writes float32 little-endian tensors, names in sorted order, header
    padded with spaces to a multiple of 8 bytes (as the reference writer does)."""
    header: dict = {"__metadata__": metadata}
    offset = 0
    payload = []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype="<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        payload.append(raw)
        offset += len(raw)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for raw in payload:
            f.write(raw)


# ---------------------------------------------------------------- model

class Model:
    """GPT-2 weights as float64 arrays plus the few config numbers used."""

    def __init__(self, config: dict, tensors: dict[str, np.ndarray]):
        self.config = config
        self.V = int(config["vocab_size"])
        self.P = int(config["n_positions"])
        self.C = int(config["n_embd"])
        self.L = int(config["n_layer"])
        self.H = int(config["n_head"])
        self.eps = float(config.get("layer_norm_epsilon", 1e-5))
        act = config.get("activation_function", "gelu_new")
        if act != "gelu_new":
            raise FormatError(f"activation_function is {act!r}; this reference implements gelu_new only")
        inner = config.get("n_inner")
        self.F = int(inner) if inner is not None else 4 * self.C
        if self.C % self.H:
            raise FormatError(f"n_embd {self.C} is not a multiple of n_head {self.H}")
        if config.get("tie_word_embeddings", True) is not True:
            raise FormatError("tie_word_embeddings must be true")
        self.w = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
        self._check_shapes()

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        C, F = self.C, self.F
        shapes = {
            "transformer.wte.weight": (self.V, C),
            "transformer.wpe.weight": (self.P, C),
            "transformer.ln_f.weight": (C,),
            "transformer.ln_f.bias": (C,),
        }
        for i in range(self.L):
            p = f"transformer.h.{i}."
            shapes.update({
                p + "ln_1.weight": (C,), p + "ln_1.bias": (C,),
                p + "attn.c_attn.weight": (C, 3 * C), p + "attn.c_attn.bias": (3 * C,),
                p + "attn.c_proj.weight": (C, C), p + "attn.c_proj.bias": (C,),
                p + "ln_2.weight": (C,), p + "ln_2.bias": (C,),
                p + "mlp.c_fc.weight": (C, F), p + "mlp.c_fc.bias": (F,),
                p + "mlp.c_proj.weight": (F, C), p + "mlp.c_proj.bias": (C,),
            })
        return shapes

    def _check_shapes(self) -> None:
        expected = self.expected_shapes()
        problems = []
        for name, shape in expected.items():
            if name not in self.w:
                problems.append(f"missing tensor {name} {list(shape)}")
            elif tuple(self.w[name].shape) != shape:
                problems.append(f"{name}: shape {list(self.w[name].shape)}, expected {list(shape)}")
        for name in self.w:
            if name in expected:
                continue
            if name == "lm_head.weight":
                if not np.array_equal(self.w[name], self.w.get("transformer.wte.weight")):
                    problems.append("lm_head.weight present and different from transformer.wte.weight (must be tied)")
            else:
                problems.append(f"unexpected tensor {name} {list(self.w[name].shape)}")
        if problems:
            raise FormatError("model.safetensors does not match config.json:\n  " + "\n  ".join(problems))


def load_model(model_dir: str) -> Model:
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    if config.get("model_type") != "gpt2":
        raise FormatError(f"config.json model_type is {config.get('model_type')!r}, expected 'gpt2'")
    tensors, metadata = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    if metadata.get("format") != "pt":
        raise FormatError(f'model.safetensors metadata is {metadata!r}; transformers needs {{"format": "pt"}}')
    return Model(config, tensors)


# ---------------------------------------------------------------- forward

def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # biased variance
    return (x - mu) / np.sqrt(var + eps) * g + b


def gelu_new(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def attention_mask(segment_starts: np.ndarray) -> np.ndarray:
    """[rows, T, T] boolean: mask[r, t, s] = segment_starts[r, t] <= s <= t."""
    T = segment_starts.shape[-1]
    s = np.arange(T)[None, None, :]
    t = np.arange(T)[None, :, None]
    return (s <= t) & (s >= segment_starts[:, :, None])


def forward(model: Model, tokens, positions, segment_starts) -> np.ndarray:
    """Logits [rows, T, V] in float64."""
    tokens = np.asarray(tokens, dtype=np.int64)
    positions = np.asarray(positions, dtype=np.int64)
    segment_starts = np.asarray(segment_starts, dtype=np.int64)
    R, T = tokens.shape
    C, H = model.C, model.H
    D = C // H
    w = model.w
    mask = attention_mask(segment_starts)[:, None, :, :]  # [R,1,T,T]
    x = w["transformer.wte.weight"][tokens] + w["transformer.wpe.weight"][positions]  # [R,T,C]
    for i in range(model.L):
        p = f"transformer.h.{i}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], model.eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # [R,T,3C]
        q, k, v = (qkv[..., j * C:(j + 1) * C].reshape(R, T, H, D).transpose(0, 2, 1, 3) for j in range(3))
        scores = (q @ k.transpose(0, 1, 3, 2)) / math.sqrt(D)  # [R,H,T,T]
        scores = np.where(mask, scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        att = (probs @ v).transpose(0, 2, 1, 3).reshape(R, T, C)
        x = x + att @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], model.eps)
        m = gelu_new(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], model.eps)
    return x @ w["transformer.wte.weight"].T


def loss_from_logits(logits: np.ndarray, targets, weights) -> float:
    targets = np.asarray(targets, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    sel = targets != -1
    count = int(sel.sum())
    if count == 0:
        return 0.0
    nll = -np.take_along_axis(logp, np.where(sel, targets, 0)[..., None], axis=-1)[..., 0]
    return float((weights * nll)[sel].sum() / count)


# ---------------------------------------------------------------- batches

FIELDS = ("tokens", "positions", "segment_starts", "targets", "weights")


def load_batch(path: str, model: Model | None = None) -> dict[str, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    missing = [k for k in FIELDS if k not in raw]
    if missing:
        raise FormatError(f"{path}: missing fields {missing}")
    b = {k: np.asarray(raw[k], dtype=np.float64 if k == "weights" else np.int64) for k in FIELDS}
    shape = b["tokens"].shape
    if len(shape) != 2 or shape[1] == 0:
        raise FormatError(f"{path}: tokens must be rows x T, got shape {shape}")
    for k in FIELDS:
        if b[k].shape != shape:
            raise FormatError(f"{path}: {k} has shape {b[k].shape}, tokens {shape}")
    T = shape[1]
    ss = b["segment_starts"]
    if (ss < 0).any() or (ss > np.arange(T)[None, :]).any():
        raise FormatError(f"{path}: segment_starts must satisfy 0 <= segment_starts[t] <= t")
    if model is not None:
        if (b["tokens"] < 0).any() or (b["tokens"] >= model.V).any():
            raise FormatError(f"{path}: token id outside [0, {model.V})")
        if (b["positions"] < 0).any() or (b["positions"] >= model.P).any():
            raise FormatError(f"{path}: position id outside [0, {model.P})")
        tg = b["targets"]
        if ((tg < -1) | (tg >= model.V)).any():
            raise FormatError(f"{path}: target outside [-1, {model.V})")
    return b


def random_batch(rows: int, T: int, vocab: int, seed: int, single_doc: bool = False) -> dict[str, list]:
    """Rows packed with several documents of random length; a document's
    targets are its next tokens (-1 at its last position), about 10% of the
    others are dropped to -1 as well, weights are random in [0.5, 1.5].
    A row may end with padding: token 0, its own one-position segment,
    position 0, target -1, weight 0."""
    rng = np.random.default_rng(seed)
    out = {k: [] for k in FIELDS}
    for r in range(rows):
        tok = rng.integers(0, vocab, size=T)
        pos = np.zeros(T, dtype=np.int64)
        seg = np.zeros(T, dtype=np.int64)
        tgt = np.full(T, -1, dtype=np.int64)
        wts = np.zeros(T)
        if single_doc:
            bounds = [(0, T)]
        else:
            bounds = []
            start = 0
            pad = int(rng.integers(0, max(1, T // 8))) if r % 2 == 1 else 0
            while start < T - pad:
                n = int(rng.integers(2, max(3, T // 2)))
                end = min(start + n, T - pad)
                bounds.append((start, end))
                start = end
            for t in range(start, T):  # padding
                tok[t], seg[t] = 0, t
        for start, end in bounds:
            seg[start:end] = start
            pos[start:end] = np.arange(end - start)
            tgt[start:end - 1] = tok[start + 1:end]
            wts[start:end - 1] = 1.0 if single_doc else rng.uniform(0.5, 1.5, size=end - 1 - start)
        if not single_doc:
            drop = rng.random(T) < 0.1
            tgt[drop] = -1
            wts[drop] = 0.0
        out["tokens"].append(tok.tolist())
        out["positions"].append(pos.tolist())
        out["segment_starts"].append(seg.tolist())
        out["targets"].append(tgt.tolist())
        out["weights"].append([float(x) for x in wts])
    return out


# ---------------------------------------------------------------- random model

def gpt2_config(layers: int, width: int, heads: int, vocab: int, ctx: int,
                bos: int | None = None, eos: int | None = None) -> dict:
    last = vocab - 1
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": vocab,
        "n_positions": ctx,
        "n_embd": width,
        "n_layer": layers,
        "n_head": heads,
        "n_inner": None,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "use_cache": True,
        "tie_word_embeddings": True,
        "bos_token_id": last if bos is None else bos,
        "eos_token_id": last if eos is None else eos,
    }


def random_model(out_dir: str, layers: int, width: int, heads: int, vocab: int, ctx: int,
                 seed: int, scale: float = 1.0) -> None:
    """Writes model.safetensors + config.json. Weights are O(1)-scaled rather
    than GPT-2's 0.02 init so that attention is sharp and masking mistakes show
    up clearly in the logits; --scale multiplies every matrix."""
    if width % heads:
        raise SystemExit("width must be a multiple of heads")
    rng = np.random.default_rng(seed)
    C, F = width, 4 * width

    def mat(n_in, n_out, gain=1.0):
        return rng.standard_normal((n_in, n_out)) * (gain * scale / math.sqrt(n_in))

    def vec(n, mean=0.0, std=0.1):
        return mean + std * rng.standard_normal(n)

    t = {
        "transformer.wte.weight": rng.standard_normal((vocab, C)) * (0.3 * scale),
        "transformer.wpe.weight": rng.standard_normal((ctx, C)) * (0.3 * scale),
        "transformer.ln_f.weight": vec(C, 1.0),
        "transformer.ln_f.bias": vec(C),
    }
    for i in range(layers):
        p = f"transformer.h.{i}."
        t[p + "ln_1.weight"] = vec(C, 1.0)
        t[p + "ln_1.bias"] = vec(C)
        t[p + "attn.c_attn.weight"] = mat(C, 3 * C, gain=2.0)
        t[p + "attn.c_attn.bias"] = vec(3 * C)
        t[p + "attn.c_proj.weight"] = mat(C, C)
        t[p + "attn.c_proj.bias"] = vec(C)
        t[p + "ln_2.weight"] = vec(C, 1.0)
        t[p + "ln_2.bias"] = vec(C)
        t[p + "mlp.c_fc.weight"] = mat(C, F)
        t[p + "mlp.c_fc.bias"] = vec(F)
        t[p + "mlp.c_proj.weight"] = mat(F, C)
        t[p + "mlp.c_proj.bias"] = vec(C)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), t, {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(gpt2_config(layers, width, heads, vocab, ctx), f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- comparison

def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """a = candidate, b = reference."""
    diff = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(b).max()) if diff.size else 0.0
    return {"max_abs_error": max_abs, "max_abs_reference": scale,
            "rel_error": max_abs / max(scale, 1e-30) if max_abs else 0.0}


def run_reference(model_dir: str, batch_path: str, causal: bool = False):
    model = load_model(model_dir)
    batch = load_batch(batch_path, model)
    seg = np.zeros_like(batch["segment_starts"]) if causal else batch["segment_starts"]
    logits = forward(model, batch["tokens"], batch["positions"], seg)
    return model, batch, logits, loss_from_logits(logits, batch["targets"], batch["weights"])


def cmd_check(args) -> int:
    model, batch, ref, ref_loss = run_reference(args.model_dir, args.batch)
    R, T = batch["tokens"].shape
    expected = R * T * model.V
    size = os.path.getsize(args.logits)
    if size != 4 * expected:
        print(f"check: {args.logits} has {size} bytes; expected {4 * expected} "
              f"(float32 x rows {R} x T {T} x V {model.V})", file=sys.stderr)
        return 1
    got = np.fromfile(args.logits, dtype="<f4").reshape(R, T, model.V)
    if not np.isfinite(got).all():
        print("check: Swift logits contain NaN or infinity", file=sys.stderr)
        return 1
    res = compare(got, ref)
    loss = float(args.loss)
    res["loss"] = loss
    res["reference_loss"] = ref_loss
    res["loss_rel_error"] = abs(loss - ref_loss) / max(abs(ref_loss), 1e-6)
    res["tolerance"] = args.tol
    ok = res["rel_error"] <= args.tol and res["loss_rel_error"] <= args.tol and math.isfinite(loss)
    res["ok"] = ok
    print(json.dumps(res, indent=2))
    return 0 if ok else 1


def cmd_forward(args) -> int:
    _, _, logits, loss = run_reference(args.model_dir, args.batch, causal=args.causal)
    if args.logits_out:
        logits.astype("<f4").tofile(args.logits_out)
    print(json.dumps({"loss": loss, "shape": list(logits.shape)}))
    return 0


def cmd_random_model(args) -> int:
    random_model(args.out_dir, args.layers, args.width, args.heads, args.vocab, args.ctx, args.seed, args.scale)
    print(f"wrote {args.out_dir}/model.safetensors and config.json")
    return 0


def cmd_random_batch(args) -> int:
    vocab, ctx = args.vocab, args.ctx
    if args.model:
        with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        vocab = vocab or cfg["vocab_size"]
        ctx = ctx or cfg["n_positions"]
    if not vocab or not ctx:
        raise SystemExit("random-batch: give --model DIR or both --vocab and --ctx")
    b = random_batch(args.rows, ctx, vocab, args.seed, args.single_doc)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(b, f)
    print(f"wrote {args.out}: {args.rows} rows x {ctx}")
    return 0


def cmd_selftest(args) -> int:
    """Checks the reference against itself: packing invariance, mask sanity,
    safetensors round trip, and that `check` accepts/rejects as it should."""
    failures, passed = [], []

    def expect(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        (passed if cond else failures).append(what)

    with tempfile.TemporaryDirectory() as tmp:
        mdir = os.path.join(tmp, "model")
        random_model(mdir, 2, 64, 4, 300, 32, seed=0)
        model = load_model(mdir)
        # safetensors round trip
        t2, md = read_safetensors(os.path.join(mdir, "model.safetensors"))
        expect(md == {"format": "pt"} and len(t2) == 4 + 12 * 2, "safetensors round trip (metadata, tensor count)")
        with open(os.path.join(mdir, "model.safetensors"), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
        expect(n % 8 == 0, "header length is a multiple of 8")

        b = {k: np.asarray(v) for k, v in random_batch(4, 32, 300, seed=1).items()}
        logits = forward(model, b["tokens"], b["positions"], b["segment_starts"])
        causal = forward(model, b["tokens"], b["positions"], np.zeros_like(b["segment_starts"]))
        multi = [r for r in range(4) if len(set(b["segment_starts"][r].tolist())) > 1]
        expect(len(multi) == 4, "every random row packs several documents")
        d = compare(causal, logits)
        expect(d["rel_error"] > 1e-2, f"segment masking differs from plain causal (rel diff {d['rel_error']:.3g})")
        # first document of each row sees nothing before it: identical either way
        first_end = [int(np.argmax(b["segment_starts"][r] > 0)) for r in range(4)]
        same = max(float(np.abs(causal[r, :e] - logits[r, :e]).max()) for r, e in enumerate(first_end))
        expect(same == 0.0, "first document of each row is identical with and without segments")
        # packing invariance: every document equals itself run alone from position 0
        worst = 0.0
        for r in range(4):
            seg = b["segment_starts"][r]
            for start in sorted(set(seg.tolist())):
                idx = np.nonzero(seg == start)[0]
                alone = forward(model, b["tokens"][r, idx][None], np.arange(len(idx))[None],
                                np.zeros((1, len(idx)), dtype=np.int64))[0]
                worst = max(worst, float(np.abs(alone - logits[r, idx]).max()))
        expect(worst < 1e-9, f"each packed document equals the document alone (max diff {worst:.3g})")
        # loss definition
        loss = loss_from_logits(logits, b["targets"], b["weights"])
        sel = b["targets"] != -1
        manual = 0.0
        for r, t in zip(*np.nonzero(sel)):
            row = logits[r, t]
            lse = row.max() + math.log(np.exp(row - row.max()).sum())
            manual += b["weights"][r, t] * (lse - row[b["targets"][r, t]])
        manual /= sel.sum()
        expect(abs(loss - manual) < 1e-9 * max(1.0, abs(manual)), f"loss matches a per-position loop ({loss:.6f})")
        # the check command accepts float32 copies of itself and rejects perturbations
        bpath = os.path.join(tmp, "batch.json")
        with open(bpath, "w") as f:
            json.dump({k: v.tolist() for k, v in b.items()}, f)
        lpath = os.path.join(tmp, "logits.bin")
        logits.astype("<f4").tofile(lpath)
        ns = argparse.Namespace(model_dir=mdir, batch=bpath, logits=lpath, loss=repr(loss), tol=1e-4)
        expect(cmd_check(ns) == 0, "check accepts the reference's own float32 logits")
        bad = logits.astype("<f4")
        bad[1, 5, 7] += 1e-2 * np.abs(logits).max()
        bad.tofile(lpath)
        expect(cmd_check(ns) == 1, "check rejects one logit off by 1% of the scale")
        logits.astype("<f4").tofile(lpath)
        ns.loss = repr(loss * 1.001)
        expect(cmd_check(ns) == 1, "check rejects a loss off by 0.1%")
    print(f"{len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("check", help="compare Swift logits and loss with the reference")
    p.add_argument("model_dir")
    p.add_argument("batch")
    p.add_argument("logits", help="raw float32 little-endian [rows*T*V]")
    p.add_argument("loss", help="the Swift loss (a number)")
    p.add_argument("--tol", type=float, default=1e-4)
    p.set_defaults(fn=cmd_check)

    p = sub.add_parser("forward", help="print the reference loss, optionally write logits")
    p.add_argument("model_dir")
    p.add_argument("batch")
    p.add_argument("--logits-out")
    p.add_argument("--causal", action="store_true", help="ignore segment_starts (plain causal mask)")
    p.set_defaults(fn=cmd_forward)

    p = sub.add_parser("random-model", help="write a random model in the export format")
    p.add_argument("out_dir")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=300)
    p.add_argument("--ctx", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1.0)
    p.set_defaults(fn=cmd_random_model)

    p = sub.add_parser("random-batch", help="write a packed random batch.json")
    p.add_argument("out")
    p.add_argument("--model", help="take vocab and ctx from this model's config.json")
    p.add_argument("--vocab", type=int)
    p.add_argument("--ctx", type=int, help="T, the row length")
    p.add_argument("--rows", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--single-doc", action="store_true", help="one document per row, positions 0..T-1")
    p.set_defaults(fn=cmd_random_batch)

    p = sub.add_parser("selftest", help="self-consistency checks on a random model")
    p.set_defaults(fn=cmd_selftest)

    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except (FormatError, OSError, json.JSONDecodeError) as e:
        print(f"{args.cmd}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
