#!/usr/bin/env python3
"""Loads an exported model folder with transformers and compares its logits
with tools/trainer/reference.py on unpacked rows (one document per row,
positions 0..T-1).

  check_transformers.py MODEL_DIR [--length T] [--rows 2] [--seed 0] [--tol 1e-4]

Fails (exit 1) when:
  - from_pretrained reports missing / unexpected / mismatched weights or
    errors (output_loading_info=True), or logs anything about weights being
    newly initialized, not used, or missing;
  - lm_head is not tied to transformer.wte, or the config is not gelu_new;
  - logits differ: max|hf - ref| / max|ref| > tol (reference.py's rel_error);
  - the loss differs: transformers' loss with labels=input_ids (mean NLL of
    each next token) against reference.py's loss with targets = next token,
    -1 at the last position, weight 1.
Run with .build/trainer-venv/bin/python (tools/trainer/setup_venv.sh).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

BAD_LOG_WORDS = ("newly initialized", "not initialized", "were not used", "missing", "unexpected", "mismatch")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--length", type=int, help="T (default: n_positions)")
    ap.add_argument("--rows", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)

    import torch
    import transformers
    from transformers import GPT2LMHeadModel

    torch.set_grad_enabled(False)
    problems: list[str] = []

    # Capture what transformers logs while loading.
    log_buffer = io.StringIO()
    handler = logging.StreamHandler(log_buffer)
    handler.setLevel(logging.WARNING)
    transformers.logging.set_verbosity_warning()
    tf_logger = logging.getLogger("transformers")
    tf_logger.addHandler(handler)
    try:
        dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        model, info = GPT2LMHeadModel.from_pretrained(
            args.model_dir, output_loading_info=True, **{dtype_kw: torch.float32})
    except Exception as e:  # shape mismatches raise here
        print(log_buffer.getvalue(), file=sys.stderr)
        print(f"FAIL from_pretrained raised {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        tf_logger.removeHandler(handler)
    model.eval()
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(key):
            problems.append(f"from_pretrained {key}: {sorted(map(str, info[key]))}")
    log_text = log_buffer.getvalue()
    bad_lines = [ln for ln in log_text.splitlines() if any(w in ln.lower() for w in BAD_LOG_WORDS)]
    if bad_lines:
        problems.append("from_pretrained warned:\n    " + "\n    ".join(bad_lines))
    if model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr():
        problems.append("lm_head.weight is not tied to transformer.wte.weight")
    cfg = model.config
    if cfg.activation_function != "gelu_new":
        problems.append(f"activation_function is {cfg.activation_function}")
    if next(model.parameters()).dtype != torch.float32:
        problems.append(f"model dtype is {next(model.parameters()).dtype}")

    try:
        ref_model = reference.load_model(args.model_dir)
    except reference.FormatError as e:
        for p in problems + [f"reference.py: {e}"]:
            print("FAIL " + p, file=sys.stderr)
        return 1
    T = args.length or ref_model.P
    if not 1 <= T <= ref_model.P:
        print(f"--length must be in 1..{ref_model.P}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    tokens = rng.integers(0, ref_model.V, size=(args.rows, T))
    positions = np.broadcast_to(np.arange(T), (args.rows, T))
    segs = np.zeros((args.rows, T), dtype=np.int64)
    targets = np.full((args.rows, T), -1, dtype=np.int64)
    targets[:, :-1] = tokens[:, 1:]
    weights = (targets != -1).astype(np.float64)

    ref_logits = reference.forward(ref_model, tokens, positions, segs)
    ref_loss = reference.loss_from_logits(ref_logits, targets, weights)

    ids = torch.from_numpy(tokens)
    out = model(input_ids=ids, labels=ids)
    hf_logits = out.logits.double().numpy()
    hf_loss = float(out.loss)

    res = reference.compare(hf_logits, ref_logits)
    res["loss_transformers"] = hf_loss
    res["loss_reference"] = ref_loss
    res["loss_rel_error"] = abs(hf_loss - ref_loss) / max(abs(ref_loss), 1e-6) if T > 1 else 0.0
    res["rows"], res["T"] = args.rows, T
    res["torch"], res["transformers"] = torch.__version__, transformers.__version__
    res["attn_implementation"] = getattr(cfg, "_attn_implementation", None)
    if res["rel_error"] > args.tol:
        problems.append(f"logits differ: rel_error {res['rel_error']:.3g} > {args.tol}")
    if res["loss_rel_error"] > args.tol:
        problems.append(f"loss differs: {hf_loss} vs {ref_loss}")
    res["ok"] = not problems
    print(json.dumps(res, indent=2))
    for p in problems:
        print("FAIL " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
