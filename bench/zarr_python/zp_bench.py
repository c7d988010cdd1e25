#!/usr/bin/python3
"""zarr-python 2.13 side by side with pzarr-bench (run with /usr/bin/python3).

  /usr/bin/python3 bench/zarr_python/zp_bench.py [--procs N] [--codec C] [--json]
      [--shape X,Y,Z] [--chunks X,Y,Z] [--data smooth|random|zeros] [--reps N] [--dir D]

Two parts, printed as one report in pzarr-bench's JSON schema:
- checkpoint: N processes (multiprocessing) write, then read, the same 3-D float64
  array as pzarr-bench (same data formula), each process a slab of whole chunks
  along axis 0 (zarr-python needs chunk-aligned writers); the array is created
  by the parent before the timing starts. A sample runs from the moment all
  processes pass a barrier (data already generated) until the last one ends.
- smallchunks: the zarr issue 536 shape, 6443 float64 in chunks of 5 (1289
  chunks), and 10^6 elements in chunks of 100: zarr.open(path)[:] by one
  process, and by every one of N processes at once.
The codec default is blosc:lz4:5:shuffle (zarr-python's default compressor).
"""
import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import time

import numpy as np
import zarr
from numcodecs import GZip, Blosc, Zstd


def parse_dims(s):
    v = [int(x) for x in s.split(",")]
    if not v or any(x <= 0 for x in v):
        raise argparse.ArgumentTypeError("bad dimension list %r" % s)
    return v


def make_codec(text):
    if text == "none":
        return None
    kind, _, rest = text.partition(":")
    if kind == "zstd":
        return Zstd(level=int(rest))
    if kind == "gzip":
        return GZip(level=int(rest))
    if kind == "blosc":
        cname, level, shuffle = rest.split(":")
        shuf = {"noshuffle": Blosc.NOSHUFFLE, "shuffle": Blosc.SHUFFLE,
                "bitshuffle": Blosc.BITSHUFFLE}[shuffle]
        return Blosc(cname=cname, clevel=int(level), shuffle=shuf)
    raise ValueError("unknown codec %r" % text)


# ------------------------------------------------------------------ data
# The same formulas as bench_util.c: boxes padded to 3-D with leading 1s.

