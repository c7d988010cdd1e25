#!/usr/bin/python3
"""interop.ecosystem_datasets: datasets that xarray, netCDF-C and GDAL open
as pzarr wrote them, and xarray datasets that pzarr reads and extends.

1. The CLI alone builds a Zarr v2 dataset of three variables on coordinates
   (`pzarr create out.zarr/NAME --dims ...`, data by `mpiexec -n 2 pzarr
   put`); xarray's `open_zarr(consolidated=True)` must give the dimensions,
   coordinates, values and attributes; its default open must not warn about
   missing consolidated metadata; `ncdump -h` (netCDF-C's Zarr mode) must name
   the dimensions; `gdalmdiminfo` must list every array with its dimensions.
2. pzarr then resizes a variable and its coordinate and adds a variable:
   xarray's consolidated open sees all of it, and so does ncdump.
3. xarray writes a dataset (consolidated, zarr-python's default compressor);
   pzarr reads its values and dimension names, adds a variable, and
   xarray's consolidated open sees the new variable.
4. examples/05_dataset (the C spec API, 2 ranks) makes a dataset; xarray
   opens it consolidated with its dimensions, values and attributes, and
   ncdump names its dimensions.
"""
import json
import os
import shutil
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import Pzarr, Report, fresh_dir, parse_args  # noqa: E402

NT, NY, NX = 4, 3, 5


def run(argv, timeout=120):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def must(rep, label, res):
    """A pzarr run that must succeed."""
    return rep.check(label, None if res.rc == 0 else res.why())


def put_file(pz, mpiexec, work, path, arr, region=None):
    f = os.path.join(work, "in.bin")
    np.ascontiguousarray(arr).tofile(f)
    args = ["put", path, "-i", f, "-q"] + (["--region", region] if region else [])
    return pz.mpi(mpiexec, 2, args) if mpiexec else pz.run(args)


def expected(nt):
    t = np.arange(nt, dtype="f8") * 10.0
    y = np.linspace(-1.0, 1.0, NY)
    x = np.linspace(0.0, 4.0, NX)
    temp = (np.arange(nt * NY * NX, dtype="f4").reshape(nt, NY, NX) * 0.5 + 250).astype("f4")
    pres = 1000.0 + np.arange(nt, dtype="f8")
    mask = (np.arange(NY * NX).reshape(NY, NX) % 2).astype("u1")
    return dict(time=t, y=y, x=x, temp=temp, pres=pres, mask=mask)


def build_with_cli(pz, mpiexec, work, ds, rep):
    e = expected(NT)
    steps = [
        # Float fill NaN: xarray masks values equal to the fill value, and
        # these coordinates hold 0.
        ("time", ["--dtype", "float64", "--shape", NT, "--dims", "time", "--fill", "nan",
                  "--attrs", '{"units":"s","standard_name":"time"}']),
        ("y", ["--dtype", "float64", "--shape", NY, "--dims", "y", "--fill", "nan"]),
        ("x", ["--dtype", "float64", "--shape", NX, "--dims", "x", "--fill", "nan"]),
        ("temp", ["--dtype", "float32", "--shape", f"{NT},{NY},{NX}", "--chunks", f"2,{NY},{NX}",
                  "--dims", "time,y,x", "--fill", "nan", "--codec", "blosc:lz4:5:shuffle",
                  "--attrs", '{"units":"K","long_name":"air temperature"}']),
        ("pres", ["--dtype", "float64", "--shape", NT, "--chunks", 2, "--dims", "time",
                  "--fill", "nan", "--attrs", '{"units":"hPa"}']),
        ("mask", ["--dtype", "uint8", "--shape", f"{NY},{NX}", "--dims", "y,x", "--codec", "gzip:5",
                  "--fill", 255]),
    ]
    for name, opts in steps:
        must(rep, f"create {name}", pz.run(["create", f"{ds}/{name}", "--format", 2] + opts))
        must(rep, f"put {name}", put_file(pz, mpiexec, work, f"{ds}/{name}", e[name]))
    return e


def open_xr(path, **kw):
    import xarray as xr
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ds = xr.open_zarr(path, **kw)
        ds.load()
    consolidated_warnings = [str(x.message) for x in w if "consolidated" in str(x.message).lower()]
    return ds, consolidated_warnings


