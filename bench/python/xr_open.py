#!/usr/bin/python3
"""xarray open + load, one process (issue 19): a consolidated v2 dataset of 16
float32 variables of 64x64x64 in 16^3 chunks (zstd:1) on 3 dimensions with
coordinates, written by xarray itself; then, alternating, REPS times each:

    xr.open_dataset(path, engine="pzarr").load()
    xr.open_zarr(path).load()                  (zarr-python 2.13 + dask)

Prints JSON: the seconds of each, and checks the two datasets are identical.

    python3 xr_open.py DIR REPS
"""
import json
import os
import shutil
import sys
import time

import numpy as np
import xarray as xr


def make(path):
    n = 64
    rng = np.random.default_rng(19)
    coords = {"z": np.arange(n, dtype="f8"), "y": np.linspace(-1, 1, n),
              "x": np.linspace(0, 10, n)}
    zz, yy, xx = np.meshgrid(coords["z"], coords["y"], coords["x"], indexing="ij")
    data = {}
    for v in range(16):
        f = (np.sin(zz * 0.1 + v) * np.cos(yy * 3) + xx * 0.01 +
             rng.normal(0, 1e-3, zz.shape)).astype("f4")
        data[f"v{v:02d}"] = (("z", "y", "x"), f, {"units": "K", "index": v})
    ds = xr.Dataset(data, coords=coords, attrs={"title": "xr_open benchmark"})
    enc = {k: {"chunks": (16, 16, 16), "compressor": None} for k in data}
    import numcodecs
    for k in enc:
        enc[k]["compressor"] = numcodecs.Zstd(level=1)
    ds.to_zarr(path, mode="w", consolidated=True, encoding=enc)


def main():
    d, reps = sys.argv[1], int(sys.argv[2])
    path = os.path.join(d, "xr16.zarr")
    if os.path.exists(path):
        shutil.rmtree(path)
    make(path)
    ours, theirs = [], []
    a = b = None
    for _ in range(reps):
        t0 = time.perf_counter()
        a = xr.open_dataset(path, engine="pzarr").load()
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = xr.open_zarr(path).load()
        theirs.append(time.perf_counter() - t0)
    xr.testing.assert_identical(a, b)
    chunks = sum(1 for root, _, files in os.walk(path) for f in files if not f.startswith("."))
    rows = []
    for name, v in (("engine=pzarr open + load", ours), ("open_zarr + load", theirs)):
        srt = sorted(v)
        rows.append({"name": name, "best_s": srt[0], "median_s": srt[len(srt) // 2],
                     "samples": v})
    print(json.dumps({"tool": "xr_open", "pattern": "xarray-open", "ranks": 1,
                      "title": "xarray: 16 float32 variables of 64^3 in 16^3 chunks, v2 "
                               "consolidated, zstd:1",
                      "metrics": {"vars": 16, "chunk_files": chunks, "identical": True},
                      "rows": rows}))


if __name__ == "__main__":
    main()
