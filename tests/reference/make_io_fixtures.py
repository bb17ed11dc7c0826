#!/usr/bin/python3
"""Writes the small checkpoint fixtures of tests/io into tests/data/io/.

Run with Debian's PyTorch: /usr/bin/python3 tests/reference/make_io_fixtures.py
Every file is tiny (a few KB). Values are simple closed forms (checked in
tests/io/test-pth.c) or written out as an F32 safetensors "expected" file.
safetensors files are written by hand: the Python package may not be installed.
"""
import collections
import io
import json
import os
import struct
import sys
import types
import zipfile
import zlib

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "io")
MARKER = "/tmp/visionbench-io-pickle-executed"


def path(name):
    return os.path.join(OUT, name)


# ---------------------------------------------------------------- safetensors

def st_bytes(header, data, pad_to=8):
    """header: dict (serialised in insertion order) or raw bytes."""
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if pad_to:
        h += b" " * ((-8 - len(h)) % pad_to)
    return struct.pack("<Q", len(h)) + h + data


def st_tensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes) in data order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header, data


def raw(t):
    return t.contiguous().numpy().tobytes() if t.dtype != torch.bfloat16 else \
        t.contiguous().view(torch.int16).numpy().tobytes()


def write(name, content):
    with open(path(name), "wb") as f:
        f.write(content)


def write_expected(name, tensors):
    """F32 safetensors of expected values: list of (name, float32 tensor)."""
    items = [(n, "F32", list(t.shape), raw(t.float())) for n, t in sorted(tensors)]
    h, d = st_tensors(items, {"fixture": name})
    write(name, st_bytes(h, d))


