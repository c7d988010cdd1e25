#!/usr/bin/python3
"""interop.numcodecs_filters: the numcodecs filters (delta, fixedscaleoffset,
quantize, bitround, shuffle) and compressors (lz4, bz2, lzma) of Zarr v2,
both ways, against zarr-python 2.13 / numcodecs and xarray.

1. zarr-python writes arrays with filter chains and these compressors;
   `pzarr get` must return exactly what zarr-python reads back.
2. zarr-python makes the same arrays empty, `pzarr put` (2 ranks) writes the
   data: zarr-python must read what it reads from its own copy, and every
   chunk file must be byte for byte the one zarr-python wrote (lzma: the same
   values; liblzma's one-call and streaming encoders fill the block header
   differently).
3. The CLI's `--codec lz4|bz2|lzma` arrays open in zarr-python.
4. xarray writes a dataset with filters and lz4 in its encoding; pzarr reads it.
5. Fixed-length strings ("|S", "<U", ">U"): zarr-python and xarray (string
   coordinates) write, pzarr reads the same bytes; pzarr writes (CLI
   `--dtype S6|U5`, fill values included), zarr-python and xarray read.
"""
import filecmp
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import zarr  # noqa: E402
from numcodecs import BZ2, LZ4, LZMA, BitRound, Delta, FixedScaleOffset, Quantize, Shuffle, Zstd  # noqa: E402

from interop_common import Pzarr, Report, fresh_dir, parse_args  # noqa: E402


def cases():
    rng = np.random.default_rng(11)
    x = np.cumsum(rng.standard_normal((40, 30)), axis=0) * 10 + 1000
    return {
        "delta_i4_lz4": (x.astype("<i4"), [Delta(dtype="<i4")], LZ4()),
        "delta_u2_wrap": ((x * 100).astype("<i8").astype("<u2"), [Delta(dtype="<u2")], None),
        "delta_be_i2": (x.astype(">i2"), [Delta(dtype=">i2")], Zstd(level=1)),
        "delta_f4": (x.astype("<f4"), [Delta(dtype="<f4")], BZ2(level=9)),
        "fso_f8_i2_bz2": (x, [FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="<i2")],
                          BZ2(level=5)),
        "fso_f4_u1": (x.astype("<f4"), [FixedScaleOffset(offset=900, scale=1, dtype="<f4", astype="|u1")],
                      LZ4(acceleration=2)),
        "quantize_f4_lzma": (x.astype("<f4"), [Quantize(digits=2, dtype="<f4")], LZMA()),
        "quantize_f8_f4": (x, [Quantize(digits=3, dtype="<f8", astype="<f4")], None),
        "bitround_f8": (x, [BitRound(keepbits=12)], Zstd(level=3)),
        "bitround_f4": (x.astype("<f4"), [BitRound(keepbits=5)], LZ4()),
        "shuffle_delta_f8": (x, [Delta(dtype="<f8"), Shuffle(elementsize=8)], LZ4(acceleration=3)),
        "lzma_preset1": (x.astype("<i8"), None, LZMA(preset=1)),
        "order_f_delta": (x.astype("<i4"), [Delta(dtype="<i4")], LZ4(), "F"),
    }


