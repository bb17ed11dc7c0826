"""make_vmamba_fixtures.py: golden VMamba fixtures for the C engine's tests.

Runs the vmamba_ref self-checks, then for a tiny configuration and every scan mode
computes, in float64 from F32-rounded weights and input: logits, the label-smoothed
mean cross-entropy, and the gradient of the loss w.r.t. every parameter and the
input. Writes tests/data/vmamba/*.safetensors (by hand: the safetensors package is
not installed) and tiny-4dir-official.pth (the official training checkpoint layout).

  /usr/bin/python3 tests/reference/make_vmamba_fixtures.py [--out DIR] [--skip-selftest]
"""
import argparse
import copy
import json
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmamba_ref as ref  # noqa: E402

# dims 8 with four stages is ~91k parameters (~730 KB per file with gradients), so the
# fixtures use three stages: 26k parameters, ~210 KB per file. The engine accepts 1-4.
TINY = dict(dims=8, depths=(1, 2, 1), num_classes=10)
IMG_B, IMG_H, IMG_W = 2, 24, 32          # non-square: stage maps 6x8, 3x4, 2x2
LABELS = (3, 7)
SMOOTHING = 0.1
WEIGHT_SEED = 20240716
INPUT_SEED = 7

FILES = [  # (file stem, scan mode, d_state)
    ("tiny-4dir", "4dir", 1),
    ("tiny-2dir", "2dir", 1),
    ("tiny-1dir", "1dir", 1),
    ("tiny-lean2dir", "lean2dir", 1),
    ("tiny-d2", "4dir", 2),
]