def check_xarray(rep, label, path, e, extra_vars=()):
    try:
        ds, cw = open_xr(path, consolidated=True)
    except Exception as ex:  # noqa: BLE001
        rep.fail(f"{label}: open_zarr(consolidated=True)", repr(ex))
        return
    nt = len(e["time"])
    rep.check(f"{label}: dims", None if dict(ds.sizes) == {"time": nt, "y": NY, "x": NX}
              else f"sizes {dict(ds.sizes)}")
    rep.check(f"{label}: coords", None if set(ds.coords) == {"time", "y", "x"} else f"coords {list(ds.coords)}")
    for v in ("temp", "pres", "mask") + tuple(extra_vars):
        if v not in ds:
            rep.fail(f"{label}: {v}", f"missing; variables {list(ds.data_vars)}")
            continue
        want = e[v]
        got = ds[v].values
        if v == "mask":  # not masked: its fill is 255, never stored
            got = got.astype("u1")
        rep.check(f"{label}: {v} values", None if got.shape == want.shape and np.allclose(got, want, equal_nan=True)
                  else f"shape {got.shape} vs {want.shape}")
    for c in ("time", "y", "x"):
        rep.check(f"{label}: coordinate {c}", None if np.allclose(ds[c].values, e[c]) else f"{ds[c].values}")
    rep.check(f"{label}: dims of temp", None if ds["temp"].dims == ("time", "y", "x") else f"{ds['temp'].dims}")
    rep.check(f"{label}: attributes", None if ds["temp"].attrs.get("units") == "K"
              and ds["temp"].attrs.get("long_name") == "air temperature"
              and ds["pres"].attrs.get("units") == "hPa"
              and "_ARRAY_DIMENSIONS" not in ds["temp"].attrs else f"{ds['temp'].attrs}")
    rep.check(f"{label}: no warning", None if not cw else f"{cw}")
    try:
        _, cw2 = open_xr(path)
        rep.check(f"{label}: default open does not warn", None if not cw2 else f"{cw2}")
    except Exception as ex:  # noqa: BLE001
        rep.fail(f"{label}: default open", repr(ex))


def check_ncdump(rep, label, path, nt, extra=()):
    if not shutil.which("ncdump"):
        rep.fail(f"{label}: ncdump", "netcdf-bin is not installed (.ci/install-deps installs it)")
        return
    rc, out, err = run(["ncdump", "-h", f"file://{os.path.abspath(path)}#mode=zarr,file"])
    if not rep.check(f"{label}: ncdump runs", None if rc == 0 else f"exit {rc}: {err[:300]}"):
        return
    want = [f"time = {nt} ;", f"y = {NY} ;", f"x = {NX} ;", "float temp(time, y, x) ;",
            "double pres(time) ;", "mask(y, x) ;", 'temp:units = "K" ;'] + list(extra)
    missing = [w for w in want if w not in out]
    rep.check(f"{label}: ncdump names the dimensions", None if not missing and "_zdim" not in out
              else f"missing {missing} in:\n{out}")


def check_gdal(rep, label, path, nt):
    if not shutil.which("gdalmdiminfo"):
        rep.fail(f"{label}: gdalmdiminfo", "gdal-bin is not installed (.ci/install-deps installs it)")
        return
    rc, out, err = run(["gdalmdiminfo", os.path.abspath(path)])
    if not rep.check(f"{label}: gdalmdiminfo runs", None if rc == 0 else f"exit {rc}: {err[:300]}"):
        return
    try:
        info = json.loads(out)
    except ValueError as ex:
        rep.fail(f"{label}: gdalmdiminfo JSON", str(ex))
        return
    arrays = info.get("arrays", {})
    dims = {d["name"]: d["size"] for d in info.get("dimensions", [])}
    rep.check(f"{label}: gdal dimensions", None if dims == {"time": nt, "y": NY, "x": NX} else f"{dims}")
    want = {"temp": ["/time", "/y", "/x"], "pres": ["/time"], "mask": ["/y", "/x"], "time": ["/time"]}
    bad = {k: arrays.get(k, {}).get("dimensions") for k, v in want.items()
           if arrays.get(k, {}).get("dimensions") != v}
    rep.check(f"{label}: gdal lists the arrays with their dimensions", None if not bad else f"{bad}")


def pzarr_side_changes(pz, mpiexec, work, ds, rep):
    """Resize temp, pres and time to 6 steps, fill the new rows, add rain."""
    e = expected(6)
    for name, shape in (("time", "6"), ("temp", f"6,{NY},{NX}"), ("pres", "6")):
        must(rep, f"resize {name}", pz.run(["resize", f"{ds}/{name}", "--shape", shape]))
        must(rep, f"put {name} again", put_file(pz, mpiexec, work, f"{ds}/{name}", e[name]))
    e["rain"] = np.linspace(0.0, 1.0, 6 * NY * NX).reshape(6, NY, NX)
    must(rep, "create rain", pz.run(["create", f"{ds}/rain", "--format", 2, "--dtype", "float64",
                                     "--shape", f"6,{NY},{NX}", "--dims", "time,y,x", "--fill", "nan"]))
    must(rep, "put rain", put_file(pz, mpiexec, work, f"{ds}/rain", e["rain"]))
    return e


