"""bench_vmamba_cpu.py: PyTorch's CPU figure for VMamba under the protocol of
`visionbench-cli bench` (protocol "visionbench-reference"), so the two can be put
side by side on the same machine.

The model is vmamba_ref.VSSM in float32: the official module tree with the
selective scan as a sequential loop over the sequence, which is what the official
implementation runs on a CPU (its CUDA kernel does not exist there).

Protocol: synthetic input in memory, fp32, `--threads` intra-op threads, `--warmup`
untimed steps, then `--steps` timed one by one; img/s = batch / median step time.
train = forward + label-smoothed (0.1) cross-entropy + backward + AdamW step
(lr 1e-3, wd 0.05); eval = forward under no_grad.

    python3 bench_vmamba_cpu.py --dims 24 --depths 1,1,2,1 --img 32 --batch 64
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmamba_ref  # noqa: E402


def time_steps(step, warmup, steps):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, default=96)
    ap.add_argument("--depths", default="2,2,8,2")
    ap.add_argument("--scan", default="4dir", choices=vmamba_ref.SCAN_MODES)
    ap.add_argument("--img", type=int, default=64)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", default="both", choices=("train", "eval", "both"))
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    depths = tuple(int(d) for d in a.depths.split(","))
    model = vmamba_ref.VSSM(dims=a.dims, depths=depths, num_classes=a.classes,
                            mode=a.scan, drop_path_rate=0.0)
    x = torch.randn(a.batch, 3, a.img, a.img)
    y = torch.randint(0, a.classes, (a.batch,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = vmamba_ref.smoothed_cross_entropy(model(x), y, 0.1)
        loss.backward()
        opt.step()

    def eval_step():
        model.eval()
        with torch.no_grad():
            model(x)

    modes = ["train", "eval"] if a.mode == "both" else [a.mode]
    for mode in modes:
        times = time_steps(train_step if mode == "train" else eval_step, a.warmup, a.steps)
        med = statistics.median(times)
        print(json.dumps({
            "impl": "pytorch-" + torch.__version__, "mode": mode,
            "model": {"dims": a.dims, "depths": list(depths), "scan": a.scan,
                      "classes": a.classes, "params": vmamba_ref.n_params(model)},
            "img": a.img, "batch": a.batch, "precision": "fp32", "threads": a.threads,
            "warmup_steps": a.warmup, "timed_steps": a.steps,
            "median_s": med, "min_s": min(times), "img_per_s": a.batch / med}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