def _mix64(x):
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def gen(kind, shape, start, count):
    pad = 3 - len(shape)
    sh = [1] * pad + list(shape)
    st = [0] * pad + list(start)
    ct = [1] * pad + list(count)
    if kind == "zeros":
        out = np.zeros(ct)
    elif kind == "random":
        idx = [np.arange(st[a], st[a] + ct[a], dtype=np.uint64) for a in range(3)]
        lin = ((idx[0][:, None, None] * np.uint64(sh[1]) + idx[1][None, :, None])
               * np.uint64(sh[2]) + idx[2][None, None, :])
        out = (_mix64(lin) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    else:
        i = np.arange(st[0], st[0] + ct[0], dtype=np.float64)
        j = np.arange(st[1], st[1] + ct[1], dtype=np.float64)
        k = np.arange(st[2], st[2] + ct[2], dtype=np.float64)
        out = (np.sin(0.05 * i + 0.3)[:, None, None] * np.cos(0.07 * j)[None, :, None]
               + 0.5 * np.sin(0.031 * k)[None, None, :])
    return out.reshape(count)


# ------------------------------------------------------------------ workers

def _worker(task, barrier, queue):
    kind, path, data, shape, start, count, verify = task
    sel = tuple(slice(s, s + c) for s, c in zip(start, count))
    buf = gen(data, shape, start, count) if kind in ("write", "read") else None
    barrier.wait()
    t0 = time.perf_counter()
    z = zarr.open(path, mode="r+" if kind == "write" else "r")
    if kind == "write":
        if buf.size:
            z[sel] = buf
        got = None
    else:
        got = z[sel]
    t1 = time.perf_counter()
    bad = 0
    if verify and got is not None:
        want = buf if buf is not None else gen(data, shape, start, count)
        bad = int(np.count_nonzero(got != want))
    queue.put((t0, t1, bad))


def run_procs(tasks):
    """Runs one task per process; seconds from the barrier to the last end."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(tasks))
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(t, barrier, queue)) for t in tasks]
    for p in procs:
        p.start()
    res = [queue.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError("a zarr-python worker failed (exit code %d)" % p.exitcode)
    return max(r[1] for r in res) - min(r[0] for r in res), sum(r[2] for r in res)


# ------------------------------------------------------------------ report

class Report:
    def __init__(self, args):
        self.args = args
        self.rows = []
        self.metrics = {}

    def row(self, name, samples, nbytes=0.0, items=0.0, ref=None):
        s = sorted(samples)
        n = len(s)
        med = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
        r = {"name": name, "best_s": s[0], "median_s": med, "bytes": nbytes,
             "gbps": nbytes / s[0] / 1e9 if nbytes and s[0] > 0 else None,
             "items": items, "items_per_s": items / s[0] if items and s[0] > 0 else None,
             "ref": ref, "ratio": None}
        if ref is not None:
            base = next(x for x in self.rows if x["name"] == ref)
            r["ratio"] = base["best_s"] / s[0] if s[0] > 0 else None
        self.rows.append(r)

    def verify(self, key, bad):
        self.metrics["verify " + key] = "ok" if bad == 0 else "FAILED (%d elements differ)" % bad
        if bad:
            self.failed = True

    def emit(self, title):
        a = self.args
        doc = {"tool": "zarr-python", "pattern": "zp", "ranks": a.procs, "title": title,
               "rows": self.rows, "metrics": self.metrics}
        if a.json:
            print(json.dumps(doc))
            return
        print(title)
        print("  %-46s %11s %11s %8s %10s" % ("case", "best ms", "median ms", "GB/s", "items/s"))
        for r in self.rows:
            print("  %-46s %11.3f %11.3f %8s %10s" % (
                r["name"], r["best_s"] * 1e3, r["median_s"] * 1e3,
                "%.3f" % r["gbps"] if r["gbps"] else "-",
                "%.0f" % r["items_per_s"] if r["items_per_s"] else "-"))
        for k, v in self.metrics.items():
            print("  %-46s %s" % (k, v))


# ------------------------------------------------------------------ parts

def slabs(shape, chunks, nproc):
    """Axis-0 slabs of whole chunks, one per process (possibly empty)."""
    rows = -(-shape[0] // chunks[0])
    out = []
    for p in range(nproc):
        lo = min(rows * p // nproc * chunks[0], shape[0])
        hi = min(rows * (p + 1) // nproc * chunks[0], shape[0])
        out.append(([lo] + [0] * (len(shape) - 1), [hi - lo] + list(shape[1:])))
    return out


def checkpoint(a, rep):
    path = os.path.join(a.dir, "zp-ckpt.zarr")
    nbytes = 8.0 * float(np.prod(a.shape))
    parts = slabs(a.shape, a.chunks, a.procs)
    tw, tr = [], []
    for i in range(a.reps):
        shutil.rmtree(path, ignore_errors=True)
        zarr.open(path, mode="w", shape=a.shape, chunks=a.chunks, dtype="<f8",
                  compressor=make_codec(a.codec), fill_value=0.0)
        t, _ = run_procs([("write", path, a.data, a.shape, s, c, False) for s, c in parts])
        tw.append(t)
        t, bad = run_procs([("read", path, a.data, a.shape, s, c, i == 0) for s, c in parts])
        tr.append(t)
        if i == 0:
            rep.verify("checkpoint read", bad)
    stored = sum(os.path.getsize(os.path.join(dp, f))
                 for dp, _, fs in os.walk(path) for f in fs if not f.startswith("."))
    shutil.rmtree(path, ignore_errors=True)
    nch = int(np.prod([-(-s // c) for s, c in zip(a.shape, a.chunks)]))
    rep.row("zarr-python write (%d procs)" % a.procs, tw, nbytes, nch)
    rep.row("zarr-python read (%d procs)" % a.procs, tr, nbytes, nch)
    rep.metrics["stored_bytes"] = stored
    rep.metrics["compression_ratio"] = nbytes / stored if stored else None


def small_case(a, rep, n, chunk):
    label = "%d/%d" % (n, chunk)
    path = os.path.join(a.dir, "zp-small-%d.zarr" % n)
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    z = zarr.open(path, mode="w", shape=(n,), chunks=(chunk,), dtype="<f8",
                  compressor=make_codec(a.codec), fill_value=0.0)
    z[:] = gen(a.data, [n], [0], [n])
    tw = time.perf_counter() - t0
    nch = -(-n // chunk)
    one, every = [], []
    for i in range(a.reps):
        t0 = time.perf_counter()
        got = zarr.open(path, mode="r")[:]
        one.append(time.perf_counter() - t0)
        if i == 0:
            rep.verify("%s: 1 process" % label,
                       int(np.count_nonzero(got != gen(a.data, [n], [0], [n]))))
        t, bad = run_procs([("readall", path, a.data, [n], [0], [n], i == 0)] * a.procs)
        every.append(t)
        if i == 0:
            rep.verify("%s: every process" % label, bad)
    shutil.rmtree(path, ignore_errors=True)
    rep.row("%s: zarr-python write, 1 process" % label, [tw], 8.0 * n, nch)
    rep.row("%s: zarr-python open+read, 1 process" % label, one, 8.0 * n, nch)
    rep.row("%s: zarr-python open+read, every process" % label, every, 8.0 * n, nch)
    rep.metrics["chunks " + label] = nch


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--shape", type=parse_dims, default=[128, 128, 128])
    p.add_argument("--chunks", type=parse_dims, default=[32, 32, 32])
    p.add_argument("--codec", default="blosc:lz4:5:shuffle")
    p.add_argument("--data", choices=["smooth", "random", "zeros"], default="smooth")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--dir", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--parts", default="checkpoint,smallchunks")
    a = p.parse_args()
    if len(a.shape) != len(a.chunks):
        p.error("--shape and --chunks differ in rank")
    make_codec(a.codec)
    created = a.dir is None
    a.dir = a.dir or "/tmp/zp-bench-%d" % os.getpid()
    os.makedirs(a.dir, exist_ok=True)
    rep = Report(a)
    rep.failed = False
    parts = a.parts.split(",")
    try:
        if "checkpoint" in parts:
            checkpoint(a, rep)
        if "smallchunks" in parts:
            small_case(a, rep, 6443, 5)
            small_case(a, rep, 1000000, 100)
    finally:
        if created:
            shutil.rmtree(a.dir, ignore_errors=True)
    rep.metrics.update({"zarr_version": zarr.__version__, "codec": a.codec,
                        "shape": "x".join(map(str, a.shape)),
                        "chunks": "x".join(map(str, a.chunks)), "data": a.data})
    title = ("zarr-python %s: %d processes, shape %s float64, chunks %s, codec %s, data %s, "
             "reps %d" % (zarr.__version__, a.procs, "x".join(map(str, a.shape)),
                          "x".join(map(str, a.chunks)), a.codec, a.data, a.reps))
    rep.emit(title)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