def main():
    args = parse_args()
    rep = Report("interop.numcodecs_filters")
    work = fresh_dir(args.work + "/numcodecs")
    pz = Pzarr(args.pzarr)
    root = os.path.join(work, "f.zarr")
    for name, spec in cases().items():
        a, filters, comp = spec[:3]
        order = spec[3] if len(spec) > 3 else "C"
        kw = dict(shape=a.shape, chunks=(16, 16), dtype=a.dtype, filters=filters, compressor=comp,
                  order=order)
        # 1. zarr-python writes, pzarr reads
        ref = zarr.open_array(f"{root}/ref_{name}", mode="w", **kw)
        ref[...] = a
        want = ref[...]
        res = pz.get(f"{root}/ref_{name}")
        if rep.check(f"{name}: pzarr get", None if res.rc == 0 else res.why()):
            got = np.frombuffer(res.out, dtype=want.dtype.newbyteorder("=")).reshape(a.shape)
            rep.check(f"{name}: pzarr reads zarr-python's values",
                      None if np.array_equal(got, want) else "values differ")
        # 2. pzarr writes (2 ranks), zarr-python reads; chunks byte for byte
        zarr.open_array(f"{root}/pz_{name}", mode="w", **kw)
        src = os.path.join(work, "in.bin")
        np.ascontiguousarray(a.astype(a.dtype.newbyteorder("="))).tofile(src)
        args_put = ["put", f"{root}/pz_{name}", "-i", src, "-q"]
        res = pz.mpi(args.mpiexec, 2, args_put) if args.mpiexec else pz.run(args_put)
        if not rep.check(f"{name}: pzarr put", None if res.rc == 0 else res.why()):
            continue
        got = zarr.open_array(f"{root}/pz_{name}", mode="r")[...]
        rep.check(f"{name}: zarr-python reads pzarr's values",
                  None if np.array_equal(got, want) else "values differ")
        files = sorted(f for f in os.listdir(f"{root}/ref_{name}") if not f.startswith("."))
        differ = [f for f in files if not os.path.exists(f"{root}/pz_{name}/{f}")
                  or not filecmp.cmp(f"{root}/ref_{name}/{f}", f"{root}/pz_{name}/{f}", shallow=False)]
        if isinstance(comp, LZMA):
            rep.check(f"{name}: every chunk stored", None if all(
                os.path.exists(f"{root}/pz_{name}/{f}") for f in files) else "chunks missing")
        else:
            rep.check(f"{name}: chunks byte for byte zarr-python's", None if not differ
                      else f"{len(differ)} of {len(files)} differ: {differ[:4]}")
    # 3. the CLI's codec strings
    for codec in ("lz4", "lz4:7", "bz2:2", "lzma", "lzma:0"):
        path = f"{root}/cli_{codec.replace(':', '_')}"
        res = pz.run(["create", path, "--format", 2, "--dtype", "int16", "--shape", "50,20",
                      "--chunks", "16,16", "--codec", codec])
        if not rep.check(f"create --codec {codec}", None if res.rc == 0 else res.why()):
            continue
        a = np.arange(1000, dtype="<i2").reshape(50, 20)
        res = pz.put(path, a.tobytes())
        if rep.check(f"put --codec {codec}", None if res.rc == 0 else res.why()):
            z = zarr.open_array(path, mode="r")
            rep.check(f"zarr-python reads --codec {codec} ({z.compressor})",
                      None if np.array_equal(z[...], a) else "values differ")
    # 4. xarray's encoding with filters and lz4
    try:
        import xarray as xr
    except ImportError:
        rep.fail("xarray", "python3-xarray is not installed (.ci/install-deps installs it)")
        rep.finish()
    t = np.linspace(270.0, 300.0, 6 * 8).reshape(6, 8)
    ds = xr.Dataset({"temp": (("time", "x"), t)}, coords={"time": np.arange(6.0), "x": np.arange(8.0)})
    enc = {"temp": {"filters": [FixedScaleOffset(offset=270, scale=100, dtype="<f8", astype="<u2")],
                    "compressor": LZ4()},
           "time": {"filters": [Delta(dtype="<f8")], "compressor": BZ2()}}
    xpath = os.path.join(work, "xr_filters.zarr")
    ds.to_zarr(xpath, mode="w", consolidated=True, encoding=enc)
    back = xr.open_zarr(xpath, consolidated=True).load()
    for v in ("temp", "time"):
        res = pz.get(f"{xpath}/{v}")
        if rep.check(f"xarray {v}: pzarr get", None if res.rc == 0 else res.why()):
            got = np.frombuffer(res.out, dtype="<f8").reshape(back[v].shape)
            rep.check(f"xarray {v}: pzarr reads xarray's values",
                      None if np.array_equal(got, back[v].values) else "values differ")
    strings(rep, pz, work, args.mpiexec)
    rep.finish()