def make_safetensors():
    f32 = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1.0
    f16 = (torch.arange(4, dtype=torch.float32) * 0.25 - 0.5).half()
    bf16 = (torch.arange(5, dtype=torch.float32) * -2.0 + 1.0).bfloat16()
    f64 = torch.arange(3, dtype=torch.float64) / 3.0
    i64 = torch.arange(4, dtype=torch.int64)
    scalar = torch.tensor(7.25, dtype=torch.float32)
    # Data deliberately not in header order; a zero-size tensor sits in the middle.
    items = [("b.f16", "F16", [2, 2], raw(f16)),
             ("a.f32", "F32", [2, 3], raw(f32)),
             ("empty", "F32", [0, 3], b""),
             ("c.bf16", "BF16", [5], raw(bf16)),
             ("d.f64", "F64", [3], raw(f64)),
             ("position_ids", "I64", [1, 4], raw(i64)),
             ("scalar", "F32", [], raw(scalar))]
    h, d = st_tensors(items, {"format": "pt", "note": "quote \" and \u00e9"})
    # Reorder the header so header order differs from data order.
    order = ["__metadata__", "scalar", "a.f32", "b.f16", "c.bf16", "d.f64", "empty", "position_ids"]
    h = {k: h[k] for k in order}
    write("valid.safetensors", st_bytes(h, d))

    good_h, good_d = st_tensors([("x", "F32", [2], raw(torch.ones(2))),
                                 ("y", "F32", [2], raw(torch.zeros(2)))])

    def variant(name, mutate):
        h = json.loads(json.dumps(good_h))
        d = good_d
        h, d = mutate(h, d)
        write("bad-" + name + ".safetensors", st_bytes(h, d))

    # N larger than the file.
    write("bad-header-length.safetensors", struct.pack("<Q", 10 ** 6) + b"{}")
    write("bad-header-huge.safetensors", struct.pack("<Q", 2 ** 63) + b"{}")
    write("bad-not-json.safetensors", st_bytes(b"{\"x\": nope}", b""))
    write("bad-float-offset.safetensors",
          st_bytes(b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', b"\0" * 4))
    write("bad-not-brace.safetensors", st_bytes(b' {"x":{"dtype":"F32","shape":[1],'
                                                b'"data_offsets":[0,4]}}', b"\0" * 4))
    write("bad-padding.safetensors", st_bytes(b'{}\n\n\n\n\n\n', b"", pad_to=0))
    write("bad-duplicate-key.safetensors",
          st_bytes(b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                   b'"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8))
    write("bad-utf8.safetensors", st_bytes(b'{"\xff":{"dtype":"F32","shape":[1],'
                                           b'"data_offsets":[0,4]}}', b"\0" * 4))

    def hole(h, d):
        h["y"]["data_offsets"] = [12, 20]
        return h, d + b"\0" * 4
    variant("hole", hole)

    def overlap(h, d):
        h["y"]["data_offsets"] = [4, 12]
        return h, d[:12]
    variant("overlap", overlap)

    def wrong_size(h, d):
        h["y"]["shape"] = [3]
        return h, d
    variant("wrong-size", wrong_size)
    variant("trailing", lambda h, d: (h, d + b"\0\0\0\0"))
    variant("short-data", lambda h, d: (h, d[:12]))

    def unknown_dtype(h, d):
        h["y"]["dtype"] = "F12"
        return h, d
    variant("unknown-dtype", unknown_dtype)

    def negative_shape(h, d):
        h["y"]["shape"] = [-2]
        return h, d
    variant("negative-shape", negative_shape)

    def not_start_zero(h, d):
        h["x"]["data_offsets"] = [4, 12]
        h["y"]["data_offsets"] = [12, 20]
        return h, b"\0" * 4 + d
    variant("offset-start", not_start_zero)

    def bad_meta(h, d):
        h["__metadata__"] = {"epoch": 3}
        return h, d
    variant("metadata-int", bad_meta)

    def f4_odd(h, d):
        h["z"] = {"dtype": "F4", "shape": [3], "data_offsets": [16, 16]}
        return h, d
    variant("subbyte", f4_odd)


# ---------------------------------------------------------------- .pth

def tiny_state_dict():
    sd = collections.OrderedDict()
    sd["f32"] = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1.0
    sd["f16"] = (torch.arange(6, dtype=torch.float32) * 0.25).half().reshape(2, 3)
    sd["bf16"] = (torch.arange(8, dtype=torch.float32) * -2.0).bfloat16()
    sd["f64"] = torch.arange(4, dtype=torch.float64) / 3.0
    base = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    sd["transposed"] = base.t()                      # (3, 2), strides (1, 3)
    big = torch.arange(10, dtype=torch.float32) + 100.0
    sd["shared.a"] = big[2:7]                        # offset 2 into the shared storage
    sd["shared.b"] = big.view(2, 5)
    sd["scalar"] = torch.tensor(3.5)
    sd["int64"] = torch.arange(5, dtype=torch.int64)
    sd["param"] = torch.nn.Parameter(torch.full((2,), -4.0))
    return sd


def install_fake_yacs():
    yacs = types.ModuleType("yacs")
    config = types.ModuleType("yacs.config")

    class CfgNode(dict):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.__dict__["_immutable"] = False

    CfgNode.__module__ = "yacs.config"
    CfgNode.__qualname__ = "CfgNode"
    config.CfgNode = CfgNode
    yacs.config = config
    sys.modules["yacs"] = yacs
    sys.modules["yacs.config"] = config
    return CfgNode


def vmamba_checkpoint():
    g = torch.Generator().manual_seed(1234)
    model = collections.OrderedDict()
    model["module.patch_embed.0.weight"] = torch.randn(4, 3, 2, 2, generator=g)
    model["module.patch_embed.0.bias"] = torch.randn(4, generator=g)
    model["module.layers.0.blocks.0.op.A_logs"] = torch.randn(8, 2, generator=g)
    model["module.head.weight"] = torch.randn(3, 4, generator=g)
    model["module.head.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    ema = collections.OrderedDict((k, v * 0.5 if v.is_floating_point() else v)
                                  for k, v in model.items())
    params = [v for v in model.values() if v.is_floating_point()]
    state = {i: {"step": torch.tensor(10.0), "exp_avg": torch.zeros_like(p) + 0.1,
                 "exp_avg_sq": torch.zeros_like(p) + 0.01} for i, p in enumerate(params)}
    optimizer = {"state": state,
                 "param_groups": [{"lr": 5e-4, "betas": (0.9, 0.999), "eps": 1e-8,
                                   "weight_decay": 0.05, "amsgrad": False, "maximize": False,
                                   "foreach": None, "capturable": False,
                                   "params": list(range(len(params)))}]}
    CfgNode = install_fake_yacs()
    cfg = CfgNode()
    cfg["MODEL"] = CfgNode({"TYPE": "vssm", "NAME": "vssm1_tiny", "DROP_PATH_RATE": 0.2})
    cfg["TRAIN"] = CfgNode({"EPOCHS": 300, "BASE_LR": 5e-4})
    cfg["SEED"] = 0
    ckpt = {"model": model, "optimizer": optimizer,
            "lr_scheduler": {"t_initial": 300, "base_values": [5e-4]},
            "max_accuracy": 82.5, "scaler": {"scale": 65536.0, "_growth_tracker": 12},
            "epoch": 264, "config": cfg, "model_ema": ema, "max_accuray_ema": 82.1}
    return ckpt, model, ema


class ZipWriter:
    """Stored zip, torch-like: payloads 64-byte aligned via an "FB" local extra field,
    data descriptors, and optionally ZIP64 central fields for everything."""

    def __init__(self, zip64=False):
        self.buf = bytearray()
        self.entries = []
        self.zip64 = zip64

    def add(self, name, data, method=0, align=64):
        name_b = name.encode()
        off = len(self.buf)
        payload = data if method == 0 else zlib.compress(data)[2:-4]
        pad = (-(off + 30 + len(name_b) + 4)) % align
        extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        crc = zlib.crc32(data)
        self.buf += struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0x08, method, 0, 0, 0, 0, 0,
                                len(name_b), len(extra)) + name_b + extra
        self.buf += payload
        self.buf += struct.pack("<IIQQ", 0x08074b50, crc, len(payload), len(data))
        self.entries.append((name_b, off, crc, len(payload), len(data), method))

    def finish(self):
        cd_off = len(self.buf)
        for name_b, off, crc, csize, usize, method in self.entries:
            if self.zip64:
                extra = struct.pack("<HHQQQ", 1, 24, usize, csize, off)
                c32 = u32 = o32 = 0xFFFFFFFF
            else:
                extra, c32, u32, o32 = b"", csize, usize, off
            self.buf += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0x08, method, 0, 0,
                                    crc, c32, u32, len(name_b), len(extra), 0, 0, 0, 0, o32)
            self.buf += name_b + extra
        cd_size = len(self.buf) - cd_off
        n = len(self.entries)
        if self.zip64:
            rec = len(self.buf)
            self.buf += struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, n, n,
                                    cd_size, cd_off)
            self.buf += struct.pack("<IIQI", 0x07064b50, 0, rec, 1)
            self.buf += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF,
                                    0xFFFFFFFF, 0xFFFFFFFF, 0)
        else:
            self.buf += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, cd_size, cd_off, 0)
        return bytes(self.buf)


