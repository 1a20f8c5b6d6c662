#!/usr/bin/env python3
"""PyTorch CPU baseline for Refinery's built-in GPT-2 trainer: trains the same
architecture on random tokens and prints one JSON object with its speed.

  .build/trainer-venv/bin/python tools/bench/train_torch.py \
      --layers 6 --width 384 --heads 6 --ctx 256 --vocab 4096 \
      --batch-rows 8 --steps 10 --warmup 3 --threads 2 [--attention sdpa]

Model: GPT-2 (pre-LayerNorm blocks, learned position embeddings, fused QKV
projection with biases, 4x MLP with tanh-approximated GELU ("gelu_new"),
final LayerNorm, LM head tied to the token embedding), eps 1e-5, no dropout,
float32. Training: AdamW (lr 3e-4, betas 0.9/0.95, weight decay 0.1 on the
2-D weight matrices and embeddings, none on biases and LayerNorm), global
gradient-norm clipping at 1.0, mean cross-entropy over trained targets.

Attention (--attention):
  sdpa       F.scaled_dot_product_attention(q, k, v, is_causal=True) on rows
             of one document each: what a PyTorch user would write.
  sdpa-mask  packed rows (several documents per row, positions restart at 0,
             no target across a document end); SDPA with an explicit boolean
             mask, t attends to s iff segment_start[t] <= s <= t.
  manual     the same packed rows, attention written out: q @ k^T / sqrt(d),
             masked_fill(-inf), softmax, @ v.

Timing: --steps is the total number of optimizer steps; the first --warmup of
them are not timed. tokens/s = batch_rows * ctx * (steps - warmup) / (wall
time of the timed steps), each step being forward + backward + clip + AdamW.

FLOPs per token follow the PaLM paper's accounting (appendix B):
  6 * N + 12 * L * C * T
where N counts every parameter except the position embeddings (token
embedding counted once, as the tied LM head; biases and LayerNorm included),
L = layers, C = width, T = ctx. The attention term counts the full T x T
score and value matmuls (no discount for the causal mask). achieved GFLOP/s =
that x tokens/s / 1e9.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C: int, H: int, attention: str):
        super().__init__()
        self.H, self.attention = H, attention
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)

    def attend(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(B, T, self.H, C // self.H).transpose(1, 2) for z in (q, k, v))
        if self.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        elif self.attention == "sdpa-mask":
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
            att = att.masked_fill(~mask, float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x, mask):
        x = x + self.attend(self.ln_1(x), mask)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V: int, ctx: int, C: int, L: int, H: int, attention: str):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(ctx, C)
        self.h = nn.ModuleList(Block(C, H, attention) for _ in range(L))
        self.ln_f = nn.LayerNorm(C, eps=1e-5)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2's scaled residual init
            if name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    def forward(self, tokens, positions, mask, targets):
        x = self.wte(tokens) + self.wpe(positions)
        for block in self.h:
            x = block(x, mask)
        logits = self.ln_f(x) @ self.wte.weight.t()  # tied LM head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def make_batch(gen: torch.Generator, rows: int, T: int, V: int, packed: bool):
    """Random tokens. Unpacked: one document per row. Packed: documents of
    random length 16..T/2; a position's target is the next token of its own
    document, -1 at a document's last position."""
    data = torch.randint(0, V, (rows, T + 1), generator=gen)
    tokens, targets = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    if not packed:
        positions = torch.arange(T).expand(rows, T)
        return tokens, positions, None, targets
    positions = torch.empty(rows, T, dtype=torch.long)
    seg = torch.empty(rows, T, dtype=torch.long)
    for r in range(rows):
        start = 0
        while start < T:
            n = int(torch.randint(16, max(17, T // 2), (1,), generator=gen))
            end = min(start + n, T)
            positions[r, start:end] = torch.arange(end - start)
            seg[r, start:end] = start
            targets[r, end - 1] = -1
            start = end
    s = torch.arange(T)
    mask = (s[None, None, :] <= s[None, :, None]) & (s[None, None, :] >= seg[:, :, None])
    return tokens, positions, mask[:, None, :, :], targets


def main() -> None:
    ap = argparse.ArgumentParser(description="PyTorch CPU GPT-2 training speed baseline")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--batch-rows", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10, help="total optimizer steps, warmup included")
    ap.add_argument("--warmup", type=int, default=3, help="untimed first steps")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--attention", choices=("sdpa", "sdpa-mask", "manual"), default="sdpa")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.steps <= args.warmup:
        ap.error("--steps must be larger than --warmup")
    if args.width % args.heads:
        ap.error("--width must be a multiple of --heads")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    L, C, T, V = args.layers, args.width, args.ctx, args.vocab
    model = GPT(V, T, C, L, args.heads, args.attention)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95))
    packed = args.attention != "sdpa"

    n_all = sum(p.numel() for p in model.parameters())
    n_flops = n_all - model.wpe.weight.numel()
    flops_per_token = 6 * n_flops + 12 * L * C * T

    step_ms, losses = [], []
    for step in range(args.steps):
        tokens, positions, mask, targets = make_batch(gen, args.batch_rows, T, V, packed)
        t0 = time.perf_counter()
        loss = model(tokens, positions, mask, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(float(loss.detach()))
        if step >= args.warmup:
            step_ms.append(dt * 1e3)

    timed = len(step_ms)
    tokens_per_s = args.batch_rows * T * timed / (sum(step_ms) / 1e3)
    try:
        affinity = sorted(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    print(json.dumps({
        "tokens_per_s": round(tokens_per_s, 1),
        "ms_per_step": round(statistics.mean(step_ms), 2),
        "ms_per_step_median": round(statistics.median(step_ms), 2),
        "ms_per_step_min": round(min(step_ms), 2),
        "flops_per_token": flops_per_token,
        "achieved_gflops": round(flops_per_token * tokens_per_s / 1e9, 2),
        "params_total": n_all,
        "params_in_flops": n_flops,
        "layers": L, "width": C, "heads": args.heads, "ctx": T, "vocab": V,
        "batch_rows": args.batch_rows, "tokens_per_step": args.batch_rows * T,
        "steps": args.steps, "warmup": args.warmup, "timed_steps": timed,
        "attention": args.attention,
        "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
        "threads": torch.get_num_threads(),
        "cpu_affinity": affinity,
        "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "python": platform.python_version(),
    }, indent=2))


if __name__ == "__main__":
    main()
