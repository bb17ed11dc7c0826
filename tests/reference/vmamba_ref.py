"""vmamba_ref.py: independent plain-PyTorch VMamba (SS2D, forward types v05_noz,
v052d_noz, v051d_noz and the VisionBench lean 2-dir K = 2 option).

Written from shared/specs/vmamba.md (§1-§3, §5, §6, §10, §12), not from upstream
code. NCHW like the official model; LayerNorm2d normalises over channels per pixel;
every "linear" is a 1x1 product with its weight stored 2-D (out, in); parameter
names and shapes are the official state-dict keys (§12.2). The selective scan is a
plain sequential loop over L: slow, but obviously right, and exact in float64.

Runs on Debian's /usr/bin/python3 with torch 1.13 (CPU). `python3 vmamba_ref.py`
runs the self-checks (parameter counts, index maps, gradcheck, §5.1 backward).
"""
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

SCAN_MODES = ("4dir", "2dir", "1dir", "lean2dir")


def scan_groups(mode):
    """K, the number of scan parameter groups (§3.1)."""
    return 2 if mode == "lean2dir" else 4


# ---------------------------------------------------------------------------
# Index maps (§3.2): g(l) = flat pixel index read at sequence position l.

def _route(name, H, W):
    L = H * W
    l = torch.arange(L)
    if name == "row-fwd":
        return l
    if name == "row-rev":
        return L - 1 - l
    col = (l % H) * W + (l // H)          # transpose route: (h, w) <-> l = w*H + h
    if name == "col-fwd":
        return col
    if name == "col-rev":
        return col[L - 1 - l]
    raise ValueError(name)


ROUTES = {
    "4dir": ("row-fwd", "col-fwd", "row-rev", "col-rev"),
    "2dir": ("row-fwd", "row-fwd", "row-rev", "row-rev"),
    "1dir": ("row-fwd", "row-fwd", "row-fwd", "row-fwd"),
    "lean2dir": ("row-fwd", "row-rev"),
}


def gather_maps(mode, H, W):
    """(K, L) long tensor; row k is g_k."""
    return torch.stack([_route(r, H, W) for r in ROUTES[mode]])


def cross_scan(u, mode):
    """u (B, D, H, W) -> xs (B, K, D, L), xs[:, k, :, l] = u_flat[:, :, g_k(l)]."""
    B, D, H, W = u.shape
    g = gather_maps(mode, H, W)
    flat = u.reshape(B, D, H * W)
    return torch.stack([flat[:, :, g[k]] for k in range(g.shape[0])], dim=1)


def cross_merge(ys, H, W, mode):
    """ys (B, K, D, L) -> y (B, D, H, W): plain sum of the groups put back in place."""
    B, K, D, L = ys.shape
    g = gather_maps(mode, H, W)
    y = ys.new_zeros(B, D, L)
    for k in range(K):
        y = y.index_add(2, g[k], ys[:, k])
    return y.reshape(B, D, H, W)


# ---------------------------------------------------------------------------
# Selective scan (§2.4), sequential.

def softplus20(z):
    # log1p(exp(z)) for z <= 20, identity above (same threshold as the kernels)
    return torch.where(z <= 20, torch.log1p(torch.exp(torch.clamp(z, max=20.0))), z)


def selective_scan(u, delta, A, Bs, Cs, Dskip, delta_bias):
    """u, delta (B, KD, L); A (KD, N); Bs, Cs (B, K, N, L); Dskip, delta_bias (KD).
    Returns y (B, KD, L)."""
    Bn, KD, L = u.shape
    K, N = Bs.shape[1], Bs.shape[2]
    D = KD // K
    dt = softplus20(delta + delta_bias[None, :, None])
    Bc = Bs.repeat_interleave(D, dim=1)      # (B, KD, N, L): B shared by a group
    Cc = Cs.repeat_interleave(D, dim=1)
    h = u.new_zeros(Bn, KD, N)
    ys = []
    for t in range(L):
        a = torch.exp(dt[:, :, t, None] * A[None])
        h = a * h + (dt[:, :, t] * u[:, :, t])[:, :, None] * Bc[:, :, :, t]
        ys.append((h * Cc[:, :, :, t]).sum(-1) + Dskip[None] * u[:, :, t])
    return torch.stack(ys, dim=-1)


def selective_scan_backward_manual(g, u, delta, A, Bs, Cs, Dskip, delta_bias):
    """The backward of §5.1, written out step by step (used only as a cross-check
    of the spec's arithmetic against autograd). Returns du, ddelta, dA, dBs, dCs,
    dDskip, ddelta_bias."""
    Bn, KD, L = u.shape
    K, N = Bs.shape[1], Bs.shape[2]
    D = KD // K
    z = delta + delta_bias[None, :, None]
    dt = softplus20(z)
    Bc = Bs.repeat_interleave(D, dim=1)
    Cc = Cs.repeat_interleave(D, dim=1)
    a = torch.exp(dt[:, :, None, :] * A[None, :, :, None])        # (B, KD, N, L)
    b = (dt * u)[:, :, None, :] * Bc
    h = torch.zeros_like(a)
    prev = u.new_zeros(Bn, KD, N)
    for t in range(L):
        prev = a[..., t] * prev + b[..., t]
        h[..., t] = prev
    lam = torch.zeros_like(a)
    nxt = u.new_zeros(Bn, KD, N)
    for t in reversed(range(L)):
        mult = a[..., t + 1] if t + 1 < L else torch.ones_like(nxt)
        nxt = g[:, :, None, t] * Cc[..., t] + mult * nxt
        lam[..., t] = nxt
    dCc = g[:, :, None, :] * h
    dBc = lam * (dt * u)[:, :, None, :]
    du = Dskip[None, :, None] * g + (lam * Bc).sum(2) * dt
    ddt = (lam * Bc).sum(2) * u
    hb = h - b                                                     # = a_t * h_{t-1}
    ddt = ddt + (lam * A[None, :, :, None] * hb).sum(2)
    dA = (lam * dt[:, :, None, :] * hb).sum((0, 3))
    dD = (g * u).sum((0, 2))
    dz = torch.where(z <= 20, ddt * torch.sigmoid(z), ddt)
    dbias = dz.sum((0, 2))
    dBs = dBc.reshape(Bn, K, D, N, L).sum(2)
    dCs = dCc.reshape(Bn, K, D, N, L).sum(2)
    return du, dz, dA, dBs, dCs, dD, dbias


# ---------------------------------------------------------------------------
# Layers

class LayerNorm2d(nn.Module):
    """LayerNorm over C at each pixel of an NCHW tensor, eps 1e-5, affine."""

    def __init__(self, C, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
        self.bias = nn.Parameter(torch.zeros(C))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(1, keepdim=True)
        var = ((x - mu) ** 2).mean(1, keepdim=True)          # biased
        xh = (x - mu) / torch.sqrt(var + self.eps)
        return xh * self.weight[None, :, None, None] + self.bias[None, :, None, None]


class Linear2d(nn.Linear):
    """A 1x1 convolution with its weight stored (out, in), as the official Linear2d."""

    def forward(self, x):
        y = torch.einsum("oc,bchw->bohw", self.weight, x)
        if self.bias is not None:
            y = y + self.bias[None, :, None, None]
        return y


class DropPath(nn.Module):
    """Per-sample branch drop; masks drawn from `generator` (None: global RNG)."""

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.generator = None

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.bernoulli(torch.full((x.shape[0], 1, 1, 1), keep, dtype=x.dtype),
                               generator=self.generator)
        return x * mask / keep


def _trunc_normal_(t, std=0.02):
    nn.init.trunc_normal_(t, std=std, a=-2.0, b=2.0)


class SS2D(nn.Module):
    def __init__(self, C, d_state=1, ssm_ratio=1.0, dt_rank="auto", mode="4dir",
                 dt_min=1e-3, dt_max=0.1, dt_init_floor=1e-4):
        super().__init__()
        assert mode in SCAN_MODES
        self.mode = mode
        D = int(round(ssm_ratio * C))
        R = math.ceil(C / 16) if dt_rank == "auto" else int(dt_rank)
        K = scan_groups(mode)
        N = d_state
        self.D, self.R, self.K, self.N = D, R, K, N
        self.in_proj = Linear2d(C, D, bias=False)
        self.conv2d = nn.Conv2d(D, D, 3, padding=1, groups=D, bias=False)
        # §6: x_proj as the default init of a temporary Linear(D -> R+2N)
        bx = 1.0 / math.sqrt(D)
        self.x_proj_weight = nn.Parameter(torch.empty(K, R + 2 * N, D).uniform_(-bx, bx))
        s = R ** -0.5
        self.dt_projs_weight = nn.Parameter(torch.empty(K, D, R).uniform_(-s, s))
        dt = torch.exp(torch.rand(K, D) * (math.log(dt_max) - math.log(dt_min))
                       + math.log(dt_min)).clamp(min=dt_init_floor)
        self.dt_projs_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        A = torch.arange(1, N + 1, dtype=torch.float32)[None].repeat(K * D, 1)
        self.A_logs = nn.Parameter(torch.log(A))
        self.Ds = nn.Parameter(torch.ones(K * D))
        self.out_norm = LayerNorm2d(D)
        self.out_proj = Linear2d(D, C, bias=False)

    def forward(self, x):
        Bn, C, H, W = x.shape
        K, D, R, N = self.K, self.D, self.R, self.N
        L = H * W
        u = F.silu(self.conv2d(self.in_proj(x)))            # §2.1
        xs = cross_scan(u, self.mode)                       # (B, K, D, L)  §2.2
        x_dbl = torch.einsum("kcd,bkdl->bkcl", self.x_proj_weight, xs)   # §2.3
        dt_low, Bs, Cs = torch.split(x_dbl, [R, N, N], dim=2)
        dts = torch.einsum("kdr,bkrl->bkdl", self.dt_projs_weight, dt_low)
        A = -torch.exp(self.A_logs)
        ys = selective_scan(xs.reshape(Bn, K * D, L), dts.reshape(Bn, K * D, L), A,
                            Bs, Cs, self.Ds, self.dt_projs_bias.reshape(K * D))
        y = cross_merge(ys.reshape(Bn, K, D, L), H, W, self.mode)      # §2.5
        return self.out_proj(self.out_norm(y))                          # §2.6


class Mlp(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.fc1 = Linear2d(C, hidden)
        self.fc2 = Linear2d(hidden, C)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))                # exact erf GELU


class VSSBlock(nn.Module):
    def __init__(self, C, drop_path=0.0, **ss2d_kw):
        super().__init__()
        self.norm = LayerNorm2d(C)
        self.op = SS2D(C, **ss2d_kw)
        self.norm2 = LayerNorm2d(C)
        self.mlp = Mlp(C, 4 * C)
        self.drop_path = DropPath(drop_path)

    def forward(self, x):
        x = x + self.drop_path(self.op(self.norm(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class Classifier(nn.Module):
    def __init__(self, C, num_classes):
        super().__init__()
        self.norm = LayerNorm2d(C)
        self.head = nn.Linear(C, num_classes)

    def forward(self, x):
        return self.head(self.norm(x).mean((2, 3)))


class VSSM(nn.Module):
    """Official module tree, so state_dict() keys are the §12.2 names."""

    def __init__(self, dims=96, depths=(2, 2, 8, 2), num_classes=1000, d_state=1,
                 mode="4dir", drop_path_rate=0.0, in_chans=3):
        super().__init__()
        C0 = dims
        assert C0 % 2 == 0
        widths = [C0 * 2 ** i for i in range(len(depths))]
        self.widths = widths
        self.patch_embed = nn.Sequential(
            nn.Conv2d(in_chans, C0 // 2, 3, stride=2, padding=1), nn.Identity(),
            LayerNorm2d(C0 // 2), nn.Identity(), nn.GELU(),
            nn.Conv2d(C0 // 2, C0, 3, stride=2, padding=1), nn.Identity(),
            LayerNorm2d(C0))
        nblk = sum(depths)
        dpr = [drop_path_rate * i / max(nblk - 1, 1) for i in range(nblk)]
        self.layers = nn.ModuleList()
        bi = 0
        for i, (C, d) in enumerate(zip(widths, depths)):
            blocks = nn.Sequential(*[VSSBlock(C, drop_path=dpr[bi + j], d_state=d_state,
                                              mode=mode) for j in range(d)])
            bi += d
            if i + 1 < len(depths):
                down = nn.Sequential(nn.Identity(),
                                     nn.Conv2d(C, 2 * C, 3, stride=2, padding=1),
                                     nn.Identity(), LayerNorm2d(2 * C))
            else:
                down = nn.Identity()
            self.layers.append(nn.Sequential(OrderedDict(blocks=blocks, downsample=down)))
        self.classifier = Classifier(widths[-1], num_classes)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        # §6: touches Linear (incl. the 1x1 Linear2d) and LayerNorm only
        if isinstance(m, nn.Linear):
            _trunc_normal_(m.weight, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, LayerNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        return self.classifier(x)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def smoothed_cross_entropy(logits, labels, smoothing):
    """Mean over the batch of -(1-e) log p_y - (e/classes) sum_c log p_c."""
    logp = torch.log_softmax(logits, dim=1)
    nll = -logp.gather(1, labels[:, None])[:, 0]
    uni = -logp.mean(1)
    return ((1.0 - smoothing) * nll + smoothing * uni).mean()


# ---------------------------------------------------------------------------
# Self-checks

PARAM_COUNTS = [
    # (dims, depths, classes, mode, expected)  spec §1.2, §3.1, §10
    (96, (2, 2, 8, 2), 1000, "4dir", 30249064),
    (96, (2, 2, 8, 2), 20, "4dir", 29495444),
    (96, (2, 2, 8, 2), 10, "4dir", 29487754),
    (96, (2, 2, 8, 2), 1000, "2dir", 30249064),
    (96, (2, 2, 8, 2), 1000, "1dir", 30249064),
    (96, (2, 2, 8, 2), 1000, "lean2dir", 29584360),
    (48, (2, 2, 8, 2), 1000, "4dir", 7808680),
    (32, (2, 2, 4, 2), 10, "4dir", 2617226),
    (24, (2, 2, 2, 2), 1000, "4dir", 1472296),
    (24, (1, 1, 2, 1), 1000, "4dir", 1044328),
    (24, (1, 1, 2, 1), 10, "4dir", 853258),
]

WORKED_EXAMPLE = {  # §3.2, H = 2, W = 3, values = p
    "4dir": [[0, 1, 2, 3, 4, 5], [0, 3, 1, 4, 2, 5], [5, 4, 3, 2, 1, 0], [5, 2, 4, 1, 3, 0]],
    "2dir": [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [5, 4, 3, 2, 1, 0]],
    "1dir": [[0, 1, 2, 3, 4, 5]] * 4,
    "lean2dir": [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]],
}


class _NoInit:
    """Skip the (slow, irrelevant) random init while building models only to count."""

    NAMES = ("kaiming_uniform_", "uniform_", "trunc_normal_", "zeros_", "ones_")

    def __enter__(self):
        self.saved = {n: getattr(nn.init, n) for n in self.NAMES}
        for n in self.NAMES:
            setattr(nn.init, n, lambda t, *a, **k: t)
        self.saved_uniform = torch.Tensor.uniform_
        torch.Tensor.uniform_ = lambda t, *a, **k: t

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(nn.init, n, f)
        torch.Tensor.uniform_ = self.saved_uniform


def check_param_counts():
    for dims, depths, classes, mode, want in PARAM_COUNTS:
        with _NoInit():
            got = n_params(VSSM(dims, depths, classes, mode=mode))
        print(f"params dims={dims} depths={list(depths)} classes={classes} {mode}: "
              f"{got:,} (spec {want:,})")
        assert got == want, (dims, depths, classes, mode, got, want)
    # §10.1 per-component split of VMamba-T
    with _NoInit():
        m = VSSM(96, (2, 2, 8, 2), 1000)
    stem = sum(p.numel() for p in m.patch_embed.parameters())
    blk = [sum(p.numel() for p in l.blocks[0].parameters()) for l in m.layers]
    head = sum(p.numel() for p in m.classifier.parameters())
    print(f"VMamba-T stem {stem:,}, block per stage {blk}, head {head:,}")
    assert stem == 43200 and blk == [100608, 394752, 1563648, 6223872] and head == 770536


def check_worked_example():
    u = torch.arange(6, dtype=torch.float64).reshape(1, 1, 2, 3)
    for mode, want in WORKED_EXAMPLE.items():
        xs = cross_scan(u, mode)[0, :, 0].long().tolist()
        print(f"cross-scan H=2 W=3 {mode}: {xs}")
        assert xs == want, (mode, xs, want)
    # merge is the adjoint of the scan, and the transpose route matters when H != W
    torch.manual_seed(1)
    for mode in SCAN_MODES:
        U = torch.randn(2, 3, 4, 5, dtype=torch.float64)
        Y = torch.randn(2, scan_groups(mode), 3, 20, dtype=torch.float64)
        lhs = (cross_scan(U, mode) * Y).sum()
        rhs = (U * cross_merge(Y, 4, 5, mode)).sum()
        assert abs(lhs - rhs) < 1e-12, mode
    print("cross-merge is the adjoint of cross-scan for every mode (H=4, W=5)")


def _scan_inputs(Bn=2, K=4, D=3, N=2, L=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    return dict(u=r(Bn, K * D, L), delta=r(Bn, K * D, L),
                A=-torch.exp(0.3 * r(K * D, N)), Bs=r(Bn, K, N, L), Cs=r(Bn, K, N, L),
                Dskip=r(K * D), delta_bias=r(K * D) - 1.0)


def check_scan_backward():
    """The step-by-step §5.1 backward agrees with autograd on the sequential loop."""
    inp = {k: v.clone().requires_grad_(True) for k, v in _scan_inputs().items()}
    y = selective_scan(**inp)
    g = torch.randn_like(y)
    names = ["u", "delta", "A", "Bs", "Cs", "Dskip", "delta_bias"]
    auto = torch.autograd.grad(y, [inp[n] for n in names], g)
    man = selective_scan_backward_manual(g, **{k: v.detach() for k, v in inp.items()})
    for n, a, m in zip(names, auto, man):
        err = ((a - m).norm() / a.norm()).item()
        print(f"scan backward §5.1 vs autograd, d{n}: rel err {err:.2e}")
        assert err < 1e-12, n


def check_gradcheck():
    """torch.autograd.gradcheck on SS2D (float64) for every mode, input + parameters."""
    for mode in SCAN_MODES:
        torch.manual_seed(3)
        m = SS2D(4, d_state=2, mode=mode).double()
        with torch.no_grad():
            for p in m.parameters():
                p.add_(0.1 * torch.randn_like(p))
        x = torch.randn(1, 4, 2, 3, dtype=torch.float64, requires_grad=True)
        names = [n for n, _ in m.named_parameters()]
        params = [p.detach().clone().requires_grad_(True) for p in m.parameters()]
        ok = torch.autograd.gradcheck(lambda x, *ps: _call(m, names, ps, x),
                                      (x, *params),
                                      eps=1e-6, atol=1e-8, rtol=1e-6)
        print(f"gradcheck SS2D {mode} (C=4, N=2, 2x3): {ok}")
        assert ok


def _call(module, names, tensors, x):
    """Run `module` with its parameters replaced by `tensors` (torch 1.13 API)."""
    from torch.nn.utils.stateless import functional_call
    return functional_call(module, dict(zip(names, tensors)), (x,))


def selftest():
    check_param_counts()
    check_worked_example()
    check_scan_backward()
    check_gradcheck()
    print("vmamba_ref self-checks passed")


if __name__ == "__main__":
    selftest()