def archive_with_pickle(prefix, pkl, zip64=False, extra_records=()):
    w = ZipWriter(zip64)
    w.add(prefix + "/data.pkl", pkl)
    for name, data in extra_records:
        w.add(prefix + "/" + name, data)
    w.add(prefix + "/version", b"3\n")
    return w.finish()


def rezip(src_bytes, prefix, zip64=False, transform=None, method=0):
    """Re-pack a torch archive with our writer, optionally transforming records."""
    zin = zipfile.ZipFile(io.BytesIO(src_bytes))
    w = ZipWriter(zip64)
    for info in zin.infolist():
        data = zin.read(info.filename)
        name = prefix + "/" + info.filename.split("/", 1)[1]
        if transform:
            data = transform(name.split("/", 1)[1], data)
            if data is None:
                continue
        w.add(name, data, method=method)
    return w.finish()


def make_pth():
    sd = tiny_state_dict()
    torch.save(sd, path("tiny-state-dict.pth"))
    with open(path("tiny-state-dict.pth"), "rb") as f:
        tiny = f.read()

    ckpt, model, ema = vmamba_checkpoint()
    buf = io.BytesIO()
    torch.save(ckpt, buf)                       # saved to a stream: prefix "archive"
    write("vmamba-ckpt.pth", buf.getvalue())
    strip = lambda d: [(k[len("module."):], v) for k, v in d.items() if v.is_floating_point()]
    write_expected("vmamba-ckpt-model.expected.safetensors", strip(model))
    write_expected("vmamba-ckpt-ema.expected.safetensors", strip(ema))

    # A damaged storage reachable only from model_ema (the last one saved): loading
    # "model" must not touch it.
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    last = max((i for i in zin.infolist() if i.filename.startswith("archive/data/")),
               key=lambda i: int(i.filename.rsplit("/", 1)[1]))
    lname, lextra = struct.unpack("<HH", buf.getvalue()[last.header_offset + 26:
                                                        last.header_offset + 30])
    damaged = bytearray(buf.getvalue())
    damaged[last.header_offset + 30 + lname + lextra] ^= 0x40
    write("vmamba-ckpt-bad-ema.pth", bytes(damaged))

    # ZIP64 central directory fields, unaligned local extras, other prefix.
    write("tiny-zip64.pth", rezip(tiny, "zip64", zip64=True))

    # Big-endian storages: torch 1.13 writes no byteorder record (little); build one.
    small = collections.OrderedDict(f32=torch.tensor([1.5, -2.25, 3.0]),
                                    f16=torch.tensor([0.5, -1.0], dtype=torch.float16))
    b = io.BytesIO()
    torch.save(small, b)
    sizes = {"0": 4, "1": 2}

    def to_big(name, data):
        if name.startswith("data/"):
            es = sizes[name[5:]]
            return b"".join(data[i:i + es][::-1] for i in range(0, len(data), es))
        return data
    be = rezip(b.getvalue(), "bigendian", transform=to_big)
    zin = zipfile.ZipFile(io.BytesIO(be))
    w = ZipWriter()
    for info in zin.infolist():
        w.add(info.filename, zin.read(info.filename))
    w.add("bigendian/byteorder", b"big")
    write("tiny-bigendian.pth", w.finish())

    # Hostile pickles inside valid archives. Each would create MARKER if executed.
    cmd = ("touch " + MARKER).encode()
    os_system = (b"\x80\x02" + b"cos\nsystem\n" + b"q\x00" +
                 b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85R.")
    write("hostile-os-system.pth", archive_with_pickle("hostile-os-system", os_system))

    def sg(module, name, arg):
        def su(s):
            s = s.encode()
            return b"\x8c" + bytes([len(s)]) + s + b"\x94"
        return (b"\x80\x04\x95" + struct.pack("<Q", 0) + su(module) + su(name) + b"\x93\x94" +
                su(arg) + b"\x85\x94R\x94.")
    write("hostile-posix-system.pth",
          archive_with_pickle("hostile-posix-system", sg("posix", "system", "touch " + MARKER)))
    write("hostile-builtins-eval.pth",
          archive_with_pickle("hostile-builtins-eval",
                              sg("builtins", "eval", "open('%s','w')" % MARKER)))
    # An allowed callable used the wrong way: REDUCE on a storage type.
    storage_call = b"\x80\x02ctorch\nFloatStorage\n)R."
    write("hostile-storage-call.pth", archive_with_pickle("hostile-storage-call", storage_call))
    # An unknown opcode (PUT, text memo) after a dict.
    write("bad-opcode.pth", archive_with_pickle("bad-opcode", b"\x80\x02}p0\n."))
    # A persistent id naming a storage the archive lacks.
    missing = (b"\x80\x02}(X\x01\x00\x00\x00w" + b"ctorch._utils\n_rebuild_tensor_v2\n" +
               b"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000"
               b"X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89}tRu.")
    write("bad-missing-storage.pth", archive_with_pickle("bad-missing-storage", missing))
    # The same, with the record present but a view running past the storage.
    past = missing.replace(b"K\x00K\x04\x85", b"K\x01K\x04\x85")
    write("bad-view-extent.pth",
          archive_with_pickle("bad-view-extent", past, extra_records=[("data/0", b"\0" * 16)]))
    # And with the record too short for the claimed numel.
    write("bad-storage-size.pth",
          archive_with_pickle("bad-storage-size", missing,
                              extra_records=[("data/0", b"\0" * 12)]))

    # Damaged archives.
    write("truncated.pth", tiny[: len(tiny) // 2])
    cd = tiny.rfind(b"PK\x01\x02")
    damaged = bytearray(tiny)
    damaged[cd:cd + 4] = b"PK\x09\x09"
    write("bad-central-directory.pth", bytes(damaged))
    # Flip one payload byte of data/0 (offset from its local header's lengths).
    crc = bytearray(tiny)
    zin = zipfile.ZipFile(io.BytesIO(tiny))
    info = zin.getinfo("tiny-state-dict/data/0")
    lname, lextra = struct.unpack("<HH", tiny[info.header_offset + 26:info.header_offset + 30])
    payload = info.header_offset + 30 + lname + lextra
    crc[payload] ^= 0x40
    write("bad-crc.pth", bytes(crc))
    write("compressed.pth", rezip(tiny, "compressed", method=8))
    # Legacy (pre-1.6) format.
    legacy = io.BytesIO()
    torch.save({"x": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    write("legacy.pth", legacy.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    make_safetensors()
    make_pth()
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(path(name))
        assert size < 20000, (name, size)
        print("%-45s %6d" % (name, size))


if __name__ == "__main__":
    main()