def strings(rep, pz, work, mpiexec):
    import xarray as xr
    root = os.path.join(work, "strings.zarr")
    names = np.array(["alpha", "b", "gamma-7", "", "ümlaut"], dtype="<U7")
    codes = np.array([b"AB", b"", b"WXYZ", b"q", b"zz"], dtype="|S4")
    for name, arr, comp in (("u_le", names, Zstd(level=1)), ("u_be", names.astype(">U7"), LZ4()),
                            ("s", codes, None)):
        z = zarr.open_array(f"{root}/{name}", mode="w", shape=arr.shape, chunks=(2,), dtype=arr.dtype,
                            compressor=comp, fill_value="" if arr.dtype.kind == "U" else b"")
        z[...] = arr
        res = pz.get(f"{root}/{name}")
        if rep.check(f"strings {name}: pzarr get", None if res.rc == 0 else res.why()):
            want = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("="))).tobytes()
            rep.check(f"strings {name}: pzarr reads zarr-python's bytes",
                      None if res.out == want else f"{res.out[:40]!r} vs {want[:40]!r}")
    # xarray writes string coordinates
    ds = xr.Dataset({"t": (("station",), np.arange(5.0))}, coords={"station": names, "code": ("station", codes)})
    xpath = os.path.join(work, "xr_strings.zarr")
    ds.to_zarr(xpath, mode="w", consolidated=True)
    back = xr.open_zarr(xpath).load()
    for v in ("station", "code"):
        res = pz.get(f"{xpath}/{v}")
        if rep.check(f"xarray {v}: pzarr get", None if res.rc == 0 else res.why()):
            arr = back[v].values.astype(zarr.open_array(f"{xpath}/{v}", mode="r").dtype)
            want = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("="))).tobytes()
            rep.check(f"xarray {v}: pzarr reads xarray's strings", None if res.out == want else "differ")
    # pzarr writes
    for name, dt, fill, arr in (("pz_s", "S6", "abc", np.array([b"ab", b"cdefgh", b"x"], dtype="S6")),
                                ("pz_u", "U5", "ß", np.array(["é", "ünï", "zz"], dtype="<U5"))):
        path = os.path.join(work, "pzstrings.zarr", name)  # a store the CLI makes
        res = pz.run(["create", path, "--format", 2, "--dtype", dt, "--shape", "3", "--chunks", "2",
                      "--fill", fill, "--dims", "station"])
        if not rep.check(f"create --dtype {dt}", None if res.rc == 0 else res.why()):
            continue
        src = os.path.join(work, "str.bin")
        arr.tofile(src)
        args_put = ["put", path, "-i", src, "-q"]
        res = pz.mpi(mpiexec, 2, args_put) if mpiexec else pz.run(args_put)
        if not rep.check(f"put --dtype {dt}", None if res.rc == 0 else res.why()):
            continue
        z = zarr.open_array(path, mode="r")
        want_fill = fill.encode() if dt[0] == "S" else fill
        rep.check(f"zarr-python reads pzarr's {dt}", None if np.array_equal(z[...], arr)
                  and z.fill_value == want_fill else f"{z[...]} fill {z.fill_value!r}")
    xb = xr.open_zarr(os.path.join(work, "pzstrings.zarr"), consolidated=True).load()
    rep.check("xarray reads pzarr's strings", None if list(xb["pz_u"].values) == ["é", "ünï", "zz"]
              else f"{xb['pz_u'].values}")
    utf32_v3(rep, pz, work, names)


def utf32_v3(rep, pz, work, names):
    """Zarr v3 fixed_length_utf32 (zarr-python 3's form for numpy "<U"): no
    reader of v3 strings is installed here, so the chunk files themselves must
    be numpy's bytes (code units in the bytes codec's order, the last chunk
    padded with the fill value) and the document must have the object form."""
    src = os.path.join(work, "u7.bin")
    names.tofile(src)  # native little-endian "<U7"
    for endian, dt in (("little", "<U7"), ("big", ">U7")):
        path = os.path.join(work, f"utf32_{endian}.zarr")
        if os.path.isdir(path):
            shutil.rmtree(path)
        res = pz.run(["create", path, "--dtype", "U7", "--shape", "5", "--chunks", "2",
                      "--codec", "none", "--fill", "?", "--endian", endian])
        if not rep.check(f"v3 U7 {endian}: create", None if res.rc == 0 else res.why()):
            continue
        res = pz.run(["put", path, "-i", src, "-q"])
        if not rep.check(f"v3 U7 {endian}: put", None if res.rc == 0 else res.why()):
            continue
        with open(os.path.join(path, "zarr.json")) as fh:
            meta = json.load(fh)
        rep.check(f"v3 U7 {endian}: data_type object", None if meta["data_type"] == {
            "name": "fixed_length_utf32", "configuration": {"length_bytes": 28}}
            else f"{meta['data_type']}")
        rep.check(f"v3 U7 {endian}: fill value a string", None if meta["fill_value"] == "?"
                  else f"{meta['fill_value']!r}")
        want = names.astype(dt)
        padded = np.concatenate([want, np.array(["?"], dtype=dt)]).astype(dt)
        bad = [i for i in range(3) if open(os.path.join(path, "c", str(i)), "rb").read()
               != padded[2 * i:2 * i + 2].tobytes()]
        rep.check(f"v3 U7 {endian}: chunk files are numpy's {dt} bytes",
                  None if not bad else f"chunks {bad} differ")
        res = pz.get(path)
        rep.check(f"v3 U7 {endian}: pzarr reads it back", None if res.rc == 0 and
                  res.out == names.tobytes() else res.why())


if __name__ == "__main__":
    main()