def perturb_(model, seed):
    """Move the official init (§6) off its trivial values so every gradient path is
    exercised: A_logs, Ds, LN affine, biases get noise; dt biases are redrawn as
    N(-1, 1) so the step sizes are O(1) and x_proj grows 4x, so the scan state (and
    hence the route) matters next to the D skip; the 1x1 linears and head scale up
    from std 0.02 to 0.2 so the branches matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if name.endswith("A_logs") or name.endswith("Ds"):
                p.add_(0.2 * r)
            elif name.endswith("dt_projs_bias"):
                p.copy_(r - 1.0)                    # softplus ~ 0.05..1.3: short memory
            elif "x_proj" in name:
                p.mul_(4.0)                         # B, C large enough that h matters
            elif name.endswith(".bias"):
                p.add_(0.1 * r)
            elif p.dim() == 1:                      # LayerNorm weights
                p.add_(0.2 * r)
            elif p.dim() == 2 and "x_proj" not in name and "dt_projs" not in name:
                p.mul_(10.0)                        # in_proj, out_proj, fc1, fc2, head


def build(mode, d_state):
    torch.manual_seed(WEIGHT_SEED)
    m = ref.VSSM(TINY["dims"], TINY["depths"], TINY["num_classes"], d_state=d_state,
                 mode=mode, drop_path_rate=0.0)
    perturb_(m, WEIGHT_SEED + 1)
    return m                                        # float32: these values are the fixture


def make_input():
    g = torch.Generator().manual_seed(INPUT_SEED)
    x = torch.randn(IMG_B, 3, IMG_H, IMG_W, generator=g)
    return x, torch.tensor(LABELS, dtype=torch.long)


def compute(m32, x32, labels):
    """float64 forward/backward from exactly the F32 values."""
    m = copy.deepcopy(m32).double().train()   # drop path is 0: deterministic
    x = x32.double().requires_grad_(True)
    logits = m(x)
    loss = ref.smoothed_cross_entropy(logits, labels, SMOOTHING)
    alt = F.cross_entropy(logits, labels, label_smoothing=SMOOTHING)
    assert abs(loss.item() - alt.item()) < 1e-12, (loss.item(), alt.item())
    loss.backward()
    out = OrderedDict()
    out["logits"] = logits.detach()
    out["loss"] = loss.detach().reshape(1)
    out["grad.input"] = x.grad
    for name, p in m.named_parameters():
        out["grad." + name] = p.grad
    return out


def fp32_headroom(m32, x32, labels, res):
    """Worst per-tensor ||a-b||/||b|| of the same reference run in float32: what a
    correct fp32 engine can be expected to reach (the tests allow 1e-4)."""
    m = copy.deepcopy(m32).train()
    x = x32.clone().requires_grad_(True)
    loss = ref.smoothed_cross_entropy(m(x), labels, SMOOTHING)
    loss.backward()
    got = {"grad." + n: p.grad for n, p in m.named_parameters()}
    got["grad.input"] = x.grad
    return max((((got[k].double() - res[k]).norm() / res[k].norm()).item(), k) for k in got)


# ---------------------------------------------------------------------------
# safetensors, by hand

def write_safetensors(path, tensors, metadata):
    names = sorted(tensors)
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((k, str(v)) for k, v in metadata.items())
    blobs, off = [], 0
    for n in names:
        t = tensors[n].detach().to(torch.float32).contiguous()
        data = t.numpy().astype("<f4").tobytes()
        header[n] = OrderedDict(dtype="F32", shape=list(t.shape),
                                data_offsets=[off, off + len(data)])
        blobs.append(data)
        off += len(data)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)                   # pad so the data starts 8-aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[base + b:base + end], dtype="<f4").reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "vmamba"))
    ap.add_argument("--skip-selftest", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)

    if not args.skip_selftest:
        ref.selftest()

    x32, labels = make_input()
    results = {}
    for stem, mode, d_state in FILES:
        m32 = build(mode, d_state)
        sd = OrderedDict((k, v.detach().clone()) for k, v in m32.state_dict().items())
        res = compute(m32, x32, labels)
        assert set("grad." + k for k in sd) | {"grad.input"} == \
            {k for k in res if k.startswith("grad.")}
        tensors = OrderedDict(sd)
        tensors["input"] = x32
        tensors["labels"] = labels.to(torch.float32)
        tensors.update(res)
        meta = OrderedDict(
            dims=TINY["dims"], depths=",".join(str(d) for d in TINY["depths"]),
            d_state=d_state, scan=mode, num_classes=TINY["num_classes"],
            img_h=IMG_H, img_w=IMG_W, label_smoothing=SMOOTHING, batch=IMG_B,
            ssm_ratio=1, dt_rank="auto", drop_path=0, layout="NCHW",
            generator="tests/reference/make_vmamba_fixtures.py")
        path = os.path.join(args.out, stem + ".safetensors")
        write_safetensors(path, tensors, meta)

        back, meta_back = read_safetensors(path)
        assert list(back) == sorted(tensors) and meta_back["scan"] == mode
        for k, v in tensors.items():
            assert torch.equal(back[k], v.detach().float()), k
        nparam = sum(v.numel() for v in sd.values())
        gnorm = min(res["grad." + k].norm().item() for k in sd)
        print(f"{stem}: {nparam:,} params, loss {res['loss'].item():.6f}, "
              f"logits[0,:3] {res['logits'][0, :3].tolist()}, "
              f"smallest grad norm {gnorm:.2e}, {os.path.getsize(path):,} bytes")
        assert gnorm > 0
        worst, wname = fp32_headroom(m32, x32, labels, res)
        print(f"  float32 run of the reference vs float64: worst {worst:.1e} ({wname})")
        assert worst < 1e-5
        results[stem] = (sd, res)

    # modes with identical weights must give different answers (the routes matter)
    l4 = results["tiny-4dir"][1]["logits"]
    for other in ("tiny-2dir", "tiny-1dir"):
        assert torch.equal(results["tiny-4dir"][0]["layers.0.blocks.0.op.A_logs"],
                           results[other][0]["layers.0.blocks.0.op.A_logs"])
        d = (results[other][1]["logits"] - l4).abs().max().item()
        print(f"max |logits 4dir - {other}| = {d:.3e}")
        assert d > 1e-3

    # official training-checkpoint layout (clip-projectors.md §7.4); model_ema shares
    # the tensors (same values), so the storages are written once
    sd = results["tiny-4dir"][0]
    ckpt = {
        "model": OrderedDict(("module." + k, v) for k, v in sd.items()),
        "model_ema": OrderedDict(sd),
        "optimizer": {"state": {}, "param_groups": [
            {"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1]}]},
        "epoch": 3,
        "max_accuracy": 12.5,
    }
    pth = os.path.join(args.out, "tiny-4dir-official.pth")
    torch.save(ckpt, pth)
    back = torch.load(pth)
    for k, v in sd.items():
        assert torch.equal(back["model"]["module." + k], v)
        assert torch.equal(back["model_ema"][k], v)
    print(f"tiny-4dir-official.pth: {os.path.getsize(pth):,} bytes")


if __name__ == "__main__":
    main()
