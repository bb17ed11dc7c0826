#!/usr/bin/python3
"""make_projector_fixtures.py: golden fixtures for tests/engine/test-projector.c.

Each projector of projectors_ref.py at a small width (in 24 -> out 16, rank 4, MLP
hidden 32, LoRA alpha 6 so alpha/r = 1.5 is not a power of two) on 5 tokens. Weights
and input are drawn in float32; output, parameter gradients and input gradient are then
computed in float64 from those float32 values, for loss = sum(dy * y) with a drawn dy.
LoRA's B is drawn non-zero and its base is random, so every gradient path is non-trivial
(the study initialisation, B = 0 and an identity base, is checked in the C test).

Everything goes into one safetensors file, written by hand (the safetensors package may
be missing): tests/data/projectors/tiny.safetensors, keys "<name>/<tensor>",
"<name>/x", "<name>/y", "<name>/dy", "<name>/dx", "<name>/grad/<tensor>". The header's
__metadata__ carries a magic, a version and the shapes.

  /usr/bin/python3 tests/reference/make_projector_fixtures.py [--out FILE]
"""
import argparse
import copy
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import projectors_ref as ref  # noqa: E402

MAGIC = "vb-projector-fixture"
VERSION = "1"
D_IN, D_OUT, RANK, HIDDEN, ALPHA, TOKENS = 24, 16, 4, 32, 6.0, 5
SEED = 20250611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "projectors",
                   "tiny.safetensors")


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> float32 tensor; sorted by name, 8-byte aligned data."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        raw = tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-8 - len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make(name, gen):
    m = ref.build(name, D_IN, D_OUT, rank=RANK, hidden=HIDDEN, alpha=ALPHA)
    with torch.no_grad():
        for key, p in m.named_parameters():
            if name == "proj-lora" and not key.startswith("lora_A"):
                # B and the base off their init values; scale ~ 1/sqrt(fan_in)
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)
    x = torch.randn(TOKENS, D_IN, generator=gen)
    dy = torch.randn(TOKENS, D_OUT, generator=gen)

    out = {f"{name}/{k}": v.detach().clone() for k, v in m.state_dict().items()}
    out[f"{name}/x"] = x
    out[f"{name}/dy"] = dy

    m64 = m.double()
    x64 = x.double().requires_grad_(True)
    y64 = m64(x64)
    y64.backward(dy.double())
    out[f"{name}/y"] = y64.detach()
    out[f"{name}/dx"] = x64.grad.clone()
    for k, p in m64.named_parameters():
        if p.requires_grad:                # LoRA's frozen base has no gradient
            out[f"{name}/grad/{k}"] = p.grad.clone()

    # a float32 run must agree with the float64 answer to well under the C tolerance
    m32 = copy.deepcopy(m64).float()      # .float() converts grads in place: copy first
    m32.zero_grad()
    x32 = x.clone().requires_grad_(True)
    y32 = m32(x32)
    y32.backward(dy)
    err = ((y32.double() - y64).norm() / y64.norm()).item()
    assert err < 1e-6, (name, err)
    for k, p in m32.named_parameters():
        if p.requires_grad:
            g = out[f"{name}/grad/{k}"]
            gerr = ((p.grad.double() - g).norm() / g.norm()).item()
            assert gerr < 1e-5, (name, k, gerr)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ref.selfcheck()
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)                # nn.Linear's own init draws from the global one
    tensors = {}
    for name in ref.NAMES:
        tensors.update(make(name, gen))
    meta = {"magic": MAGIC, "version": VERSION, "in": str(D_IN), "out": str(D_OUT),
            "rank": str(RANK), "hidden": str(HIDDEN), "alpha": str(ALPHA),
            "tokens": str(TOKENS), "loss": "sum(dy * y)",
            "names": ",".join(ref.NAMES)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, meta)
    print(f"wrote {args.out}: {len(tensors)} tensors, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