def xarray_writes(rep, pz, work):
    import xarray as xr
    path = os.path.join(work, "from_xarray.zarr")
    e = expected(NT)
    xds = xr.Dataset(
        {"temp": (("time", "y", "x"), e["temp"], {"units": "K"}),
         "pres": (("time",), e["pres"])},
        coords={"time": e["time"], "y": e["y"], "x": e["x"]})
    xds.to_zarr(path, consolidated=True, mode="w")
    res = pz.get(f"{path}/temp")
    if must(rep, "pzarr get xarray's temp", res):
        got = np.frombuffer(res.out, dtype="<f4").reshape(NT, NY, NX)
        rep.check("pzarr reads xarray's values", None if np.array_equal(got, e["temp"]) else "values differ")
    res = pz.run(["info", f"{path}/temp"])
    rep.check("pzarr sees xarray's dimension names", None if res.rc == 0 and "time, y, x" in res.out.decode()
              else res.why() + res.out.decode()[:300])
    wind = np.arange(NT * NY * NX, dtype="f8").reshape(NT, NY, NX)
    must(rep, "pzarr adds a variable to xarray's store",
         pz.run(["create", f"{path}/wind", "--format", 2, "--dtype", "float64",
                 "--shape", f"{NT},{NY},{NX}", "--dims", "time,y,x", "--fill", "nan"]))
    must(rep, "put wind", put_file(pz, None, work, f"{path}/wind", wind))
    try:
        ds, cw = open_xr(path, consolidated=True)
        rep.check("xarray sees pzarr's new variable (consolidated)",
                  None if "wind" in ds and np.array_equal(ds["wind"].values, wind) else f"{list(ds.data_vars)}")
        rep.check("xarray's own variables intact", None if np.array_equal(ds["temp"].values, e["temp"]) else "temp differs")
    except Exception as ex:  # noqa: BLE001
        rep.fail("xarray reopens its store after pzarr", repr(ex))


def example_dataset(rep, mpiexec, binary, work):
    path = os.path.join(work, "from_c.zarr")
    argv = ([mpiexec, "-n", "2"] if mpiexec else []) + [binary, path]
    rc, out, err = run(argv, timeout=180)
    if not rep.check("05_dataset runs", None if rc == 0 else f"exit {rc}: {err[:300]}"):
        return
    try:
        ds, cw = open_xr(path, consolidated=True)
    except Exception as ex:  # noqa: BLE001
        rep.fail("05_dataset: open_zarr(consolidated=True)", repr(ex))
        return
    rep.check("05_dataset: dims", None if dict(ds.sizes) == {"time": 4, "y": 6, "x": 8}
              else f"{dict(ds.sizes)}")
    t, y, x = np.meshgrid(np.arange(4), np.arange(6), np.arange(8), indexing="ij")
    want = (280.0 + t + 0.5 * y - 0.25 * x).astype("f4")
    rep.check("05_dataset: temp values", None if np.array_equal(ds["temp"].values, want) else "differ")
    rep.check("05_dataset: temp dims", None if ds["temp"].dims == ("time", "y", "x") else f"{ds['temp'].dims}")
    rep.check("05_dataset: attributes", None if ds.attrs.get("title") == "05_dataset"
              and ds["temp"].attrs.get("units") == "K" else f"{ds.attrs} {ds['temp'].attrs}")
    rep.check("05_dataset: pres values", None if np.array_equal(ds["pres"].values, 1000.0 - np.arange(4))
              else f"{ds['pres'].values}")
    rep.check("05_dataset: no warning", None if not cw else f"{cw}")
    if shutil.which("ncdump"):
        rc, out, err = run(["ncdump", "-h", f"file://{os.path.abspath(path)}#mode=zarr,file"])
        rep.check("05_dataset: ncdump", None if rc == 0 and "float temp(time, y, x) ;" in out
                  and "_zdim" not in out else f"exit {rc}: {out[:400]} {err[:200]}")


def main():
    args = parse_args(lambda p: p.add_argument("--example", default="",
                                               help="examples/05_dataset binary"))
    rep = Report("interop.ecosystem_datasets")
    work = fresh_dir(args.work + "/ecosystem")
    pz = Pzarr(args.pzarr)
    mpiexec = args.mpiexec or None
    ds = os.path.join(work, "out.zarr")

    e = build_with_cli(pz, mpiexec, work, ds, rep)
    check_xarray(rep, "CLI dataset", ds, e)
    check_ncdump(rep, "CLI dataset", ds, NT)
    check_gdal(rep, "CLI dataset", ds, NT)

    e = pzarr_side_changes(pz, mpiexec, work, ds, rep)
    check_xarray(rep, "after resize + new variable", ds, e, extra_vars=("rain",))
    check_ncdump(rep, "after resize + new variable", ds, 6, extra=("double rain(time, y, x) ;",))

    xarray_writes(rep, pz, work)
    if args.example:
        example_dataset(rep, mpiexec, args.example, work)
    else:
        rep.fail("05_dataset", "no --example binary given")
    rep.finish()


if __name__ == "__main__":
    main()
