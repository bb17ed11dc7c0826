"""clip_ref.py: a plain-PyTorch CLIP vision tower and CLIP preprocessing, written from
shared/specs/clip-projectors.md §1 (not importing transformers, which is not installed).

Module and parameter names are the Hugging Face ones (§1.2): the state dict of
`CLIPVisionRef` has exactly the `vision_model.*` keys of an HF `CLIPModel` file, so a
safetensors file written from it loads into the engine by name.

The preprocessing (§1.5) re-implements Pillow's bicubic resize of 8-bit images
(src/libImaging/Resample.c: a = -0.5, support widened by the scale when shrinking,
coefficients in 22-bit fixed point, horizontal pass then vertical pass, each rounded to
8 bits), then centre crop, 1/255 scaling and the CLIP mean/std in float32 as
CLIPImageProcessor does.

  /usr/bin/python3 tests/reference/clip_ref.py        # self-checks only
"""
import math

import torch
import torch.nn as nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def vit_l14(image_size=224):
    """The published ViT-L/14 configuration (§1.1)."""
    return dict(image_size=image_size, patch_size=14, width=1024, layers=24, heads=16,
                mlp=4096, in_chans=3, eps=1e-5)


class Embeddings(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        D, P = c["width"], c["patch_size"]
        G = c["image_size"] // P
        self.patch_size = P
        self.class_embedding = nn.Parameter(torch.empty(D, device=device))
        self.patch_embedding = nn.Conv2d(c["in_chans"], D, P, stride=P, bias=False,
                                         device=device)
        self.position_embedding = nn.Embedding(G * G + 1, D, device=device)

    def forward(self, pixels):
        B = pixels.shape[0]
        patches = self.patch_embedding(pixels)                 # (B, D, G, G)
        patches = patches.flatten(2).transpose(1, 2)          # (B, G², D), row-major grid
        cls = self.class_embedding.to(patches.dtype).expand(B, 1, -1)
        x = torch.cat([cls, patches], dim=1)
        return x + self.position_embedding.weight.to(x.dtype)[None]


class Attention(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        D = c["width"]
        self.heads = c["heads"]
        self.scale = (D // self.heads) ** -0.5
        self.q_proj = nn.Linear(D, D, device=device)
        self.k_proj = nn.Linear(D, D, device=device)
        self.v_proj = nn.Linear(D, D, device=device)
        self.out_proj = nn.Linear(D, D, device=device)

    def forward(self, x):
        B, N, D = x.shape
        H = self.heads

        def split(t):
            return t.reshape(B, N, H, D // H).transpose(1, 2)  # (B, H, N, dh)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = (q @ k.transpose(-1, -2)) * self.scale       # no mask
        p = torch.softmax(scores, dim=-1)                      # max-subtracted in torch
        o = (p @ v).transpose(1, 2).reshape(B, N, D)           # head-major features
        return self.out_proj(o)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Mlp(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        self.fc1 = nn.Linear(c["width"], c["mlp"], device=device)
        self.fc2 = nn.Linear(c["mlp"], c["width"], device=device)

    def forward(self, x):
        return self.fc2(quick_gelu(self.fc1(x)))


class Layer(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        D, eps = c["width"], c["eps"]
        self.layer_norm1 = nn.LayerNorm(D, eps=eps, device=device)
        self.self_attn = Attention(c, device)
        self.layer_norm2 = nn.LayerNorm(D, eps=eps, device=device)
        self.mlp = Mlp(c, device)

    def forward(self, h):
        h = h + self.self_attn(self.layer_norm1(h))
        return h + self.mlp(self.layer_norm2(h))


class Encoder(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        self.layers = nn.ModuleList([Layer(c, device) for _ in range(c["layers"])])


class VisionTransformer(nn.Module):
    def __init__(self, c, device=None):
        super().__init__()
        D = c["width"]
        self.embeddings = Embeddings(c, device)
        self.pre_layrnorm = nn.LayerNorm(D, eps=c["eps"], device=device)   # sic (§1.2)
        self.encoder = Encoder(c, device)
        self.post_layernorm = nn.LayerNorm(D, eps=c["eps"], device=device)

    def forward(self, pixels):
        """hidden_states tuple (§1.4): [0] after pre_layrnorm, [k] after layer k-1;
        last_hidden_state = hidden_states[-1] without post-LN; pooled = post-LN(CLS)."""
        h = self.pre_layrnorm(self.embeddings(pixels))
        hidden = [h]
        for layer in self.encoder.layers:
            h = layer(h)
            hidden.append(h)
        pooled = self.post_layernorm(h[:, 0])
        return tuple(hidden), pooled


class CLIPVisionRef(nn.Module):
    """Holds the tower under `vision_model` so state-dict keys carry the HF prefix."""

    def __init__(self, c, device=None):
        super().__init__()
        self.config = dict(c)
        self.vision_model = VisionTransformer(c, device)

    def forward(self, pixels):
        return self.vision_model(pixels)


def llava_features(hidden_states, select_layer=-2):
    """LLaVA's projector input (§1.4): hidden_states[-2], patch tokens only."""
    return hidden_states[select_layer][:, 1:]


# ---------------------------------------------------------------------------
# counts (§1.2, §1.7)

def param_count(c):
    D, F, P, C = c["width"], c["mlp"], c["patch_size"], c["in_chans"]
    G = c["image_size"] // P
    per_layer = 4 * (D * D + D) + 4 * D + (F * D + F) + (D * F + D)
    return c["layers"] * per_layer + D * C * P * P + D + (G * G + 1) * D + 4 * D


def macs(c, n_layers=None):
    """Matrix-product multiply-adds per image: patch conv + layers × (QKV+O, scores,
    attention·V, MLP)."""
    D, F, P, C = c["width"], c["mlp"], c["patch_size"], c["in_chans"]
    G = c["image_size"] // P
    N = G * G + 1
    L = c["layers"] if n_layers is None else n_layers
    return G * G * D * C * P * P + L * (4 * N * D * D + 2 * N * D * F + 2 * N * N * D)


# ---------------------------------------------------------------------------
# preprocessing (§1.5): Pillow's 8-bit bicubic resample, re-implemented

PRECISION_BITS = 32 - 8 - 2


def _bicubic(x):
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def _coeffs(in_size, out_size):
    """Per output pixel: first input index and fixed-point weights (Resample.c's
    precompute_coeffs + normalize_coeffs_8bpc, in doubles as there)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    out = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        ss = 1.0 / filterscale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        w = [_bicubic((x + xmin - center + 0.5) * ss) for x in range(xmax)]
        ww = sum_in_order(w)
        if ww != 0.0:
            w = [v / ww for v in w]
        k = [int(-0.5 + v * (1 << PRECISION_BITS)) if v < 0
             else int(0.5 + v * (1 << PRECISION_BITS)) for v in w]
        out.append((xmin, k))
    return out


def sum_in_order(values):
    s = 0.0
    for v in values:
        s += v
    return s


def _clip8(acc):
    return min(max(acc >> PRECISION_BITS, 0), 255)


def resize_bicubic_u8(img, out_w, out_h):
    """img: uint8 tensor (H, W, C). Horizontal pass, then vertical, each rounded to
    8 bits; an axis whose size does not change is not resampled (as Pillow)."""
    H, W, C = img.shape
    src = img.to(torch.int64).tolist()
    if out_w != W:
        cx = _coeffs(W, out_w)
        src = [[[_clip8((1 << (PRECISION_BITS - 1))
                        + sum(row[xmin + i][c] * k[i] for i in range(len(k))))
                 for c in range(C)] for xmin, k in cx] for row in src]
    if out_h != H:
        cy = _coeffs(H, out_h)
        src = [[[_clip8((1 << (PRECISION_BITS - 1))
                        + sum(src[ymin + i][x][c] * k[i] for i in range(len(k))))
                 for c in range(C)] for x in range(out_w)] for ymin, k in cy]
    return torch.tensor(src, dtype=torch.uint8)


def pad_to_square(img):
    """LLaVA-1.5 `pad`: centred on a square of the long side, background
    floor(255·mean) = (122, 116, 104)."""
    H, W, C = img.shape
    if H == W:
        return img
    S = max(H, W)
    bg = torch.tensor([int(255 * m) for m in CLIP_MEAN], dtype=torch.uint8)
    out = bg.expand(S, S, 3).clone()
    top, left = (S - H) // 2, (S - W) // 2
    out[top:top + H, left:left + W] = img
    return out


def preprocess(img, size):
    """img: uint8 (H, W, C), C = 1 or 3 → float32 (3, size, size)."""
    if img.shape[2] == 1:
        img = img.expand(-1, -1, 3)
    H, W, _ = img.shape
    if W <= H:
        new_w, new_h = size, int(size * H / W)
    else:
        new_h, new_w = size, int(size * W / H)
    r = resize_bicubic_u8(img, new_w, new_h)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    r = r[top:top + size, left:left + size]
    # CLIPImageProcessor: rescale in float64 then float32, normalise in float32
    x = (r.to(torch.float64) * (1 / 255)).to(torch.float32)
    mean = torch.tensor(CLIP_MEAN, dtype=torch.float32)
    std = torch.tensor(CLIP_STD, dtype=torch.float32)
    x = (x - mean) / std
    return x.permute(2, 0, 1).contiguous()


def synthetic_image(width, height, channels, salt=0):
    """A deterministic 8-bit test pattern (the C test computes the same): smooth ramps
    plus a hash-like term so the resampler sees edges."""
    img = torch.empty(height, width, channels, dtype=torch.uint8)
    for y in range(height):
        for x in range(width):
            for c in range(channels):
                v = (x * 7 + y * 3 + c * 50 + salt * 11 + ((x * y + c + salt) % 13) * 9) % 256
                img[y, x, c] = v
    return img


def _weight_matrix(in_size, out_size):
    """The real-valued weights of _coeffs as an (out, in) matrix (before fixed point)."""
    scale = in_size / out_size
    fs = max(scale, 1.0)
    m = torch.zeros(out_size, in_size, dtype=torch.float64)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - 2.0 * fs + 0.5), 0)
        xmax = min(int(center + 2.0 * fs + 0.5), in_size) - xmin
        w = [_bicubic((x + xmin - center + 0.5) / fs) for x in range(xmax)]
        total = sum_in_order(w)
        for i, v in enumerate(w):
            m[xx, xmin + i] = v / total
    return m


def check_against_torch_antialias():
    """An independent check of the filter geometry (support, centres, normalisation):
    torch's antialiased bicubic follows Pillow's filter in floating point, without the
    8-bit rounding and clamping between passes. Pillow itself is not installed."""
    import torch.nn.functional as F
    for spec, (w, h) in (((30, 37, 3, 1), (42, 51)), ((150, 113, 1, 2), (55, 42)),
                         ((64, 48, 3, 5), (17, 13))):
        img = synthetic_image(*spec).to(torch.float64)
        ours = torch.einsum("yh,hwc,xw->yxc", _weight_matrix(img.shape[0], h), img,
                            _weight_matrix(img.shape[1], w))
        theirs = F.interpolate(img.permute(2, 0, 1)[None], size=(h, w), mode="bicubic",
                               antialias=True, align_corners=False)[0].permute(1, 2, 0)
        assert (ours - theirs).abs().max() < 1e-9, spec
        # the 8-bit path differs only by rounding (and clamping of overshoot between passes)
        u8 = resize_bicubic_u8(synthetic_image(*spec), w, h).to(torch.float64)
        assert (u8 - theirs.round().clamp(0, 255)).abs().mean() < 0.5, spec


# ---------------------------------------------------------------------------

def selftest():
    for size, want_params, want_macs, want_llava in (
            (224, 303_179_776, 81_011_982_336, 77_642_905_600),
            (336, 303_507_456, 190_959_108_096, 183_016_929_280)):
        c = vit_l14(size)
        m = CLIPVisionRef(c, device="meta")
        n = sum(p.numel() for p in m.parameters())
        print(f"ViT-L/14 @ {size}: {n:,} parameters, {len(m.state_dict())} tensors, "
              f"{macs(c):,} MACs ({macs(c, c['layers'] - 1):,} on the LLaVA path)")
        assert n == want_params == param_count(c), (n, want_params)
        assert len(m.state_dict()) == 391
        assert macs(c) == want_macs and macs(c, c["layers"] - 1) == want_llava

    # the spec's per-layer figures at 224 px
    c = vit_l14(224)
    N, D = 257, 1024
    assert 4 * N * D * D == 1_077_936_128 and 2 * N * N * D == 135_268_352
    assert 2 * N * D * 4096 == 2_155_872_256

    # bicubic: an identity-size resize is a copy, a constant image stays constant
    img = synthetic_image(9, 7, 3)
    assert torch.equal(resize_bicubic_u8(img, 9, 7), img)
    flat = torch.full((5, 6, 3), 77, dtype=torch.uint8)
    assert torch.all(resize_bicubic_u8(flat, 13, 11) == 77)
    assert torch.all(resize_bicubic_u8(flat, 3, 2) == 77)
    # 2x down-sample of a two-pixel-period stripe pattern averages it (antialiasing)
    stripes = torch.tensor([[[0], [255]] * 8] * 4, dtype=torch.uint8)   # (4, 16, 1)
    half = resize_bicubic_u8(stripes, 8, 4)
    assert half.min() >= 100 and half.max() <= 155, half
    assert pad_to_square(torch.zeros(2, 4, 3, dtype=torch.uint8))[0, 0].tolist() == [122, 116, 104]
    check_against_torch_antialias()
    print("clip_ref self-checks passed")


if __name__ == "__main__":
    selftest()
