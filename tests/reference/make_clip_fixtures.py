"""make_clip_fixtures.py: the golden CLIP fixture for the C engine's tests.

Runs the clip_ref self-checks, then for a tiny tower (2 layers, width 24, 3 heads, MLP 96,
42 px images of 14 px patches → 9 patch tokens + CLS) writes tests/data/clip/tiny.safetensors:

  - every `vision_model.*` weight under its Hugging Face name (random, F32), plus what a
    full CLIPModel file carries beside them: `vision_model.embeddings.position_ids` (I64),
    `visual_projection.weight`, a text-tower tensor and `logit_scale` (the loader must skip
    or ignore those);
  - `pixel_values` (2, 3, 42, 42): the CLIP preprocessing of two synthetic images (one
    up-sampled, one grey and down-sampled 2.7×, so the antialiased path runs);
  - `hidden_states.K` (2, 10, 24) for K = 0 … 2, `features` (2, 9, 24) = LLaVA's
    hidden_states[-2] patch tokens, `pooled` (2, 24) = post_layernorm of the last CLS;
  - `preprocess.pad` (3, 28, 28): LLaVA-1.5's pad-to-square then preprocessing at 28 px.

Outputs are computed in float64 from the F32 weights and inputs. Written by hand (the
safetensors package is not installed).

  /usr/bin/python3 tests/reference/make_clip_fixtures.py [--out DIR] [--skip-selftest]
"""
import argparse
import copy
import json
import os
import struct
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref as ref  # noqa: E402

TINY = dict(image_size=42, patch_size=14, width=24, layers=2, heads=3, mlp=96, in_chans=3,
            eps=1e-5)
WEIGHT_SEED = 20240801
PROJ_DIM = 16
# synthetic images (width, height, channels, salt) fed through the preprocessing
IMAGES = [(30, 37, 3, 1), (150, 113, 1, 2)]
PAD_IMAGE, PAD_SIZE = (19, 11, 3, 3), 28


def build():
    """Default PyTorch init, then moved off trivial values: LN affine and biases get
    noise, the class and position embeddings become O(1), and q/k grow 3× so the
    attention is far from uniform."""
    torch.manual_seed(WEIGHT_SEED)
    m = ref.CLIPVisionRef(TINY)
    g = torch.Generator().manual_seed(WEIGHT_SEED + 1)
    with torch.no_grad():
        for name, p in m.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if name.endswith("class_embedding"):
                p.copy_(r)
            elif "position_embedding" in name:
                p.copy_(0.5 * r)
            elif "norm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.2 * r)
            elif name.endswith(".bias"):
                p.copy_(0.1 * r)
            elif "q_proj" in name or "k_proj" in name:
                p.mul_(3.0)
    return m


def compute(m32, x32):
    m = copy.deepcopy(m32).double().eval()
    with torch.no_grad():
        hidden, pooled = m(x32.double())
    return hidden, pooled


# ---------------------------------------------------------------------------
# safetensors, by hand (F32, plus I64 for position_ids)

DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata):
    names = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((k, str(v)) for k, v in metadata.items())
    blobs, off = [], 0
    for n in names:
        t = tensors[n].detach().contiguous()
        code, np_dtype = DTYPES[t.dtype]
        data = t.numpy().astype(np_dtype).tobytes()
        header[n] = OrderedDict(dtype=code, shape=list(t.shape),
                                data_offsets=[off, off + len(data)])
        blobs.append(data)
        off += len(data)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)
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
    out = {}
    for name, e in header.items():
        np_dtype = {"F32": "<f4", "I64": "<i8"}[e["dtype"]]
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[8 + n + b:8 + n + end], dtype=np_dtype).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "clip"))
    ap.add_argument("--skip-selftest", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)

    if not args.skip_selftest:
        ref.selftest()

    pixels = torch.stack([ref.preprocess(ref.synthetic_image(*spec), TINY["image_size"])
                          for spec in IMAGES])
    pad = ref.preprocess(ref.pad_to_square(ref.synthetic_image(*PAD_IMAGE)), PAD_SIZE)

    m32 = build()
    hidden, pooled = compute(m32, pixels)
    with torch.no_grad():
        hidden32, pooled32 = m32(pixels)
    worst = max(((a.double() - b).norm() / b.norm()).item()
                for a, b in zip(hidden32 + (pooled32,), hidden + (pooled,)))
    print(f"float32 run of the reference vs float64: worst {worst:.1e}")
    assert worst < 1e-5

    # the attention must not be uniform, or a head-slicing bug could pass
    with torch.no_grad():
        mm = copy.deepcopy(m32).double()
        a = mm.vision_model.encoder.layers[0].self_attn
        h0 = mm.vision_model.encoder.layers[0].layer_norm1(hidden[0])
        q = a.q_proj(h0).reshape(2, -1, 3, 8).transpose(1, 2)
        k = a.k_proj(h0).reshape(2, -1, 3, 8).transpose(1, 2)
        p = torch.softmax(q @ k.transpose(-1, -2) * a.scale, dim=-1)
        print(f"layer 0 attention: max weight {p.max().item():.3f}, "
              f"min {p.min().item():.2e} (uniform would be 0.1)")
        assert p.max() > 0.5

    N = (TINY["image_size"] // TINY["patch_size"]) ** 2 + 1
    tensors = OrderedDict((k, v.detach().clone()) for k, v in m32.state_dict().items())
    assert len(tensors) == 7 + 16 * TINY["layers"]
    nparam = sum(v.numel() for v in tensors.values())
    assert nparam == ref.param_count(TINY), (nparam, ref.param_count(TINY))
    g = torch.Generator().manual_seed(WEIGHT_SEED + 2)
    tensors["vision_model.embeddings.position_ids"] = torch.arange(N, dtype=torch.int64)[None]
    tensors["visual_projection.weight"] = torch.randn(PROJ_DIM, TINY["width"], generator=g)
    tensors["text_model.embeddings.token_embedding.weight"] = torch.randn(8, 16, generator=g)
    tensors["logit_scale"] = torch.tensor(4.6052)
    tensors["pixel_values"] = pixels
    for i, h in enumerate(hidden):
        tensors[f"hidden_states.{i}"] = h.float()
    tensors["features"] = ref.llava_features(hidden).float()
    tensors["pooled"] = pooled.float()
    tensors["preprocess.pad"] = pad

    def spec(s):
        return ",".join(str(v) for v in s)

    meta = OrderedDict(
        image_size=TINY["image_size"], patch_size=TINY["patch_size"], width=TINY["width"],
        layers=TINY["layers"], heads=TINY["heads"], mlp=TINY["mlp"], eps=TINY["eps"],
        params=nparam, batch=len(IMAGES),
        images=";".join(spec(s) for s in IMAGES),
        pad_image=spec(PAD_IMAGE), pad_size=PAD_SIZE,
        layout="NCHW", generator="tests/reference/make_clip_fixtures.py")
    path = os.path.join(args.out, "tiny.safetensors")
    write_safetensors(path, tensors, meta)

    back, meta_back = read_safetensors(path)
    assert sorted(back) == sorted(tensors) and meta_back["heads"] == "3"
    for k, v in tensors.items():
        assert torch.equal(back[k], v), k
    print(f"tiny.safetensors: {nparam:,} parameters, {len(tensors)} tensors, "
          f"{os.path.getsize(path):,} bytes; pooled[0, :3] {pooled[0, :3].tolist()}")
    assert os.path.getsize(path) < 200_000


if __name__ == "__main__":
    main()
