#!/usr/bin/python3
"""Python post-processing read (issue 19), three ways on one v2 array (the
source pzarr-bench's copy pattern leaves with --keep: 512x256x256 float64,
32^3 chunks, zstd:1; or `make`'s):

  make   mpiexec -n N python3 py_read.py make STORE          a 512x256x256 float64 array "a"
  pzarr  mpiexec -n N python3 py_read.py pzarr STORE ARRAY REPS TIMES_DIR
             each rank read_all()s its slab along axis 0 into numpy (out=, reused) and
             sums it; the ranks' times meet in a pzarr array in TIMES_DIR; rank 0
             prints JSON (the slowest rank's time of each rep)
  dask   python3 py_read.py dask STORE/ARRAY REPS THREADS
             dask + zarr-python read the whole array and sum it (threads)
  codec  python3 py_read.py codec STORE/ARRAY REPS
             the floor: every chunk file (in memory) decoded, one core

The C API's twin of "pzarr" is bench/pzb_slabread.c (pzarr-slab-read). Times
are the slowest rank's, each rep after an empty read_all (everyone arrives).
"""
import json
import sys
import time

import numpy as np

SHAPE, CHUNKS = (512, 256, 256), (32, 32, 32)


def report(tool, ranks, title, nbytes, metrics, cases):
    """report.py's document: per case its samples, best, median, GB/s."""
    rows = []
    for name, v in cases:
        s = sorted(v)
        rows.append({"name": name, "best_s": s[0], "median_s": s[len(s) // 2],
                     "gbps": nbytes / s[0] / 1e9, "samples": list(v)})
    return json.dumps({"tool": tool, "pattern": "python-read", "ranks": ranks, "title": title,
                       "metrics": dict(metrics, bytes=nbytes), "rows": rows})


def make(path):
    import pzarr
    with pzarr.open(path, "a", format=2) as st:
        a = st.create_array("a", shape=SHAPE, dtype="f8", chunks=CHUNKS, codec="zstd:1")
        lo = SHAPE[0] * st.rank // st.size
        hi = SHAPE[0] * (st.rank + 1) // st.size
        z = np.arange(lo, hi, dtype="f8")[:, None, None]
        y = np.arange(SHAPE[1], dtype="f8")[None, :, None]
        x = np.arange(SHAPE[2], dtype="f8")[None, None, :]
        # smooth, like a simulation field: zstd:1 finds something to do
        for k in range(lo, hi, 32):
            kk = min(hi, k + 32)
            a[k:kk] = np.sin(z[k - lo:kk - lo] * 0.05) * np.cos(y * 0.03) + x * 1e-3
        a.flush()


def bench_pzarr(path, name, reps):
    import pzarr
    with pzarr.open(path, "r") as st:
        a = st[name]
        shape = a.shape
        lo = shape[0] * st.rank // st.size
        hi = shape[0] * (st.rank + 1) // st.size
        out = np.empty((hi - lo,) + shape[1:], dtype=a.dtype)
        out.fill(0)  # pre-touched, as the C side's buffer
        # the times of every rank meet in a tiny pzarr array (no mpi4py needed)
        tr, trr, sums = [], [], []
        for _ in range(reps):
            a.read_all((slice(0, 0),))  # everyone arrives
            t0 = time.perf_counter()
            a.read_all((slice(lo, hi),), out=out)
            t1 = time.perf_counter()
            s = float(out.sum())
            t2 = time.perf_counter()
            tr.append(t1 - t0)
            trr.append(t2 - t0)
            sums.append(s)
        return st, shape, tr, trr, sums


def main():
    mode = sys.argv[1]
    if mode == "make":
        make(sys.argv[2])
        return
    if mode == "pzarr":
        import pzarr
        path, name, reps, tdir = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        st, shape, tr, trr, sums = bench_pzarr(path, name, reps)
        # the ranks' times meet in a pzarr array (TIMES_DIR fresh for each run)
        with pzarr.open(f"{tdir}/times-np{st.size}.zarr", "w") as ts:
            t = ts.create_array("t", shape=(ts.size, 2 * reps + 1), dtype="f8",
                                chunks=(1, 2 * reps + 1), codec="none")
            t[ts.rank] = np.array(tr + trr + [sums[-1]])
            t.flush()
            if ts.rank == 0:
                m = t[:]
                print(report("py_read", ts.size, "Python: read_all of each rank's slab into numpy",
                             int(np.prod(shape)) * 8, {"sum": float(m[:, -1].sum())},
                             [("Python read_all", [float(x) for x in m[:, :reps].max(axis=0)]),
                              ("Python read_all + sum",
                               [float(x) for x in m[:, reps:2 * reps].max(axis=0)])]))
        return
    if mode == "dask":
        import dask
        import dask.array as da
        path, reps, threads = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        ts = []
        s = None
        with dask.config.set(scheduler="threads", num_workers=threads):
            for _ in range(reps):
                t0 = time.perf_counter()
                x = da.from_zarr(path)
                s = float(x.sum().compute())
                ts.append(time.perf_counter() - t0)
        print(report("dask", 1, f"dask + zarr-python: from_zarr(...).sum(), {threads} threads",
                     int(np.prod(x.shape)) * x.dtype.itemsize, {"sum": s, "threads": threads},
                     [("dask read + sum", ts)]))
        return
    if mode == "codec":  # the floor: decoding every chunk, one core, files in memory
        import os
        import numcodecs
        path, reps = sys.argv[2], int(sys.argv[3])
        meta = json.load(open(os.path.join(path, ".zarray")))
        codec = numcodecs.get_codec(meta["compressor"])
        files = [open(os.path.join(path, f), "rb").read() for f in sorted(os.listdir(path))
                 if not f.startswith(".")]
        nbytes = int(np.prod(meta["shape"])) * np.dtype(meta["dtype"]).itemsize
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for b in files:
                codec.decode(b)
            ts.append(time.perf_counter() - t0)
        print(report("codec", 1, f"{meta['compressor']['id']} decode of every chunk alone, one "
                     f"core (numcodecs, same libzstd)", nbytes, {"chunks": len(files)},
                     [("decode alone, one core", ts)]))
        return
    sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
