"""dask + zarr-python rechunking the array pzarr-bench copy --keep left.

    zp_rechunk.py SRC --to-chunks 512,16,16 [--codec zstd:1] [--threads 2] [--reps 3] [--json]

The same rechunk as pzarr's copy pattern: da.from_zarr(SRC).rechunk(...).to_zarr(DST),
with the threaded scheduler (--threads workers), DST beside SRC. Reports the best and
median seconds, and the target's values checked against the source once.
"""
import argparse, json, os, shutil, statistics, sys, time

import dask
import dask.array as da
import numcodecs
import numpy as np
import zarr


def compressor(spec):
    name, _, arg = spec.partition(":")
    if name == "none":
        return None
    if name == "zstd":
        return numcodecs.Zstd(level=int(arg or 1))
    if name == "blosc":
        cname, clevel, shuffle = (arg.split(":") + ["lz4", "5", "shuffle"])[:3]
        sh = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}[shuffle]
        return numcodecs.Blosc(cname=cname, clevel=int(clevel), shuffle=sh)
    if name == "zfp":
        import zfpy  # noqa: F401  (numcodecs.zfpy needs it)
        from numcodecs.zfpy import ZFPY
        mode, value = arg.split(":")
        if mode == "accuracy":
            return ZFPY(mode=4, tolerance=float(value))
        if mode == "rate":
            return ZFPY(mode=2, rate=float(value))
        if mode == "precision":
            return ZFPY(mode=3, precision=int(value))
    raise SystemExit("zp_rechunk.py: codec %s is not known here" % spec)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("--to-chunks", required=True)
    p.add_argument("--codec", default="zstd:1")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    chunks = tuple(int(x) for x in a.to_chunks.split(","))
    dst = os.path.join(os.path.dirname(a.src.rstrip("/")), "dask.zarr")
    dask.config.set(scheduler="threads", num_workers=a.threads)
    comp = compressor(a.codec)
    times = []
    for _ in range(a.reps):
        shutil.rmtree(dst, ignore_errors=True)
        t0 = time.perf_counter()
        da.from_zarr(a.src).rechunk(chunks).to_zarr(dst, compressor=comp)
        times.append(time.perf_counter() - t0)
    src = zarr.open(a.src, mode="r")
    out = zarr.open(dst, mode="r")
    ok = out.chunks == chunks and out.shape == src.shape
    if ok and a.codec.startswith("zfp"):
        tol = float(a.codec.split(":")[2]) if ":accuracy:" in ":" + a.codec[4:] else None
        ok = tol is None or float(np.max(np.abs(out[:] - src[:]))) <= tol
    elif ok:
        ok = bool((out[:] == src[:]).all())
    shutil.rmtree(dst, ignore_errors=True)
    nbytes = src.nbytes
    best, med = min(times), statistics.median(times)
    res = {"tool": "zp_rechunk", "pattern": "rechunk", "ranks": 1,
           "title": "dask %s + zarr-python %s: rechunk %s to %s (%s, %d threads)" % (
               dask.__version__, zarr.__version__, "x".join(map(str, src.shape)),
               "x".join(map(str, chunks)), a.codec, a.threads),
           "rows": [{"name": "dask + zarr-python rechunk", "best_s": best, "median_s": med,
                     "gbps": nbytes / best / 1e9}],
           "metrics": {"codec": a.codec, "threads": a.threads, "bytes": nbytes,
                       "shape": "x".join(map(str, src.shape)),
                       "to_chunks": ",".join(map(str, chunks)), "values": "ok" if ok else "WRONG",
                       "numcodecs": numcodecs.__version__}}
    if a.json:
        print(json.dumps(res))
    else:
        print("dask + zarr-python rechunk to %s (%s, %d threads): best %.3f s, median %.3f s, "
              "%.3f GB/s, values %s" % ("x".join(map(str, chunks)), a.codec, a.threads,
                                        best, med, nbytes / best / 1e9,
                                        "ok" if ok else "WRONG"))
    sys.exit(0 if ok else 1)


main()
