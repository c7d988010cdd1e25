#!/usr/bin/python3
"""python.xarray: xr.open_dataset(path, engine="pzarr") against xarray's own
zarr backend (xr.open_zarr, zarr-python 2.13) on the same stores.

1. A dataset written by xarray itself (to_zarr, v2, consolidated): float
   with NaN and a _FillValue, int, datetime64 time coordinate (CF units),
   a string coordinate, attributes, a scalar: identical to open_zarr's.
2. A dataset made by pzarr's Python API in v2 (dims, attrs, coordinates):
   identical to open_zarr's.
3. The same made in v3, which this xarray cannot read: dims, attributes and
   values equal to what was written.
4. Lazy indexing (ints, slices with steps, negative steps) equals numpy's;
   guess_can_open; the engine is registered under "pzarr".
"""
import os
import shutil
import sys
import traceback

import numpy as np
import xarray as xr

import pzarr
from pzarr.xarray_backend import PzarrBackendEntrypoint

WORK = sys.argv[1]
if os.path.exists(WORK):
    shutil.rmtree(WORK)
os.makedirs(WORK)


def xarray_written():
    t = np.array(["2020-01-01T00:00", "2020-01-01T06:00", "2020-01-01T12:00",
                  "2020-01-01T18:00"], dtype="M8[ns]")
    temp = np.arange(4 * 5 * 6, dtype="f4").reshape(4, 5, 6)
    temp[1, 2, 3] = np.nan
    ds = xr.Dataset(
        {"temp": (("time", "y", "x"), temp, {"units": "K", "long_name": "temperature"}),
         "count": (("y", "x"), np.arange(30, dtype="i4").reshape(5, 6)),
         "scale": ((), np.float64(2.5))},
        coords={"time": t, "y": np.linspace(0, 1, 5), "station": ("x", list("abcdef"))},
        attrs={"title": "xarray-made", "n": 3})
    p = os.path.join(WORK, "xr.zarr")
    ds.to_zarr(p, mode="w", consolidated=True,
               encoding={"temp": {"chunks": (2, 5, 3)}, "count": {"_FillValue": -1}})
    return p


def pzarr_written(fmt):
    p = os.path.join(WORK, f"pz{fmt}.zarr")
    if os.path.exists(p):
        shutil.rmtree(p)
    with pzarr.open(p, "w", format=fmt) as st:
        st.attrs.update({"title": f"pzarr-made v{fmt}", "version": 1})
        x = st.create_array("x", shape=(8,), dtype="f8", dims=("x",), codec="none")
        x[:] = np.linspace(-1, 1, 8)
        v = st.create_array("v", shape=(3, 8), dtype="f4", chunks=(2, 3), dims=("z", "x"),
                            attrs={"units": "m/s"}, codec="zstd:1")
        data = np.arange(24, dtype="f4").reshape(3, 8) / 4
        data[0, 0] = np.nan
        v[:] = data
        n = st.create_array("n", shape=(3,), dtype="i8", dims=("z",), fill=7)
        n[0:2] = [10, 20]  # the last element stays the fill (masked by xarray for v2)
        s = st.create_array("label", shape=(3,), dtype=str, chunks=(2,), dims=("z",))
        s[:] = ["one", "twö", ""]
    return p, data


def check(label, cond, detail=""):
    if not cond:
        raise AssertionError(f"{label}: {detail}")


def test_xarray_written():
    p = xarray_written()
    mine = xr.open_dataset(p, engine="pzarr").load()
    theirs = xr.open_zarr(p).load()
    xr.testing.assert_identical(mine, theirs)
    check("time decoded", mine.time.dtype == np.dtype("M8[ns]"), mine.time.dtype)


def test_pzarr_written_v2():
    p, data = pzarr_written(2)
    mine = xr.open_dataset(p, engine="pzarr").load()
    theirs = xr.open_zarr(p).load()
    xr.testing.assert_identical(mine, theirs)
    check("x is a coordinate", "x" in mine.coords)


def test_pzarr_written_v3():
    p, data = pzarr_written(3)
    ds = xr.open_dataset(p, engine="pzarr")
    check("dims", dict(ds.sizes) == {"x": 8, "z": 3}, dict(ds.sizes))
    check("attrs", ds.attrs == {"title": "pzarr-made v3", "version": 1}, ds.attrs)
    check("v values", np.array_equal(ds.v.values, data, equal_nan=True))
    check("v attrs", ds.v.attrs == {"units": "m/s"}, ds.v.attrs)
    # the fill "" is _FillValue: xarray masks it, as its zarr backend does in v2
    lab = list(ds.label.values)
    check("labels", lab[:2] == ["one", "twö"] and lab[2] != lab[2], lab)
    # v3 integer fill 7 is _FillValue: xarray masks it, as its zarr backend does
    check("n masked", np.isnan(ds.n.values[2]) and list(ds.n.values[:2]) == [10, 20],
          ds.n.values)
    check("x coord", np.allclose(ds.x.values, np.linspace(-1, 1, 8)))
    ds.close()


def test_lazy_indexing():
    p, data = pzarr_written(3)
    ds = xr.open_dataset(p, engine="pzarr")
    v = ds.v
    for key in [(1, slice(None)), (slice(0, 2), slice(1, 7, 2)), (slice(None, None, -1), 3),
                (slice(2, 0, -1), slice(7, 0, -3)), (-1, -1)]:
        got = v[key].values
        want = data[key]
        check(f"v[{key}]", np.array_equal(got, want, equal_nan=True), (got, want))
    got = v.isel(x=[0, 5, 2]).values  # outer indexing by lists: xarray reads a box
    check("isel by list", np.array_equal(got, data[:, [0, 5, 2]], equal_nan=True))
    ds.close()


def test_excl():
    p, _ = pzarr_written(2)
    try:
        pzarr.open(p, "w")
        raise AssertionError("mode w opened an existing store")
    except pzarr.AlreadyExists as e:
        check("message names the store", p in e.message, e.message)


def test_registration():
    check("engine listed", "pzarr" in xr.backends.list_engines(),
          list(xr.backends.list_engines()))
    e = PzarrBackendEntrypoint()
    p, _ = pzarr_written(2)
    check("guess zarr", e.guess_can_open(p))
    check("guess other", not e.guess_can_open(WORK + "/nothing.nc"))


TESTS = [test_xarray_written, test_pzarr_written_v2, test_pzarr_written_v3, test_lazy_indexing,
         test_excl, test_registration]


def main():
    failed = 0
    for t in TESTS:
        try:
            t()
            print(f"ok   {t.__name__}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}\n{traceback.format_exc()}", flush=True)
    print(f"python.xarray: {len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
