#!/usr/bin/python3
"""projectors_ref.py: the five projectors of the LLaVA projector study in plain PyTorch,
written from shared/specs/clip-projectors.md §3 (not from any upstream code).

All map (tokens, in) to (tokens, out) per token. Module keys are what the C engine
(engine/models/vb-projector.c) names its tensors. Run directly for the self-checks:

  /usr/bin/python3 tests/reference/projectors_ref.py
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Linear(nn.Module):
    """y = W x + b."""

    def __init__(self, d_in=1024, d_out=1024):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, x):
        return self.linear(x)


class LowRank(nn.Module):
    """y = U (V x), no biases (§3: any bias gives >= 525,312 at 1024). up_bias=True is
    BENCHMARKS.md's PyTorch module, kept only to show where 525,312 comes from."""

    def __init__(self, d_in=1024, d_out=1024, rank=256, up_bias=False):
        super().__init__()
        self.down = nn.Linear(d_in, rank, bias=False)   # V (r, in)
        self.up = nn.Linear(rank, d_out, bias=up_bias)  # U (out, r)

    def forward(self, x):
        return self.up(self.down(x))


class MLP(nn.Module):
    """y = W2 GELU(W1 x + b1) + b2, exact-erf GELU, hidden 2048 at the study width."""

    def __init__(self, d_in=1024, d_out=1024, hidden=2048):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))            # approximate='none' is the default


class Gated(nn.Module):
    """y = sigmoid(Wg x + bg) * (Wv x + bv), two Linears with biases."""

    def __init__(self, d_in=1024, d_out=1024):
        super().__init__()
        self.gate = nn.Linear(d_in, d_out)
        self.value = nn.Linear(d_in, d_out)

    def forward(self, x):
        return torch.sigmoid(self.gate(x)) * self.value(x)


class LoRA(nn.Module):
    """y = W0 x + b0 + (alpha / r) B (A x); W0, b0 frozen; A Kaiming-uniform, B = 0, base
    the identity with zero bias (§3, §4.5; torch.eye(out, in) when the widths differ)."""

    def __init__(self, d_in=1024, d_out=1024, rank=8, alpha=16.0):
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.lora_A = nn.Linear(d_in, rank, bias=False)   # A (r, in)
        self.lora_B = nn.Linear(rank, d_out, bias=False)  # B (out, r)
        self.scale = alpha / rank
        with torch.no_grad():
            nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B.weight)
            self.base.weight.copy_(torch.eye(d_out, d_in))
            self.base.bias.zero_()
        self.base.weight.requires_grad_(False)
        self.base.bias.requires_grad_(False)

    def forward(self, x):
        return self.base(x) + self.scale * self.lora_B(self.lora_A(x))

    def merged_weight(self):
        return self.base.weight + self.scale * self.lora_B.weight @ self.lora_A.weight


def build(name, d_in=1024, d_out=1024, rank=None, hidden=2048, alpha=16.0):
    """The study module for a VisionBench name ("proj-linear", ...)."""
    if name == "proj-linear":
        return Linear(d_in, d_out)
    if name == "proj-lowrank":
        return LowRank(d_in, d_out, 256 if rank is None else rank)
    if name == "proj-mlp":
        return MLP(d_in, d_out, hidden)
    if name == "proj-gated":
        return Gated(d_in, d_out)
    if name == "proj-lora":
        return LoRA(d_in, d_out, 8 if rank is None else rank, alpha)
    raise ValueError(name)


NAMES = ["proj-linear", "proj-lowrank", "proj-mlp", "proj-gated", "proj-lora"]

# §3 table: total params, trainable params, MACs per token (weights only; LoRA unmerged)
STUDY = {
    "proj-linear": (1049600, 1049600, 1048576),
    "proj-lowrank": (524288, 524288, 524288),
    "proj-mlp": (4197376, 4197376, 4194304),
    "proj-gated": (2099200, 2099200, 2097152),
    "proj-lora": (1065984, 16384, 1064960),
}


def count(m):
    total = sum(p.numel() for p in m.parameters())
    return total, sum(p.numel() for p in m.parameters() if p.requires_grad)


def macs_per_token(m):
    """Weight MACs of every Linear the forward runs (bias adds excluded, §3.1)."""
    return sum(mod.in_features * mod.out_features
               for mod in m.modules() if isinstance(mod, nn.Linear))


def selfcheck():
    torch.manual_seed(0)
    for name in NAMES:
        m = build(name)
        total, trainable = count(m)
        macs = macs_per_token(m)
        assert (total, trainable, macs) == STUDY[name], (name, total, trainable, macs)
        print(f"{name:13s} params {total:>9,} trainable {trainable:>9,} MACs/token {macs:>9,}")
    # §3.1 / §5: BENCHMARKS.md's LowRank with a bias on U, and a rank-256 LoRA
    assert count(LowRank(up_bias=True))[0] == 525312
    assert count(LoRA(rank=256))[0] == 1573888
    # LoRA starts as its base (B = 0) and the merged weight gives the same output
    lora = LoRA(24, 16, 4, 6.0)
    x = torch.randn(5, 24)
    assert torch.equal(lora(x), lora.base(x))
    with torch.no_grad():
        lora.lora_B.weight.normal_()
    y = lora(x)
    ym = F.linear(x, lora.merged_weight(), lora.base.bias)
    assert torch.allclose(y, ym, rtol=1e-5, atol=1e-5)
    print("self-checks passed")


if __name__ == "__main__":
    selfcheck()
