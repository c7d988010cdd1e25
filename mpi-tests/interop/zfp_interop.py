#!/usr/bin/python3
"""interop.zfp: zfp in Zarr v2 (numcodecs' ZFPY, zfp's full header) and v3
(zarr-extensions "zfp", no header), against numcodecs 0.11 + zfpy 1.0.

1. zarr-python writes v2 arrays with ZFPY in every mode (fixed accuracy,
   rate, precision, reversible) and every type zfpy takes; `pzarr get` returns
   exactly what numcodecs itself decodes from the same chunks.
2. zarr-python makes the same arrays empty and `pzarr put` (2 ranks) writes
   the data: every chunk file is byte for byte the one zarr-python wrote, and
   zarr-python reads the values.
3. v3 "zfp": pzarr's chunk files are byte for byte the streams
   zfpy.compress_numpy(write_header=False) makes for the same chunk and mode
   (zarr-extensions: no header); the document follows zarr-extensions.
4. fixed_accuracy on real-looking data (a smooth field with small noise):
   the error stays within the tolerance, through `pzarr copy --codec
   zfp:accuracy:T` of a zstd checkpoint at 2 ranks, read back by zarr-python.
5. Refusals: types zfp lacks, chunks of more than 4 dimensions, corrupt and
   truncated chunks (an error naming the chunk, no crash).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import zarr  # noqa: E402
import numcodecs  # noqa: E402
import zfpy  # noqa: E402
from numcodecs.zfpy import ZFPY  # noqa: E402

from interop_common import Pzarr, Report, fresh_dir, parse_args  # noqa: E402


def field(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in shape], indexing="ij")
    a = sum(np.sin((3 + i) * g + i) for i, g in enumerate(grids)) * 250 + 290
    a = a + rng.standard_normal(shape) * 0.01
    if np.dtype(dtype).kind == "i":
        a = a * 1000
    return a.astype(dtype)


MODES = {
    "accuracy": (dict(mode=4, tolerance=1e-3), "zfp:accuracy:0.001"),
    "rate": (dict(mode=2, rate=16), "zfp:rate:16"),
    "precision": (dict(mode=3, precision=20), "zfp:precision:20"),
    "reversible": (dict(mode=4, tolerance=-1), "zfp:reversible"),
}


def chunk_of(a, chunks, cc, fill):
    sel = tuple(slice(c * k, min((c + 1) * k, n)) for c, k, n in zip(cc, chunks, a.shape))
    out = np.full(chunks, fill, dtype=a.dtype)
    part = a[sel]
    out[tuple(slice(0, n) for n in part.shape)] = part
    return out


def main():
    args = parse_args()
    rep = Report("interop.zfp")
    pz = Pzarr(args.pzarr)
    work = fresh_dir(args.work + "/zfp")
    shape, chunks = (20, 24, 18), (8, 12, 9)
    for dtype in ("<f8", "<f4", "<i4", "<i8"):
        a = field(shape, dtype, 3)
        for mname, (kw, cstr) in MODES.items():
            if np.dtype(dtype).kind == "i" and mname == "accuracy":
                kw = dict(mode=4, tolerance=1.0)
                cstr = "zfp:accuracy:1"
            name = f"{mname}_{np.dtype(dtype).str[1:]}"
            comp = ZFPY(**kw)
            # 1. zarr-python writes, pzarr reads
            zp = f"{work}/zp_{name}"
            z = zarr.open(zp, mode="w", shape=shape, chunks=chunks, dtype=dtype, compressor=comp)
            z[:] = a
            want = z[:]
            r = pz.get(zp)
            if r.rc != 0:
                rep.fail(f"{name}: pzarr reads zarr-python", r.why())
                continue
            got = np.frombuffer(r.out, dtype=np.dtype(dtype).newbyteorder("="))
            rep.check(f"{name}: pzarr reads what numcodecs decodes",
                      None if np.array_equal(got.reshape(shape), want) else "values differ")
            # 2. pzarr writes into zarr-python's empty twin
            pw = f"{work}/pz_{name}"
            zarr.open(pw, mode="w", shape=shape, chunks=chunks, dtype=dtype, compressor=comp)
            src = f"{work}/{name}.bin"
            a.astype(np.dtype(dtype).newbyteorder("=")).tofile(src)
            r = pz.mpi(args.mpiexec, 2, ["put", pw, "-i", src, "-q"])
            if r.rc != 0:
                rep.fail(f"{name}: pzarr writes", r.why())
                continue
            diff = [k for k in sorted(os.listdir(zp)) if not k.startswith(".") and
                    open(f"{zp}/{k}", "rb").read() != open(f"{pw}/{k}", "rb").read()]
            rep.check(f"{name}: chunk files byte for byte zarr-python's",
                      None if not diff else f"{len(diff)} differ, e.g. {diff[0]}")
            back = zarr.open(pw, mode="r")
            rep.check(f"{name}: zarr-python reads pzarr's", None
                      if np.array_equal(back[:], want) else "values differ")
            # the CLI's codec string makes the same document
            cw = f"{work}/cli_{name}"
            r = pz.run(["create", cw, "--format", "2", "--dtype", np.dtype(dtype).name,
                        "--shape", ",".join(map(str, shape)),
                        "--chunks", ",".join(map(str, chunks)), "--codec", cstr])
            if r.rc == 0:
                c = json.load(open(f"{cw}/.zarray"))["compressor"]
                ref = comp.get_config()
                rep.check(f"{name}: --codec {cstr} is numcodecs' config",
                          None if numcodecs.get_codec(c).get_config() == ref else f"{c} vs {ref}")
            else:
                rep.fail(f"{name}: create --codec {cstr}", r.why())
            # 3. v3 zfp: the bare stream, header stripped
            v3 = f"{work}/v3_{name}"
            r = pz.run(["create", v3, "--dtype", np.dtype(dtype).name,
                        "--shape", ",".join(map(str, shape)),
                        "--chunks", ",".join(map(str, chunks)), "--codec", cstr])
            if r.rc == 0:
                r = pz.put(v3, a.astype(np.dtype(dtype).newbyteorder("=")).tobytes())
            if r.rc != 0:
                rep.fail(f"{name}: v3 zfp", r.why())
                continue
            doc = json.load(open(f"{v3}/zarr.json"))
            zc = doc["codecs"][0]
            rep.check(f"{name}: v3 document", None if zc["name"] == "zfp" and zc["configuration"]
                      ["mode"] == {"accuracy": "fixed_accuracy", "rate": "fixed_rate",
                                   "precision": "fixed_precision",
                                   "reversible": "reversible"}[mname] else json.dumps(zc))
            bad = []
            kwargs = {k: v for k, v in kw.items() if k != "mode" and v != -1}
            for cc in [(0, 0, 0), (2, 1, 1), (1, 0, 1)]:
                ref = zfpy.compress_numpy(chunk_of(a, chunks, cc, 0), write_header=False,
                                          **kwargs)
                bare = open(f"{v3}/c/{'/'.join(map(str, cc))}", "rb").read()
                if bytes(ref) != bare:
                    bad.append(f"{cc}: {len(bare)} bytes, zfpy's headerless stream {len(ref)}")
            rep.check(f"{name}: v3 zfp chunks byte for byte zfpy's headerless streams", None if not bad
                      else "; ".join(bad))

    # 4. fixed accuracy on real-looking data, through pzarr copy
    ck = f"{work}/ckpt"
    a = field((32, 40, 40), "<f8", 9)
    r = pz.run(["create", f"{ck}/temp", "--format", "2", "--dtype", "float64",
                "--shape", "32,40,40", "--chunks", "8,40,40", "--codec", "zstd:1",
                "--dims", "t,y,x"])
    src = f"{work}/ck.bin"
    a.tofile(src)
    if r.rc == 0:
        r = pz.run(["put", f"{ck}/temp", "-i", src, "-q"])
    for tol in (1e-3, 0.5):
        out = f"{work}/analysis_{tol}"
        r2 = pz.mpi(args.mpiexec, 2, ["copy", ck, out, "--codec", f"zfp:accuracy:{tol}",
                                      "--chunks", "32,10,10", "-q"]) if r.rc == 0 else r
        if r2.rc != 0:
            rep.fail(f"copy --codec zfp:accuracy:{tol}", r2.why())
            continue
        z = zarr.open_group(out, mode="r")["temp"]
        err = float(np.max(np.abs(z[:] - a)))
        rep.check(f"copy to zfp accuracy {tol}: max error {err:.3g} within the tolerance",
                  None if err <= tol else f"max error {err}")
        rep.check(f"copy to zfp accuracy {tol}: zfpy compressor, chunks 32,10,10",
                  None if isinstance(z.compressor, ZFPY) and z.chunks == (32, 10, 10)
                  else f"{z.compressor} {z.chunks}")
        stored = sum(os.path.getsize(f"{out}/temp/{f}") for f in os.listdir(f"{out}/temp")
                     if not f.startswith("."))
        rep.note(f"zfp accuracy {tol}: {a.nbytes} bytes stored in {stored} "
                 f"(ratio {a.nbytes / stored:.1f})")

    # 5. refusals
    r = pz.run(["create", f"{work}/i2", "--dtype", "int16", "--shape", "8",
                "--codec", "zfp:rate:8"])
    rep.check("int16 refused", None if r.rc != 0 and "zfp" in r.err else r.why())
    r = pz.run(["create", f"{work}/d5", "--dtype", "float32", "--shape", "2,2,2,2,2",
                "--chunks", "2,2,2,2,2", "--codec", "zfp:rate:8"])
    rep.check("5 dimensions refused", None if r.rc != 0 and "4 dimensions" in r.err else r.why())
    r = pz.run(["create", f"{work}/d5ok", "--dtype", "float32", "--shape", "2,1,2,1,3",
                "--chunks", "2,1,2,1,3", "--codec", "zfp:reversible"])
    if r.rc == 0:
        v = np.arange(12, dtype="<f4")
        r = pz.put(f"{work}/d5ok", v.tobytes())
        r = pz.get(f"{work}/d5ok") if r.rc == 0 else r
    rep.check("5 dimensions of which 3 longer than 1: reversible round trip",
              None if r.rc == 0 and np.array_equal(np.frombuffer(r.out, "<f4"), v) else r.why())
    zp = f"{work}/zp_accuracy_f8"
    with open(f"{zp}/0.0.0", "r+b") as f:
        data = f.read()
        f.seek(0)
        f.truncate()
        f.write(data[: len(data) // 3])
    r = pz.get(zp)
    rep.check("truncated zfpy chunk: an error naming it",
              None if r.rc == 1 and "0.0.0" in r.err and not r.crashed else r.why())
    with open(f"{zp}/1.0.0", "wb") as f:
        f.write(b"\x00garbage" * 5)
    r = pz.get(zp, "8:16,0:12,0:9")
    rep.check("garbage zfpy chunk: an error naming it",
              None if r.rc == 1 and "1.0.0" in r.err and not r.crashed else r.why())
    v3 = f"{work}/v3_rate_f8"
    with open(f"{v3}/c/0/0/0", "r+b") as f:
        data = f.read()
        f.seek(0)
        f.truncate()
        f.write(data[:10])
    r = pz.get(v3)
    rep.check("truncated v3 zfp chunk: an error naming it",
              None if r.rc == 1 and "c/0/0/0" in r.err and not r.crashed else r.why())
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
